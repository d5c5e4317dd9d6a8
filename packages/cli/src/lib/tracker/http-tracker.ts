/**
 * Announce and scrape over HTTP (BEP 3, BEP 23 compact peers, BEP 7 `peers6`, BEP 48 scrape), as
 * a client would, against any tracker. Replies are decoded with @otd/proto's bencode decoder.
 */
import { OT_ERR_FORBIDDEN, OT_ERR_TRACKER, OtctlError } from '../../errors.js'
import type { HttpClient } from '../http.js'
import type { AnnounceRequest, AnnounceResult, Peer, ScrapeEntry, ScrapeResult } from './types.js'
import { percentEncodeBytes, withQuery } from './url.js'

type Dict = Record<string, unknown>

function bytesOf (v: unknown): Buffer | null {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : null
}

function text (v: unknown): string | undefined {
  const b = bytesOf(v)
  return b === null ? undefined : b.toString('utf8')
}

function num (v: unknown): number | undefined {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined
}

/**
 * The 20 raw bytes of a `files` key. The bencode decoder turns dictionary keys into UTF-8 text,
 * or into hex when they are not valid UTF-8; a 20-byte hash is the one or the other, never both.
 */
function keyBytes (key: string): Buffer | null {
  const utf8 = Buffer.from(key, 'utf8')
  if (utf8.length === 20) return utf8
  if (/^[0-9a-f]{40}$/i.test(key)) return Buffer.from(key, 'hex')
  return null
}

/** IPv4 compact peers (6 bytes each) or IPv6 (18 bytes each). */
export async function decodeCompactPeers (b: Buffer, v6: boolean): Promise<Peer[]> {
  const { formatIPv4, formatIPv6 } = await import('@otd/proto')
  const size = v6 ? 18 : 6
  const peers: Peer[] = []
  for (let o = 0; o + size <= b.length; o += size) {
    const ip = v6 ? formatIPv6([b.readUInt32BE(o), b.readUInt32BE(o + 4), b.readUInt32BE(o + 8), b.readUInt32BE(o + 12)]) : formatIPv4(b.readUInt32BE(o))
    peers.push({ ip, port: b.readUInt16BE(o + size - 2) })
  }
  return peers
}

async function fetchBencoded (http: HttpClient, url: URL, what: string): Promise<Dict> {
  const res = await http.request(url, { headers: { 'user-agent': 'otctl' } })
  const body = await http.readAll(res, url)
  if (res.status === 403) throw new OtctlError(OT_ERR_FORBIDDEN, `${what}: ${url.origin} answered 403`, { status: 403 })
  if (res.status !== 200) throw new OtctlError(OT_ERR_TRACKER, `${what}: ${url.origin} answered HTTP ${res.status}: ${body.toString('utf8').trim().slice(0, 200)}`, { status: res.status })
  const { decodeBencode } = await import('@otd/proto')
  const d = decodeBencode(body)
  if (!d.ok || d.value === null || typeof d.value !== 'object' || Array.isArray(d.value) || d.value instanceof Uint8Array) {
    throw new OtctlError(OT_ERR_TRACKER, `${what}: the reply is not a bencoded dictionary${d.ok ? '' : ` (${d.error})`}: ${JSON.stringify(body.toString('latin1', 0, 80))}`)
  }
  const dict = d.value as Dict
  const failure = text(dict['failure reason'])
  if (failure !== undefined) throw new OtctlError(OT_ERR_TRACKER, `${what} refused: ${failure}`, { failure_reason: failure })
  return dict
}

const EVENT_PARAM: Record<AnnounceRequest['event'], string> = { none: '', completed: '&event=completed', started: '&event=started', stopped: '&event=stopped' }

export async function announceHttp (http: HttpClient, announceUrl: URL, r: AnnounceRequest): Promise<AnnounceResult> {
  const query = `info_hash=${percentEncodeBytes(r.infoHash)}&peer_id=${percentEncodeBytes(r.peerId)}&port=${r.port}` +
    `&uploaded=${r.uploaded}&downloaded=${r.downloaded}&left=${r.left}&compact=1&numwant=${r.numWant}&key=${r.key.toString(16).padStart(8, '0')}${EVENT_PARAM[r.event]}`
  const d = await fetchBencoded(http, withQuery(announceUrl, query), 'announce')
  const peers: Peer[] = []
  const p4 = d['peers']
  if (bytesOf(p4) !== null) peers.push(...await decodeCompactPeers(bytesOf(p4)!, false))
  else if (Array.isArray(p4)) {
    for (const p of p4 as Dict[]) {
      const ip = text(p['ip'])
      const port = num(p['port'])
      if (ip !== undefined && port !== undefined) peers.push({ ip, port })
    }
  }
  const p6 = bytesOf(d['peers6'])
  if (p6 !== null) peers.push(...await decodeCompactPeers(p6, true))
  const ext = bytesOf(d['external ip'])
  const result: AnnounceResult = {
    tracker: announceUrl.href,
    protocol: 'http',
    info_hash: r.infoHash.toString('hex'),
    interval: num(d['interval']) ?? 0,
    seeders: num(d['complete']) ?? 0,
    leechers: num(d['incomplete']) ?? 0,
    peers
  }
  const minInterval = num(d['min interval'])
  if (minInterval !== undefined) result.min_interval = minInterval
  const downloaded = num(d['downloaded'])
  if (downloaded !== undefined) result.downloaded = downloaded
  const warning = text(d['warning message'])
  if (warning !== undefined) result.warning = warning
  if (ext !== null && (ext.length === 4 || ext.length === 16)) {
    result.external_ip = (await decodeCompactPeers(Buffer.concat([ext, Buffer.alloc(2)]), ext.length === 16))[0]!.ip
  }
  return result
}

export async function scrapeHttp (http: HttpClient, scrapeUrl: URL, hashes: Buffer[]): Promise<ScrapeResult> {
  const query = hashes.map((h) => `info_hash=${percentEncodeBytes(h)}`).join('&')
  const d = await fetchBencoded(http, withQuery(scrapeUrl, query), 'scrape')
  const files = d['files']
  const byHex = new Map<string, ScrapeEntry>()
  if (files !== null && typeof files === 'object' && !Array.isArray(files)) {
    for (const [k, v] of Object.entries(files as Dict)) {
      const key = keyBytes(k)
      if (key === null || v === null || typeof v !== 'object') continue
      const e = v as Dict
      const hex = key.toString('hex')
      byHex.set(hex, { info_hash: hex, seeders: num(e['complete']) ?? 0, completed: num(e['downloaded']) ?? 0, leechers: num(e['incomplete']) ?? 0 })
    }
  }
  const wanted = hashes.map((h) => h.toString('hex'))
  return {
    tracker: scrapeUrl.href,
    protocol: 'http',
    files: wanted.filter((h) => byHex.has(h)).map((h) => byHex.get(h)!),
    missing: wanted.filter((h) => !byHex.has(h))
  }
}
