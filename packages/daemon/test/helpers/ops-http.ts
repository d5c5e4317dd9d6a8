// Raw HTTP for the operator routes (stats, metrics, full scrape, admin): one request per
// connection, optional source address (127.0.0.2 etc. for blessing tests), the whole reply read
// until the server closes, then parsed strictly (Content-Length or chunked framing, compression).

import assert from 'node:assert/strict'
import net from 'node:net'
import zlib from 'node:zlib'
import type { Endpoint } from './http-raw.js'

export interface OpsReply {
  /** Every byte received. */
  raw: Buffer
  statusLine: string
  status: number
  headers: Array<[string, string]>
  /** Bytes after the head, as sent (still chunk-framed and compressed). */
  wireBody: Buffer
  /** De-chunked (when chunked) and decompressed (per Content-Encoding) body. */
  body: Buffer
  /** Chunk sizes when chunked, else null. */
  chunks: number[] | null
}

export function hdr (r: OpsReply, name: string): string | undefined {
  return r.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1]
}

export interface SendOptions {
  localAddress?: string
  timeoutMs?: number
}

/** Connects, writes `request`, resolves with every byte received once the server closes. */
export function sendRaw (ep: Endpoint, request: string | Buffer, o: SendOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ep.address, port: ep.port, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) })
    const parts: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no complete reply within ${o.timeoutMs ?? 5000} ms; got ${JSON.stringify(Buffer.concat(parts).subarray(0, 300).toString('latin1'))}`))
    }, o.timeoutMs ?? 5000)
    socket.on('connect', () => socket.write(request))
    socket.on('data', (c: Buffer) => parts.push(c))
    socket.on('error', (err) => { clearTimeout(timer); reject(err) })
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(parts)) })
  })
}

/** Strict chunked decoding: lowercase hex sizes, CRLFs, the last chunk and nothing after it. */
export function dechunk (wire: Buffer): { body: Buffer, chunks: number[] } {
  const chunks: number[] = []
  const parts: Buffer[] = []
  let off = 0
  for (;;) {
    const eol = wire.indexOf('\r\n', off)
    assert.ok(eol > off, `chunk size line expected at ${off} of ${wire.length}`)
    const sizeText = wire.toString('latin1', off, eol)
    assert.match(sizeText, /^[0-9a-f]+$/, `chunk size ${JSON.stringify(sizeText)} is lowercase hex without extensions`)
    const size = parseInt(sizeText, 16)
    off = eol + 2
    if (size === 0) {
      assert.equal(wire.toString('latin1', off), '\r\n', 'the last chunk is followed by one CRLF and nothing else')
      return { body: Buffer.concat(parts), chunks }
    }
    assert.ok(off + size + 2 <= wire.length, `chunk of ${size} bytes at ${off} runs past the end (${wire.length})`)
    parts.push(wire.subarray(off, off + size))
    chunks.push(size)
    off += size
    assert.equal(wire.toString('latin1', off, off + 2), '\r\n', `CRLF after chunk data at ${off}`)
    off += 2
  }
}

export function decompress (data: Buffer, encoding: string | undefined): Buffer {
  if (encoding === undefined) return data
  if (encoding === 'gzip') return zlib.gunzipSync(data)
  if (encoding === 'zstd') return zlib.zstdDecompressSync(data)
  throw new Error(`unexpected Content-Encoding ${encoding}`)
}

/** Parses a complete reply (the connection has closed). */
export function parseOpsReply (raw: Buffer): OpsReply {
  const headEnd = raw.indexOf('\r\n\r\n')
  assert.ok(headEnd > 0, `no reply head in ${JSON.stringify(raw.subarray(0, 300).toString('latin1'))}`)
  const lines = raw.toString('latin1', 0, headEnd).split('\r\n')
  const statusLine = lines[0] ?? ''
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)
  assert.ok(m, `status line ${JSON.stringify(statusLine)}`)
  const headers: Array<[string, string]> = lines.slice(1).map((l) => {
    const c = l.indexOf(':')
    assert.ok(c > 0, `header line ${JSON.stringify(l)}`)
    return [l.slice(0, c), l.slice(c + 1).trim()]
  })
  const wireBody = raw.subarray(headEnd + 4)
  const r: OpsReply = { raw, statusLine, status: Number(m[1]), headers, wireBody, body: wireBody, chunks: null }
  const cl = hdr(r, 'content-length')
  const te = hdr(r, 'transfer-encoding')
  let body = wireBody
  if (te !== undefined) {
    assert.equal(te, 'chunked')
    assert.equal(cl, undefined, 'no Content-Length with chunked framing')
    const d = dechunk(wireBody)
    body = d.body
    r.chunks = d.chunks
  } else if (cl !== undefined) {
    assert.equal(wireBody.length, Number(cl), 'Content-Length matches the body')
  }
  r.body = decompress(body, hdr(r, 'content-encoding'))
  return r
}

/** One request on a fresh connection; the reply is read until the server closes. */
export async function request (ep: Endpoint, target: string, o: SendOptions & { http11?: boolean, headers?: string[] } = {}): Promise<OpsReply> {
  const version = o.http11 === true ? 'HTTP/1.1' : 'HTTP/1.0'
  const extra = [...(o.headers ?? []), ...(o.http11 === true ? ['Connection: close'] : [])]
  const req = `GET ${target} ${version}\r\n${extra.map((h) => h + '\r\n').join('')}\r\n`
  return parseOpsReply(await sendRaw(ep, req, o))
}

/** GET target, asserting a 200 text reply; returns the body text. */
export async function getText (ep: Endpoint, target: string, o: SendOptions = {}): Promise<string> {
  const r = await request(ep, target, o)
  assert.equal(r.status, 200, `${target}: ${r.raw.subarray(0, 300).toString('latin1')}`)
  return r.body.toString('utf8')
}

// ---- full scrape bodies ----

export interface ScrapeRow { hash: Buffer, complete: number, downloaded: number, incomplete: number }

/** Decodes a bencoded full scrape `d5:filesd(20:<hash>d8:completei..e10:downloadedi..e10:incompletei..ee)*ee`, strictly. */
export function parseBenFullScrape (body: Buffer): ScrapeRow[] {
  const text = body.toString('latin1')
  assert.ok(text.startsWith('d5:filesd') && text.endsWith('ee'), `full scrape framing: ${JSON.stringify(text.slice(0, 60))}…${JSON.stringify(text.slice(-20))}`)
  const rows: ScrapeRow[] = []
  let off = 9
  const re = /^d8:completei(0|[1-9]\d*)e10:downloadedi(0|[1-9]\d*)e10:incompletei(0|[1-9]\d*)ee/
  while (off < text.length - 2) {
    assert.equal(text.slice(off, off + 3), '20:', `entry key length at ${off}`)
    const hash = body.subarray(off + 3, off + 23)
    off += 23
    const m = re.exec(text.slice(off, off + 120))
    assert.ok(m, `entry dict at ${off}: ${JSON.stringify(text.slice(off, off + 80))}`)
    rows.push({ hash: Buffer.from(hash), complete: Number(m[1]), downloaded: Number(m[2]), incomplete: Number(m[3]) })
    off += m[0].length
  }
  assert.equal(off, text.length - 2, 'the body ends right after the last entry')
  return rows
}

export function assertSortedUnique (hashes: Buffer[]): void {
  for (let i = 1; i < hashes.length; i++) {
    assert.ok(Buffer.compare(hashes[i - 1]!, hashes[i]!) < 0, `hash #${i} is not in ascending byte order`)
  }
}
