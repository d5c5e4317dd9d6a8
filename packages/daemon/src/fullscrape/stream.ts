/**
 * Full scrapes (reference §7): every torrent's counts in one of opentracker's formats, sorted by
 * info_hash, optionally compressed with gzip or zstd (node:zlib), streamed to the client.
 *
 * Memory stays flat however many torrents there are: torrent ids are snapshotted into 256 buckets
 * by first byte (the only per-torrent allocation: one array slot), each bucket is sorted when its
 * turn comes, and records are written into 64 KiB buffers that are handed to a stream pipeline.
 * The pipeline's back-pressure stops production when the client (or the compressor) does not
 * keep up, so a slow reader never makes the daemon buffer the scrape, and the producer yields to
 * the event loop every few thousand records, so announces keep being answered meanwhile. A
 * torrent removed while the scrape runs is skipped; counts are those at the moment of writing.
 *
 * Framing: HTTP/1.1 clients get chunked transfer encoding like opentracker V2024; HTTP/1.0
 * clients get a close-delimited body (opentracker sends them chunks they cannot parse). The
 * connection closes after the scrape either way.
 */
import type net from 'node:net'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import zlib from 'node:zlib'
import {
  ENCODING_GZIP, ENCODING_ZSTD, FULL_SCRAPE_RECORD_BOUND, SCRAPE_FORMAT_BEN, SCRAPE_FORMAT_BIN, SCRAPE_FORMAT_STATEDUMP,
  fullScrapeHead, fullScrapeTail, writeFullScrapeRecord
} from '@otd/proto'
import type { Counters } from '../counters.js'
import type { SwarmStore } from '../swarm/store.js'

export interface FullScrapeRequest {
  /** A SCRAPE_FORMAT_* of proto. */
  format: number
  /** JSON instead of the format's own encoding (`format=json` on the stats path). */
  json: boolean
  /** An ENCODING_* of proto, chosen from Accept-Encoding. */
  encoding: number
  /** Whether the client speaks HTTP/1.1 (chunked framing) or 1.0 (close-delimited). */
  http11: boolean
}

const BUFFER_BYTES = 64 * 1024
/** Records between two yields to the event loop. */
const RECORDS_PER_TURN = 2048
/** Keys snapshotted per turn. */
const KEYS_PER_TURN = 50_000

function contentType (r: FullScrapeRequest): string {
  if (r.json) return 'application/json'
  return r.format === SCRAPE_FORMAT_BEN || r.format === SCRAPE_FORMAT_BIN ? 'application/octet-stream' : 'text/plain'
}

export function fullScrapeResponseHead (r: FullScrapeRequest): Buffer {
  const enc = r.encoding === ENCODING_ZSTD ? 'Content-Encoding: zstd\r\n' : r.encoding === ENCODING_GZIP ? 'Content-Encoding: gzip\r\n' : ''
  const framing = r.http11 ? 'Transfer-Encoding: chunked\r\n' : ''
  return Buffer.from(`HTTP/1.${r.http11 ? 1 : 0} 200 OK\r\nContent-Type: ${contentType(r)}\r\n${enc}Vary: Accept-Encoding\r\n${framing}Connection: close\r\n\r\n`, 'latin1')
}

/**
 * Snapshot of the store's torrent ids in 256 buckets by the first byte of their info_hash (4 bytes
 * per torrent; sorted lazily, bucket by bucket).
 */
async function snapshotIds (store: SwarmStore): Promise<number[][]> {
  const buckets: number[][] = Array.from({ length: 256 }, () => [])
  let n = 0
  for (let id = store.next(0); id >= 0; id = store.next(id + 1)) {
    buckets[store.keyByte(id, 0)]!.push(id)
    if (++n % KEYS_PER_TURN === 0) await yieldToLoop()
  }
  return buckets
}

/**
 * A bucket's ids still in the store and still in this bucket, sorted by info_hash. Ids of torrents
 * dropped since the snapshot may have been reused by new torrents: those are kept when their hash
 * falls in the same bucket (they are live torrents, and the sort uses current keys), so the
 * output stays sorted and holds no torrent twice.
 */
function liveSorted (store: SwarmStore, bucket: number[], first: number): number[] {
  let kept = 0
  for (const id of bucket) if (store.isLive(id) && store.keyByte(id, 0) === first) bucket[kept++] = id
  bucket.length = kept
  return bucket.sort((a, b) => store.compareKeys(a, b))
}

function jsonRecord (r: FullScrapeRequest, hash: Buffer, store: SwarmStore, t: number, first: boolean): string {
  const hex = hash.toString('hex')
  const sep = first ? '' : ','
  if (r.format === SCRAPE_FORMAT_STATEDUMP) {
    return `${sep}\n{"info_hash":"${hex}","base_minute":${Math.floor(store.lastActive(t) / 60)},"downloaded":${store.downloaded(t)}}`
  }
  const s = store.seedersOf(t)
  return `${sep}\n"${hex}":{"complete":${s},"downloaded":${store.downloaded(t)},"incomplete":${store.peersOf(t) - s}}`
}

/** The uncompressed body, as a sequence of buffers of at most 64 KiB. */
export async function * fullScrapeBody (store: SwarmStore, r: FullScrapeRequest): AsyncGenerator<Buffer> {
  const buckets = await snapshotIds(store)
  const isStateDump = r.format === SCRAPE_FORMAT_STATEDUMP
  if (r.json) yield Buffer.from(isStateDump ? '{"torrents":[' : '{"files":{')
  else {
    const head = fullScrapeHead(r.format)
    if (head.length > 0) yield head
  }
  let buf = Buffer.allocUnsafe(BUFFER_BYTES)
  const hash = Buffer.allocUnsafe(20)
  let off = 0
  let records = 0
  let first = true
  const prev = Buffer.alloc(20)
  for (let byte = 0; byte < 256; byte++) {
    const bucket = buckets[byte]!
    if (bucket.length === 0) continue
    for (const t of liveSorted(store, bucket, byte)) {
      // The producer yields between records: skip torrents dropped since, and reused ids whose
      // new hash would break the order.
      if (!store.isLive(t)) continue
      store.copyKey(t, hash, 0)
      if (!first && hash.compare(prev) <= 0) continue
      hash.copy(prev)
      if (off + FULL_SCRAPE_RECORD_BOUND + 256 > BUFFER_BYTES) {
        yield buf.subarray(0, off)
        buf = Buffer.allocUnsafe(BUFFER_BYTES)
        off = 0
      }
      if (r.json) {
        off += buf.write(jsonRecord(r, hash, store, t, first), off, 'latin1')
      } else {
        const s = store.seedersOf(t)
        off = writeFullScrapeRecord(r.format, buf, off, hash, 0, s, store.peersOf(t) - s, store.downloaded(t), Math.floor(store.lastActive(t) / 60))
      }
      first = false
      if (++records % RECORDS_PER_TURN === 0) await yieldToLoop()
    }
    bucket.length = 0
  }
  if (off > 0) yield buf.subarray(0, off)
  if (r.json) yield Buffer.from(isStateDump ? '\n]}\n' : '\n}}\n')
  else {
    const tail = fullScrapeTail(r.format)
    if (tail.length > 0) yield tail
  }
}

/** HTTP/1.1 chunked framing (lowercase hex sizes, like opentracker), counting bytes. */
class Chunker extends Transform {
  bytes = 0
  constructor (private readonly chunked: boolean) { super() }
  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (chunk.length === 0) { done(); return }
    this.bytes += chunk.length
    if (this.chunked) {
      this.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'))
      this.push(chunk)
      this.push(CRLF)
    } else {
      this.push(chunk)
    }
    done()
  }

  override _flush (done: TransformCallback): void {
    if (this.chunked) this.push(LAST_CHUNK)
    done()
  }
}

const CRLF = Buffer.from('\r\n')
const LAST_CHUNK = Buffer.from('0\r\n\r\n')

function compressor (encoding: number): Transform | null {
  if (encoding === ENCODING_GZIP) return zlib.createGzip({ level: 7, memLevel: 9 })
  if (encoding === ENCODING_ZSTD) return zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: 6 } })
  return null
}

/**
 * Writes the whole response (head and body) to `socket` and ends it. Resolves when done; rejects
 * when the client went away or the socket failed (the socket is destroyed then).
 */
export async function streamFullScrape (socket: net.Socket, store: SwarmStore, r: FullScrapeRequest, counters: Counters): Promise<void> {
  counters.fullScrapes++
  const head = fullScrapeResponseHead(r)
  socket.write(head)
  const chunker = new Chunker(r.http11)
  const z = compressor(r.encoding)
  const source = Readable.from(fullScrapeBody(store, r), { objectMode: false, highWaterMark: BUFFER_BYTES })
  try {
    if (z === null) await pipeline(source, chunker, socket)
    else await pipeline(source, z, chunker, socket)
  } finally {
    counters.fullScrapeBytes += chunker.bytes
    counters.httpBytesOut += head.length + chunker.bytes
  }
}
