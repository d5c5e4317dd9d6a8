/**
 * The control side of `--workers` in one worker: everything that spans shards but is not per
 * request (docs/workers.md). Each operation is offered to the other workers over the mesh's
 * control path (calls and pulled streams) and used by this worker's operator routes, which
 * answer for the whole process whichever worker the connection landed on:
 *
 *  - stats, metrics, /otd/status: every worker's snapshot, summed (views.ts);
 *  - full scrapes (all formats, statedump included): every shard's sorted scrape records, merged;
 *  - the state file and GET /otd/state: every shard's records in one file; restoring hands the
 *    data to every worker, each keeping its own torrents;
 *  - access lists: a reload (SIGHUP, admin) reloads every worker's copy; an admin change is
 *    written by the worker that got it and applied in memory by the others; FIFO lines (read by
 *    worker 0) likewise;
 *  - /sync: exports merge every shard's part; imports hand each torrent's records to its owner;
 *    live sync runs in worker 0 (sync/cluster.ts).
 */
import type { AccessLists, ListName, ListReport } from '../access/access-lists.js'
import type { Counters } from '../counters.js'
import { mergeScrapeRecords, scrapeRecords } from '../fullscrape/stream.js'
import { encodeStateRecords } from '../state/statefile.js'
import type { StatsContext, StatsView } from '../stats/context.js'
import type { SwarmStore } from '../swarm/store.js'
import { ApplyCounts, type OutcomeCounts, type RecordApplier, APPLY_ELSEWHERE, countOutcome } from '../sync/apply.js'
import type { ForeignTorrent } from '../sync/batch.js'
import type { ClusterSync, SyncWorkers } from '../sync/cluster.js'
import type { ExportPart } from '../sync/export.js'
import type { Clock } from '../clock.js'
import { asBuffer, type Mesh } from './mesh.js'
import type { ShardMap } from './shard.js'
import { MergedStats, type StatsSnapshot, takeSnapshot } from './views.js'

/** Live-sync records relayed to worker 0: info_hash | family | 16-byte address | port (u16 BE) | flags. */
const RELAY_RECORD_BYTES = 40
const RELAY_RECORDS = 256

export interface LinkDeps {
  mesh: Mesh
  shards: ShardMap
  store: SwarmStore
  counters: Counters
  access: AccessLists
  stats: StatsContext
  clock: Clock
  /** Restores a state file or statedump into this worker's shard (the others are skipped). */
  restoreLocal: (data: Buffer) => Record<string, unknown>
  /** Re-reads this worker's access lists. */
  reloadLocal: () => Promise<ListReport[]>
  /** Flush interval of live sync (relayed records go to worker 0 at least this often). */
  relayFlushMs: number
}

export class WorkerLink implements SyncWorkers {
  readonly liveHere: boolean
  private sync: ClusterSync | null = null
  private relayBuf = Buffer.alloc(RELAY_RECORD_BYTES * RELAY_RECORDS)
  private relayUsed = 0
  private relayTimer: NodeJS.Timeout | null = null

  constructor (private readonly d: LinkDeps) {
    this.liveHere = d.mesh.index === 0
    const m = d.mesh
    m.onCall('snapshot', (top: number) => takeSnapshot(m.index, m.wakes, d.stats, top))
    m.onStream('scrape-records', () => scrapeRecords(d.store))
    m.onStream('state-records', () => encodeStateRecords(d.store))
    m.onCall('restore', (data: Uint8Array) => d.restoreLocal(asBuffer(data)))
    m.onCall('reload', () => d.reloadLocal())
    m.onCall('access-change', (a: { name: ListName, add: boolean, keys: string[] }) => { d.access.changeInMemory(a.name, a.add, a.keys) })
    m.onCall('access-dynamic', (a: { key: string, add: boolean }) => { d.access.applyDynamic(a.key, a.add) })
    m.onCall('has', (key: string) => d.store.findKey(key) >= 0)
    // The owner's clock: its peers carry its times (another worker's clock may be a second behind).
    m.onCall('sync-export', (a: { windowSeconds: number }) => this.sync!.exportPart(a.windowSeconds, d.clock.seconds))
    m.onCall('sync-apply', (torrents: ForeignTorrent[]) => {
      const c = new ApplyCounts().applyForeign(this.sync!.applier, torrents, d.clock.seconds)
      return { added: c.added, updated: c.updated, removed: c.removed, unchanged: c.unchanged, denied: c.denied, expired: c.expired }
    })
    m.onCall('sync-live-apply', (torrents: ForeignTorrent[]) => {
      const applier = this.sync!.applier
      const now = d.clock.seconds
      for (const [key, family, records] of torrents) {
        const buf = asBuffer(records)
        const size = family === 4 ? 8 : 20
        for (let at = 0; at + size <= buf.length; at += size) countOutcome(d.counters, applier.apply(key, family, buf, at, now))
      }
    })
    m.onCall('live-tell', (data: Uint8Array) => { this.tellLive(asBuffer(data)) })
  }

  /** Set once cluster sync exists (it is built with this link). */
  attachSync (sync: ClusterSync): void { this.sync = sync }

  private others (): number[] {
    const out: number[] = []
    for (let j = 0; j < this.d.mesh.count; j++) if (j !== this.d.mesh.index) out.push(j)
    return out
  }

  // ---- stats ----

  async statsView (top: number): Promise<StatsView> {
    const m = this.d.mesh
    const snaps = await Promise.all(Array.from({ length: m.count }, (_, j) =>
      j === m.index ? Promise.resolve(takeSnapshot(j, m.wakes, this.d.stats, top)) : m.call<StatsSnapshot>(j, 'snapshot', top)))
    return new MergedStats(snaps, this.d.stats, top)
  }

  // ---- full scrape and state ----

  /** Every shard's scrape records, merged in info_hash order. */
  scrapeRecords (): AsyncIterable<Buffer> {
    const m = this.d.mesh
    return mergeScrapeRecords(Array.from({ length: m.count }, (_, j) =>
      j === m.index ? scrapeRecords(this.d.store) : m.stream(j, 'scrape-records')))
  }

  /** Every shard's state records, one shard after the other (a state file has no order). */
  async * stateRecords (): AsyncGenerator<Buffer> {
    const m = this.d.mesh
    for (let j = 0; j < m.count; j++) {
      yield * (j === m.index ? encodeStateRecords(this.d.store) : m.stream(j, 'state-records'))
    }
  }

  /** Restores `data` in every shard; the reports are summed (rejected lines counted once). */
  async restore (data: Buffer): Promise<Record<string, unknown>> {
    const local = this.d.restoreLocal(data)
    const copy = new Uint8Array(data)
    const others = await Promise.all(this.others().map((j) => this.d.mesh.call<Record<string, unknown>>(j, 'restore', copy)))
    return sumReports([local, ...others])
  }

  // ---- access lists ----

  /** Reloads every worker's lists; returns this worker's report (the files are the same for all). */
  async reloadAll (): Promise<ListReport[]> {
    const [mine] = await Promise.all([this.d.reloadLocal(), ...this.others().map((j) => this.d.mesh.call(j, 'reload'))])
    return mine
  }

  async accessChanged (name: ListName, add: boolean, keys: readonly string[]): Promise<void> {
    await Promise.all(this.others().map((j) => this.d.mesh.call(j, 'access-change', { name, add, keys })))
  }

  /** A FIFO line applied here (worker 0): the others apply it too. */
  dynamicChanged (key: string, add: boolean): void {
    for (const j of this.others()) void this.d.mesh.call(j, 'access-dynamic', { key, add }).catch(() => {})
  }

  hasTorrent (key: string): boolean | Promise<boolean> {
    const owner = this.d.shards.owner[key.charCodeAt(0) & 0xff]!
    if (owner === this.d.mesh.index) return this.d.store.findKey(key) >= 0
    return this.d.mesh.call<boolean>(owner, 'has', key)
  }

  // ---- sync (SyncWorkers) ----

  ownerOf (key: string): number {
    const owner = this.d.shards.owner[key.charCodeAt(0) & 0xff]!
    return owner === this.d.mesh.index ? -1 : owner
  }

  applyElsewhere (owner: number, torrents: ForeignTorrent[]): Promise<OutcomeCounts> {
    return this.d.mesh.call<OutcomeCounts>(owner, 'sync-apply', torrents)
  }

  exportOthers (windowSeconds: number, now: number): Array<Promise<ExportPart>> {
    return this.others().map((j) => this.d.mesh.call<ExportPart>(j, 'sync-export', { windowSeconds, now }))
  }

  shardApplier (local: RecordApplier): RecordApplier {
    const pending = new Map<number, ForeignTorrent[]>()
    let scheduled = false
    const flush = (): void => {
      scheduled = false
      for (const [owner, list] of pending) void this.d.mesh.call(owner, 'sync-live-apply', list).catch(() => {})
      pending.clear()
    }
    return {
      apply: (key, family, buf, at, now) => {
        const owner = this.ownerOf(key)
        if (owner < 0) return local.apply(key, family, buf, at, now)
        let list = pending.get(owner)
        if (list === undefined) pending.set(owner, list = [])
        list.push([key, family, new Uint8Array(buf.subarray(at, at + (family === 4 ? 8 : 20)))])
        if (!scheduled) { scheduled = true; queueMicrotask(flush) }
        return APPLY_ELSEWHERE
      }
    }
  }

  relay (key: string, family: number, ip: Uint32Array, port: number, flags: number): void {
    const b = this.relayBuf
    const o = this.relayUsed
    b.write(key, o, 20, 'latin1')
    b[o + 20] = family
    for (let k = 0; k < 4; k++) b.writeUInt32BE(family === 4 && k > 0 ? 0 : ip[k]!, o + 21 + k * 4)
    b.writeUInt16BE(port, o + 37)
    b[o + 39] = flags
    this.relayUsed = o + RELAY_RECORD_BYTES
    if (this.relayUsed === b.length) this.flushRelay()
    else if (this.relayTimer === null) {
      this.relayTimer = setTimeout(() => this.flushRelay(), Math.min(this.d.relayFlushMs, 1000))
      this.relayTimer.unref()
    }
  }

  flushRelay (): void {
    if (this.relayTimer !== null) { clearTimeout(this.relayTimer); this.relayTimer = null }
    if (this.relayUsed === 0) return
    const data = new Uint8Array(this.relayBuf.subarray(0, this.relayUsed))
    this.relayUsed = 0
    void this.d.mesh.call(0, 'live-tell', data).catch(() => {})
  }

  private tellLive (data: Buffer): void {
    const live = this.sync?.live
    if (live === null || live === undefined) return
    const ip = new Uint32Array(4)
    for (let o = 0; o + RELAY_RECORD_BYTES <= data.length; o += RELAY_RECORD_BYTES) {
      const family = data[o + 20]!
      for (let k = 0; k < 4; k++) ip[k] = data.readUInt32BE(o + 21 + k * 4)
      live.tell(data.toString('latin1', o, o + 20), family, ip, data.readUInt16BE(o + 37), data[o + 39]!)
    }
  }
}

/** Sums numeric fields of per-shard reports (a `rejectedLines` count is the file's: the largest, not the sum). */
export function sumReports (reports: Array<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const r of reports) {
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === 'number') {
        const prev = typeof out[k] === 'number' ? out[k] as number : 0
        out[k] = k === 'rejectedLines' || k === 'savedAt' ? Math.max(prev, v) : prev + v
      } else if (!(k in out)) {
        out[k] = v
      }
    }
  }
  return out
}
