/**
 * The warm-restart state file (`tracker.statefile`): every torrent's counts and live peers, so a
 * restarted tracker answers with full swarms at once instead of empty ones for half an hour.
 * opentracker's statedump (statedump.ts) keeps only counts.
 *
 * Layout, little-endian:
 *   header   "OTDSTATE" | u32 version (1) | u32 saved-at (seconds since the epoch)
 *   records  per torrent: 20-byte info_hash | u32 downloaded | u32 last active (seconds)
 *            | u32 IPv4 peers | u32 IPv6 peers | peer words as stored (3 per IPv4, 6 per IPv6:
 *            address words, port, flags << 24 | seconds mod 2^24)
 *   trailer  u32 torrents | u32 peers | u64 record bytes | u32 CRC-32 of header and records | "OTDEND\0\0"
 * A file that is shorter or longer than its trailer says, has a wrong checksum or a record that
 * runs past the end is refused as a whole: the daemon then starts empty rather than half-loaded.
 * Files are written with an atomic rename (fs-atomic.ts), so a crash leaves the previous file.
 * The encoder hands over 1 MiB chunks and the tracker keeps serving while each is written: a
 * record's counts are read only when nothing can yield before its last word, so a torrent that
 * changed in the meantime is saved as it is then, never with old counts and new peers.
 */
import { readFileSync } from 'node:fs'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import zlib from 'node:zlib'
import { writeFileAtomic } from '../fs-atomic.js'
import { STRIDE_V4, STRIDE_V6, TIME_MASK } from '../swarm/peer-list.js'
import type { SwarmStore } from '../swarm/store.js'

const MAGIC = Buffer.from('OTDSTATE', 'latin1')
const END = Buffer.from('OTDEND\0\0', 'latin1')
const VERSION = 1
const HEADER_BYTES = 16
const TRAILER_BYTES = 28
const RECORD_HEAD_BYTES = 36
const CHUNK_BYTES = 1 << 20

export interface StateSaveReport { torrents: number, peers: number, bytes: number, ms: number }
export interface StateLoadReport { torrents: number, peers: number, skippedTorrents: number, expiredTorrents: number, expiredPeers: number, savedAt: number }

export class StateFileError extends Error {}

/**
 * The torrent records of `store` (no header or trailer), in chunks of about 1 MiB that each hold
 * whole records. With `--workers` every worker produces its shard's records and one writer frames
 * them all ({@link frameState}).
 */
export async function * encodeStateRecords (store: SwarmStore): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(CHUNK_BYTES)
  let off = 0
  let sinceYield = 0
  const recordSize = (t: number): number =>
    RECORD_HEAD_BYTES + (store.countOf(t, 4) * STRIDE_V4 + store.countOf(t, 6) * STRIDE_V6) * 4
  for (let t = store.next(0); t >= 0; t = store.next(t + 1)) {
    let size = recordSize(t)
    if (off + size > buf.length) {
      if (off > 0) {
        yield buf.subarray(0, off)
        buf = Buffer.allocUnsafe(CHUNK_BYTES)
        off = 0
        // The tracker served requests while that chunk was written: this torrent may have changed.
        size = recordSize(t)
      }
      if (size > buf.length) buf = Buffer.allocUnsafe(size)
    }
    // From here to the end of the record nothing yields: counts and peer words agree. The
    // torrent may have been dropped (and its id reused) while the chunk was written: skip it then.
    if (!store.isLive(t)) continue
    const n4 = store.countOf(t, 4)
    const n6 = store.countOf(t, 6)
    store.copyKey(t, buf, off)
    buf.writeUInt32LE(store.downloaded(t) >>> 0, off + 20)
    buf.writeUInt32LE(store.lastActive(t) >>> 0, off + 24)
    buf.writeUInt32LE(n4, off + 28)
    buf.writeUInt32LE(n6, off + 32)
    off += RECORD_HEAD_BYTES
    for (let family = 4; family <= 6; family += 2) {
      const count = store.open(t, family)
      if (count === 0) continue
      const w = store.listWords
      const b = store.listBase
      const n = count * (family === 4 ? STRIDE_V4 : STRIDE_V6)
      for (let i = 0; i < n; i++) { buf.writeUInt32LE(w[b + i]!, off); off += 4 }
    }
    if (++sinceYield === 4096) { sinceYield = 0; await yieldToLoop() }
  }
  if (off > 0) yield buf.subarray(0, off)
}

/** Counts of a framed state: filled in as {@link frameState} passes the records. */
export interface StateCounts { torrents: number, peers: number, bytes: number }

/** Header, the given record chunks (whole records each), trailer: a state file's bytes. */
export async function * frameState (records: AsyncIterable<Buffer>, now: number, counts: StateCounts = { torrents: 0, peers: 0, bytes: 0 }): AsyncGenerator<Buffer> {
  const head = Buffer.alloc(HEADER_BYTES)
  MAGIC.copy(head, 0)
  head.writeUInt32LE(VERSION, 8)
  head.writeUInt32LE(now >>> 0, 12)
  let crc = zlib.crc32(head)
  yield head
  let recordBytes = 0
  for await (const chunk of records) {
    for (let off = 0; off + RECORD_HEAD_BYTES <= chunk.length;) {
      const n4 = chunk.readUInt32LE(off + 28)
      const n6 = chunk.readUInt32LE(off + 32)
      counts.torrents++
      counts.peers += n4 + n6
      off += RECORD_HEAD_BYTES + (n4 * STRIDE_V4 + n6 * STRIDE_V6) * 4
    }
    crc = zlib.crc32(chunk, crc)
    recordBytes += chunk.length
    yield chunk
  }
  const tail = Buffer.alloc(TRAILER_BYTES)
  tail.writeUInt32LE(counts.torrents, 0)
  tail.writeUInt32LE(counts.peers, 4)
  tail.writeBigUInt64LE(BigInt(recordBytes), 8)
  tail.writeUInt32LE(crc >>> 0, 16)
  END.copy(tail, 20)
  counts.bytes = HEADER_BYTES + recordBytes + TRAILER_BYTES
  yield tail
}

/** The state of `store` as a sequence of buffers (header, records in 1 MiB chunks, trailer). */
export function encodeState (store: SwarmStore, now: number): AsyncGenerator<Buffer> {
  return frameState(encodeStateRecords(store), now)
}

/** Writes the state file atomically. */
export async function saveState (path: string, store: SwarmStore, now: number): Promise<StateSaveReport> {
  return await saveStateRecords(path, encodeStateRecords(store), now)
}

/** Writes a state file of the given record chunks atomically (with `--workers`: every shard's). */
export async function saveStateRecords (path: string, records: AsyncIterable<Buffer>, now: number): Promise<StateSaveReport> {
  const started = Date.now()
  const counts: StateCounts = { torrents: 0, peers: 0, bytes: 0 }
  const bytes = await writeFileAtomic(path, frameState(records, now, counts), 0o600)
  return { torrents: counts.torrents, peers: counts.peers, bytes, ms: Date.now() - started }
}

/** Checks a state file's framing and checksum; throws StateFileError naming what is wrong. */
export function verifyState (data: Buffer): { torrents: number, peers: number, savedAt: number } {
  if (data.length < HEADER_BYTES + TRAILER_BYTES) throw new StateFileError(`too short (${data.length} bytes): truncated or not a state file`)
  if (!data.subarray(0, 8).equals(MAGIC)) throw new StateFileError('not an otd state file (bad magic)')
  const version = data.readUInt32LE(8)
  if (version !== VERSION) throw new StateFileError(`unsupported state file version ${version}`)
  const t = data.length - TRAILER_BYTES
  if (!data.subarray(t + 20, t + 28).equals(END)) throw new StateFileError('truncated (no end marker)')
  const recordBytes = data.readBigUInt64LE(t + 8)
  if (recordBytes !== BigInt(t - HEADER_BYTES)) throw new StateFileError(`length mismatch: trailer says ${recordBytes} record bytes, file has ${t - HEADER_BYTES}`)
  const crc = zlib.crc32(data.subarray(0, t))
  if (crc !== data.readUInt32LE(t + 16)) throw new StateFileError('checksum mismatch: the file is corrupt')
  return { torrents: data.readUInt32LE(t), peers: data.readUInt32LE(t + 4), savedAt: data.readUInt32LE(12) }
}

/**
 * Loads a state file into `store` (merging with what is there). Peers older than the peer
 * timeout and torrents the access lists refuse are skipped. Verification comes first and is
 * all-or-nothing; throws StateFileError (or the read error) without touching the store.
 */
export function loadStateFile (path: string, store: SwarmStore, now: number, peerTimeoutSeconds: number,
  allows: (key: string) => boolean, owns: ((key: string) => boolean) | null = null): StateLoadReport {
  return loadStateBuffer(readFileSync(path), store, now, peerTimeoutSeconds, allows, owns)
}

/**
 * Seconds from a peer's 24-bit time to `nowMasked`, 0 when the peer's time is (slightly) later:
 * with `--workers` each worker stamps its peers with its own clock, which may be a second ahead
 * of the clock of the worker that writes the file.
 */
function ageOf (nowMasked: number, word: number): number {
  const d = (nowMasked - word) & TIME_MASK
  return d >= HALF_TIME_RING ? 0 : d
}
const HALF_TIME_RING = (TIME_MASK + 1) / 2

export function isStateFile (data: Buffer): boolean {
  return data.length >= 8 && data.subarray(0, 8).equals(MAGIC)
}

/** One torrent of a state file, decoded: its peer words as stored (3 per IPv4, 6 per IPv6 peer). */
export interface StateRecord { key: string, downloaded: number, lastActive: number, words: Uint32Array, n4: number, n6: number }

/**
 * Verifies and decodes a whole state file without touching any store: the saved-at time and every
 * record. All-or-nothing like loading: throws StateFileError when anything is wrong. Also what
 * the fault tests read a file with to know what a restart must bring back.
 */
export function decodeState (data: Buffer): { savedAt: number, torrents: number, peers: number, records: StateRecord[] } {
  const meta = verifyState(data)
  const end = data.length - TRAILER_BYTES
  // Decode everything before applying anything: a record running past the end refuses the file.
  const records: StateRecord[] = []
  let off = HEADER_BYTES
  let peerTotal = 0
  while (off < end) {
    if (off + RECORD_HEAD_BYTES > end) throw new StateFileError(`record at byte ${off} is truncated`)
    const n4 = data.readUInt32LE(off + 28)
    const n6 = data.readUInt32LE(off + 32)
    const wordCount = n4 * STRIDE_V4 + n6 * STRIDE_V6
    const next = off + RECORD_HEAD_BYTES + wordCount * 4
    if (next > end) throw new StateFileError(`record at byte ${off} runs past the end`)
    const words = new Uint32Array(wordCount)
    for (let i = 0, p = off + RECORD_HEAD_BYTES; i < wordCount; i++, p += 4) words[i] = data.readUInt32LE(p)
    records.push({ key: data.toString('latin1', off, off + 20), downloaded: data.readUInt32LE(off + 20), lastActive: data.readUInt32LE(off + 24), words, n4, n6 })
    peerTotal += n4 + n6
    off = next
  }
  if (records.length !== meta.torrents || peerTotal !== meta.peers) throw new StateFileError('trailer counts do not match the records')
  return { ...meta, records }
}

/**
 * `owns` (with `--workers`): the torrents this store holds; the others are skipped without being
 * counted (their owner loads them from the same file).
 */
export function loadStateBuffer (data: Buffer, store: SwarmStore, now: number, peerTimeoutSeconds: number,
  allows: (key: string) => boolean, owns: ((key: string) => boolean) | null = null): StateLoadReport {
  const { savedAt, records } = decodeState(data)
  const report: StateLoadReport = { torrents: 0, peers: 0, skippedTorrents: 0, expiredTorrents: 0, expiredPeers: 0, savedAt }
  // Torrents the cleaner would drop at once (idle past the torrent timeout) are not restored.
  const torrentExpiry = store.limits.torrentTimeoutSeconds + store.limits.peerTimeoutSeconds
  const nowMasked = now & TIME_MASK
  // Peer times are stored modulo 2^24 s: also check each peer's age at the save plus the time since
  // then, so a file older than 2^24 s does not make its peers look fresh again.
  const sinceSave = now - savedAt
  const savedMasked = savedAt & TIME_MASK
  for (const r of records) {
    if (owns !== null && !owns(r.key)) continue
    if (!allows(r.key)) { report.skippedTorrents++; continue }
    if (now - r.lastActive >= torrentExpiry) { report.expiredTorrents++; report.expiredPeers += r.n4 + r.n6; continue }
    const t = store.restoreTorrentKey(r.key, r.lastActive, r.downloaded)
    report.torrents++
    let at = 0
    for (const [family, n, s] of [[4, r.n4, STRIDE_V4], [6, r.n6, STRIDE_V6]] as const) {
      for (let i = 0; i < n; i++, at += s) {
        const word = r.words[at + s - 1]!
        const age = ageOf(nowMasked, word)
        if (age >= peerTimeoutSeconds || sinceSave + ageOf(savedMasked, word) >= peerTimeoutSeconds) { report.expiredPeers++; continue }
        if (store.restorePeer(t, family, r.words, at)) report.peers++
      }
    }
  }
  return report
}
