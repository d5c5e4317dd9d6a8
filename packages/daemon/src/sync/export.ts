/**
 * `GET /sync`: this node's own recent peers as a changeset (proto sync/changeset.ts).
 *
 * "Own" means not learned from another node (no FROM_SYNC), so a peer is exported only by the
 * node it announced to, and nodes never echo each other. "Recent" means announced within the
 * window (default 5 minutes, opentracker's batch sync); stops within the window are exported as
 * STOPPED records, unless the peer announced again since.
 *
 * There is no per-announce bookkeeping: the export scans the peer lists, reading each peer's
 * stored time and flags, which keeps the announce path exactly as it is. The scan runs in slices
 * of {@link EXPORT_SLICE_TORRENTS} torrents between which the event loop serves announces.
 * Measured on Node 24 (1M peers in 100k torrents, a sixth of them recent, loaded 2-core VM):
 * 20-35 ms of scanning in 25 slices of 1-8 ms, then 6-12 ms to sort and copy out 170k records;
 * a full-window export (1M records, catch-up rounds only) needs ~65 ms for that last step.
 * Records are written per family into growing buffers; at the end the torrents are sorted by
 * hash (valid bencode) and copied out once.
 */
import {
  CHANGESET_MIN_BYTES, SYNC_FLAG_STOPPED, changesetTorrentBound, writeChangesetEnd, writeChangesetSection6,
  writeChangesetStart, writeChangesetTorrent
} from '@otd/proto'
import { FLAG_COMPLETED, FLAG_FROM_SYNC, FLAG_SEEDING, STRIDE_V4, STRIDE_V6, TIME_MASK } from '../swarm/peer-list.js'
import type { SwarmStore } from '../swarm/store.js'
import type { StopLog } from './stop-log.js'

/** Torrents scanned per slice of an asynchronous export. */
export const EXPORT_SLICE_TORRENTS = 4096

/** A growing byte buffer for one family's records. */
class RecordSink {
  buf = Buffer.allocUnsafe(4096)
  length = 0
  ensure (n: number): void {
    if (this.length + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + n) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.buf.copy(grown, 0, 0, this.length)
    this.buf = grown
  }

  /** Appends a record: ip words (1 or 4), port, flags, age; big-endian bytes, no bounds checks beyond ensure(). */
  record (w: ArrayLike<number>, at: number, ipWords: number, port: number, flags: number, ageMinutes: number): void {
    this.ensure(ipWords * 4 + 4)
    const b = this.buf
    let o = this.length
    for (let k = 0; k < ipWords; k++) {
      const x = w[at + k]!
      b[o] = x >>> 24; b[o + 1] = x >>> 16; b[o + 2] = x >>> 8; b[o + 3] = x
      o += 4
    }
    b[o] = port >>> 8; b[o + 1] = port
    b[o + 2] = flags
    b[o + 3] = ageMinutes > 255 ? 255 : ageMinutes
    this.length = o + 4
  }
}

/** One torrent's records in a sink: [start, end). */
interface Span { key: string, start: number, end: number }

/** One shard's export without the changeset framing (records per family, spans as [key, start, end]). */
export interface ExportPart {
  records: [Uint8Array, Uint8Array]
  spans: [Array<[string, number, number]>, Array<[string, number, number]>]
  peers: number
  stopped: number
}

export interface ExportResult {
  body: Buffer
  torrents: number
  /** Live peers exported. */
  peers: number
  /** STOPPED records exported. */
  stopped: number
}

/** Writes the own peers of a list (`count` records at `w[base..]`) that announced within the window; returns how many. */
function exportList (w: Uint32Array, base: number, count: number, s: number, sink: RecordSink, now: number, windowSeconds: number): number {
  const ipWords = s - 2
  const t = now & TIME_MASK
  let n = 0
  for (let i = 0, b = base; i < count; i++, b += s) {
    const meta = w[b + s - 1]!
    if (((meta >>> 24) & FLAG_FROM_SYNC) !== 0) continue
    const age = (t - (meta & TIME_MASK)) & TIME_MASK
    if (age >= windowSeconds) continue
    sink.record(w, b, ipWords, w[b + s - 2]!, (meta >>> 24) & (FLAG_SEEDING | FLAG_COMPLETED), (age / 60) | 0)
    n++
  }
  return n
}

const ip4 = new Uint32Array(1)
const ip6 = new Uint32Array(4)

/**
 * One export in progress: {@link step} scans a slice of the torrents, {@link finish} writes the
 * changeset. {@link exportChangeset} and {@link exportChangesetSliced} drive it.
 */
export class ChangesetExport {
  private readonly sinks = [new RecordSink(), new RecordSink()]
  private readonly spans: Span[][] = [[], []]
  /** Next torrent id to scan. */
  private cursor = 0
  private peers = 0
  private stopped = 0
  private stopsAdded = false

  constructor (private readonly store: SwarmStore, private readonly stops: StopLog | null, private readonly now: number, private readonly windowSeconds: number) {
  }

  /** Scans up to `budget` torrents; returns true when all are done. */
  step (budget: number): boolean {
    for (let i = 0; i < budget; i++) {
      const store = this.store
      const t = store.next(this.cursor)
      if (t < 0) return true
      this.cursor = t + 1
      let key: string | null = null
      for (let f = 0; f < 2; f++) {
        const count = store.open(t, f === 0 ? 4 : 6)
        if (count === 0) continue
        const sink = this.sinks[f]!
        const start = sink.length
        const n = exportList(store.listWords, store.listBase, count, f === 0 ? STRIDE_V4 : STRIDE_V6, sink, this.now, this.windowSeconds)
        if (n > 0) {
          key ??= store.keyOf(t)
          this.spans[f]!.push({ key, start, end: sink.length })
          this.peers += n
        }
      }
    }
    return false
  }

  /** Adds the stops of the window (the newest per peer, unless the peer is back) and writes the changeset. */
  finish (): ExportResult {
    if (this.stops !== null && !this.stopsAdded) this.addStops(this.stops)
    const { sinks, spans } = this
    let bound = CHANGESET_MIN_BYTES + 9
    for (let f = 0; f < 2; f++) for (const sp of spans[f]!) bound += changesetTorrentBound(sp.end - sp.start)
    const body = Buffer.allocUnsafe(bound)
    let off = writeChangesetStart(body, 0)
    let torrents = 0
    for (let f = 0; f < 2; f++) {
      const list = spans[f]!
      if (f === 1) {
        if (list.length === 0) break
        off = writeChangesetSection6(body, off)
      }
      list.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start)
      const buf = sinks[f]!.buf
      for (let i = 0; i < list.length;) {
        const key = list[i]!.key
        let j = i + 1
        while (j < list.length && list[j]!.key === key) j++
        if (j === i + 1) {
          off = writeChangesetTorrent(body, off, key, 0, buf, list[i]!.start, list[i]!.end - list[i]!.start)
        } else {
          // A torrent with both live peers and stops (or a second span): one entry.
          const joined = Buffer.concat(list.slice(i, j).map((sp) => buf.subarray(sp.start, sp.end)))
          off = writeChangesetTorrent(body, off, key, 0, joined, 0, joined.length)
        }
        torrents++
        i = j
      }
    }
    off = writeChangesetEnd(body, off)
    return { body: body.subarray(0, off), torrents, peers: this.peers, stopped: this.stopped }
  }

  /**
   * With `--workers`: this shard's records and stops, unframed, for the worker writing the
   * changeset ({@link merge}). Call after the scan is done.
   */
  part (): ExportPart {
    if (this.stops !== null && !this.stopsAdded) this.addStops(this.stops)
    this.stopsAdded = true
    return {
      records: [new Uint8Array(this.sinks[0]!.buf.subarray(0, this.sinks[0]!.length)), new Uint8Array(this.sinks[1]!.buf.subarray(0, this.sinks[1]!.length))],
      spans: [this.spans[0]!.map((sp) => [sp.key, sp.start, sp.end]), this.spans[1]!.map((sp) => [sp.key, sp.start, sp.end])],
      peers: this.peers,
      stopped: this.stopped
    }
  }

  /** Adds another shard's {@link part} to this export (torrents never span shards). */
  merge (p: ExportPart): void {
    for (let f = 0; f < 2; f++) {
      const sink = this.sinks[f]!
      const bytes = p.records[f]!
      const base = sink.length
      sink.ensure(bytes.length)
      sink.buf.set(bytes, base)
      sink.length += bytes.length
      for (const [key, start, end] of p.spans[f]!) this.spans[f]!.push({ key, start: base + start, end: base + end })
    }
    this.peers += p.peers
    this.stopped += p.stopped
  }

  private addStops (stops: StopLog): void {
    this.stopsAdded = true
    const seen = new Set<string>()
    const { now, store } = this
    stops.forEachRecent(now, this.windowSeconds, (slots, at) => {
      const family = slots[at + 38]!
      const ipBytes = family === 4 ? 4 : 16
      const id = slots.toString('latin1', at, at + 20 + ipBytes) + slots.toString('latin1', at + 36, at + 38)
      if (seen.has(id)) return // an older stop of the same peer
      seen.add(id)
      const key = slots.toString('latin1', at, at + 20)
      const port = slots.readUInt16BE(at + 36)
      const ip = family === 4 ? ip4 : ip6
      for (let k = 0; k < ip.length; k++) ip[k] = slots.readUInt32BE(at + 20 + 4 * k)
      const t = store.findKey(key)
      // A stop removes the peer: if it is here, it announced again since (here or elsewhere).
      if (t >= 0 && store.findPeerIn(t, family, ip, port) >= 0) return
      const f = family === 4 ? 0 : 1
      const sink = this.sinks[f]!
      const start = sink.length
      sink.record(ip, 0, ip.length, port, SYNC_FLAG_STOPPED, ((now - slots.readUInt32BE(at + 40)) / 60) | 0)
      const spansF = this.spans[f]!
      const last = spansF[spansF.length - 1]
      if (last !== undefined && last.key === key && last.end === start) last.end = sink.length
      else spansF.push({ key, start, end: sink.length })
      this.stopped++
    })
  }
}

/**
 * Builds the changeset of own peers seen within `windowSeconds` of `now`, plus the stops from
 * `stops` in the same window (null: none recorded), in one go (tests, small stores).
 */
export function exportChangeset (store: SwarmStore, stops: StopLog | null, now: number, windowSeconds: number): ExportResult {
  const e = new ChangesetExport(store, stops, now, windowSeconds)
  while (!e.step(1 << 30)) { /* all at once */ }
  return e.finish()
}

/** The same, in slices of {@link EXPORT_SLICE_TORRENTS} torrents with the event loop served in between. */
export async function exportChangesetSliced (store: SwarmStore, stops: StopLog | null, now: number, windowSeconds: number,
  others: Array<Promise<ExportPart>> = []): Promise<ExportResult> {
  const e = await scanSliced(store, stops, now, windowSeconds)
  for (const p of await Promise.all(others)) e.merge(p)
  return e.finish()
}

/** Scans the whole store in slices; the export is then ready for {@link ChangesetExport.part} or finish. */
export async function scanSliced (store: SwarmStore, stops: StopLog | null, now: number, windowSeconds: number): Promise<ChangesetExport> {
  const e = new ChangesetExport(store, stops, now, windowSeconds)
  while (!e.step(EXPORT_SLICE_TORRENTS)) await new Promise((resolve) => setImmediate(resolve))
  return e
}
