/**
 * Full scrapes (reference §7): every torrent's counts in one of opentracker's formats, sorted by
 * info_hash, optionally compressed with gzip or zstd (node:zlib), streamed to the client.
 *
 * Memory stays flat however many torrents there are: torrent ids are snapshotted into 256 buckets
 * by first byte (the only per-torrent allocation: one array slot), each bucket is sorted when its
 * turn comes, its torrents' counts are read into 64 KiB batches of scrape records
 * ({@link scrapeRecords}; with `--workers`, one sorted stream per worker, merged), and those are
 * encoded into 64 KiB buffers that are handed to a stream pipeline.
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
/** Torrent ids snapshotted per turn. */
const IDS_PER_TURN = 50_000

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
    if (++n % IDS_PER_TURN === 0) await yieldToLoop()
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

/**
 * Scrape records, the format-independent form between the store and the encoder (and between
 * workers, which each produce their shard's records; {@link mergeScrapeRecords} joins them):
 *   20-byte info_hash | u32 seeders | u32 leechers | f64 downloaded | u32 last active (seconds), little-endian
 */
export const SCRAPE_RECORD_BYTES = 40
const RECORDS_PER_BATCH = Math.floor(BUFFER_BYTES / SCRAPE_RECORD_BYTES)

/** The store's torrents as scrape records sorted by info_hash, in batches of at most 64 KiB. */
export async function * scrapeRecords (store: SwarmStore): AsyncGenerator<Buffer> {
  const buckets = await snapshotIds(store)
  let batch = Buffer.allocUnsafe(RECORDS_PER_BATCH * SCRAPE_RECORD_BYTES)
  let off = 0
  const prev = Buffer.alloc(20)
  let first = true
  for (let byte = 0; byte < 256; byte++) {
    const bucket = buckets[byte]!
    if (bucket.length === 0) continue
    for (const t of liveSorted(store, bucket, byte)) {
      // The generator pauses between batches: skip torrents dropped since, and reused ids whose
      // new hash would break the order.
      if (!store.isLive(t)) continue
      store.copyKey(t, batch, off)
      if (!first && prev.compare(batch, off, off + 20) >= 0) continue
      batch.copy(prev, 0, off, off + 20)
      first = false
      const s = store.seedersOf(t)
      batch.writeUInt32LE(s, off + 20)
      batch.writeUInt32LE(store.peersOf(t) - s, off + 24)
      batch.writeDoubleLE(store.downloaded(t), off + 28)
      batch.writeUInt32LE(store.lastActive(t) >>> 0, off + 36)
      off += SCRAPE_RECORD_BYTES
      if (off === batch.length) {
        yield batch
        batch = Buffer.allocUnsafe(RECORDS_PER_BATCH * SCRAPE_RECORD_BYTES)
        off = 0
      }
    }
    bucket.length = 0
  }
  if (off > 0) yield batch.subarray(0, off)
}

/** Orders the records at `a[i]` and `b[j]` by info_hash. */
function compareRecords (a: Buffer, i: number, b: Buffer, j: number): number {
  const d = a[i]! - b[j]!
  return d !== 0 ? d : a.compare(b, j, j + 20, i, i + 20)
}

/**
 * Merges sorted record streams (one per worker) into one sorted stream. Shards own whole
 * first-byte buckets (workers/shard.ts), so the output is long runs from one stream; they are
 * handed on as slices of the input batches, not copied.
 */
export async function * mergeScrapeRecords (streams: Array<AsyncIterable<Buffer>>): AsyncGenerator<Buffer> {
  const its = streams.map((s) => s[Symbol.asyncIterator]())
  const bufs: Array<Buffer | null> = []
  const pos: number[] = []
  for (const it of its) {
    const r = await it.next()
    bufs.push(r.done === true ? null : r.value)
    pos.push(0)
  }
  for (;;) {
    // The stream with the smallest head, and the smallest head of the others (the run's bound).
    let best = -1
    let second = -1
    for (let k = 0; k < bufs.length; k++) {
      const b = bufs[k]
      if (b === null || b === undefined) continue
      if (best < 0 || compareRecords(b, pos[k]!, bufs[best]!, pos[best]!) < 0) { second = best; best = k } else if (second < 0 || compareRecords(b, pos[k]!, bufs[second]!, pos[second]!) < 0) second = k
    }
    if (best < 0) return
    const b = bufs[best]!
    const start = pos[best]!
    let end = start
    if (second < 0) {
      end = b.length
    } else {
      const o = bufs[second]!
      const op = pos[second]!
      while (end < b.length && compareRecords(b, end, o, op) < 0) end += SCRAPE_RECORD_BYTES
    }
    yield b.subarray(start, end)
    if (end < b.length) {
      pos[best] = end
    } else {
      const r = await its[best]!.next()
      bufs[best] = r.done === true ? null : r.value
      pos[best] = 0
    }
  }
}

function jsonRecord (r: FullScrapeRequest, rec: Buffer, p: number, first: boolean): string {
  const hex = rec.toString('hex', p, p + 20)
  const sep = first ? '' : ','
  if (r.format === SCRAPE_FORMAT_STATEDUMP) {
    return `${sep}\n{"info_hash":"${hex}","base_minute":${Math.floor(rec.readUInt32LE(p + 36) / 60)},"downloaded":${rec.readDoubleLE(p + 28)}}`
  }
  return `${sep}\n"${hex}":{"complete":${rec.readUInt32LE(p + 20)},"downloaded":${rec.readDoubleLE(p + 28)},"incomplete":${rec.readUInt32LE(p + 24)}}`
}

/**
 * The uncompressed body for sorted scrape `records` (a store's: {@link scrapeRecords}), as a
 * sequence of buffers of at most 64 KiB.
 */
export async function * fullScrapeBody (records: AsyncIterable<Buffer>, r: FullScrapeRequest): AsyncGenerator<Buffer> {
  const isStateDump = r.format === SCRAPE_FORMAT_STATEDUMP
  if (r.json) yield Buffer.from(isStateDump ? '{"torrents":[' : '{"files":{')
  else {
    const head = fullScrapeHead(r.format)
    if (head.length > 0) yield head
  }
  let buf = Buffer.allocUnsafe(BUFFER_BYTES)
  let off = 0
  let count = 0
  let first = true
  for await (const batch of records) {
    for (let p = 0; p < batch.length; p += SCRAPE_RECORD_BYTES) {
      if (off + FULL_SCRAPE_RECORD_BOUND + 256 > BUFFER_BYTES) {
        yield buf.subarray(0, off)
        buf = Buffer.allocUnsafe(BUFFER_BYTES)
        off = 0
      }
      if (r.json) {
        off += buf.write(jsonRecord(r, batch, p, first), off, 'latin1')
      } else {
        off = writeFullScrapeRecord(r.format, buf, off, batch, p, batch.readUInt32LE(p + 20), batch.readUInt32LE(p + 24),
          batch.readDoubleLE(p + 28), Math.floor(batch.readUInt32LE(p + 36) / 60))
      }
      first = false
      if (++count % RECORDS_PER_TURN === 0) await yieldToLoop()
    }
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
export async function streamFullScrape (socket: net.Socket, records: AsyncIterable<Buffer>, r: FullScrapeRequest, counters: Counters): Promise<void> {
  counters.fullScrapes++
  const head = fullScrapeResponseHead(r)
  socket.write(head)
  const chunker = new Chunker(r.http11)
  const z = compressor(r.encoding)
  const source = Readable.from(fullScrapeBody(records, r), { objectMode: false, highWaterMark: BUFFER_BYTES })
  try {
    if (z === null) await pipeline(source, chunker, socket)
    else await pipeline(source, z, chunker, socket)
  } finally {
    counters.fullScrapeBytes += chunker.bytes
    counters.httpBytesOut += head.length + chunker.bytes
  }
}
