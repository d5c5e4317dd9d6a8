/**
 * What the stats pages and metrics read: the live store and counters plus process facts. One
 * object built by the tracker, so stats code never reaches into the tracker's internals.
 */
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { AccessLists, ListName } from '../access/access-lists.js'
import type { Counters } from '../counters.js'
import type { RateLimiter } from '../limits/rate-limit.js'
import type { SwarmStore } from '../swarm/store.js'

/** The store's figures that stats report (a {@link SwarmStore}, or the sum over workers' stores). */
export interface StoreFigures {
  readonly torrentCount: number
  readonly peers: number
  readonly peers6: number
  readonly seeders: number
  readonly completed: number
  readonly renew: ArrayLike<number> & Iterable<number>
  readonly liveBytes: number
  readonly bytes: number
  readonly limits: { readonly memoryLimitBytes?: number }
  readonly evictedTorrents: number
  readonly evictedTorrentPeers: number
  readonly evictedPeers: number
}

/** The access lists' figures that stats report. */
export interface AccessFigures {
  names (): ListName[]
  size (name: ListName): number
  readonly reloads: number
  readonly reloadFailures: number
}

/** The per-address rate limiter's table (stats/metrics), summed over workers with `--workers`. */
export interface RateTableFigures {
  /** Addresses the table can remember. */
  slots: number
  /** Addresses whose bucket is not full now. */
  entries: number
  /** Live entries evicted for a new address. */
  evictions: number
}

export interface TopEntry { hash: string, count: number }
export interface TopTorrents { peers: TopEntry[], seeds: TopEntry[], leechers: TopEntry[] }

/** One worker's own figures (`--workers`), for the per-worker lines of /metrics and stats JSON. */
export interface WorkerFigures {
  worker: number
  torrents: number
  peers: number
  udpPackets: number
  httpRequests: number
  udpForwarded: number
  udpDropped: number
  httpForwarded: number
  scrapeGathers: number
  /** Wake-ups sent to other workers (see workers/mesh.ts: most forwards need none). */
  wakes: number
  utilization: number
  lagP99Ms: number
}

/**
 * What the stats pages and metrics read. One tracker's {@link StatsContext}, or with `--workers`
 * the sum over every worker (workers/views.ts), so /stats answers for the whole process whichever
 * worker the connection landed on.
 */
export interface StatsView {
  readonly store: StoreFigures
  readonly counters: Counters
  readonly access: AccessFigures
  readonly version: string
  readonly trackerId: number
  readonly uptimeSeconds: number
  lagMs (percentile: number): number
  utilization (): number
  openConnections (): number
  /** The `n` torrents with the most peers, seeds and leechers. */
  top (n: number): TopTorrents
  /** The rate limiter's table, null when no rate limit is on. */
  rateTable (): RateTableFigures | null
  /** Per-worker figures with `--workers`; absent with one. */
  readonly workers?: WorkerFigures[]
}

/** The `n` torrents of `store` with the most peers, seeds and leechers (entries with 0 left out; hashes in uppercase hex). */
export function topTorrents (store: SwarmStore, n: number): TopTorrents {
  const tops = [[], [], []] as TopEntry[][]
  const mins = [0, 0, 0]
  for (let t = store.next(0); t >= 0; t = store.next(t + 1)) {
    const peers = store.peersOf(t)
    if (peers === 0) continue
    const seeds = store.seedersOf(t)
    const counts = [peers, seeds, peers - seeds]
    for (let k = 0; k < 3; k++) {
      const c = counts[k]!
      const top = tops[k]!
      if (c === 0 || (top.length === n && c <= mins[k]!)) continue
      let i = top.length
      while (i > 0 && top[i - 1]!.count < c) i--
      top.splice(i, 0, { hash: store.keyOf(t), count: c })
      if (top.length > n) top.pop()
      mins[k] = top.length === n ? top[n - 1]!.count : 0
    }
  }
  const hex = (e: TopEntry): TopEntry => ({ hash: Buffer.from(e.hash, 'latin1').toString('hex').toUpperCase(), count: e.count })
  return { peers: tops[0]!.map(hex), seeds: tops[1]!.map(hex), leechers: tops[2]!.map(hex) }
}

export class StatsContext implements StatsView {
  /** Random 32-bit id of this process (opentracker's tracker_id; also the live sync sender id). */
  readonly trackerId: number
  readonly startedAtMs: number
  private delay: ReturnType<typeof monitorEventLoopDelay> | null = null
  private elu: EventLoopUtilization = performance.eventLoopUtilization()
  private lastElu = 0

  constructor (
    readonly store: SwarmStore,
    readonly counters: Counters,
    readonly access: AccessLists,
    readonly version: string,
    /** Currently open TCP connections. */
    readonly openConnections: () => number,
    /** The per-address rate limiter (null when no limit is on). */
    readonly limiter: RateLimiter | null = null,
    /** With `--workers`, every worker reports the process's id and start. */
    shared: { trackerId: number, startedAtMs: number } | null = null
  ) {
    this.trackerId = shared?.trackerId ?? (Math.random() * 0x100000000) >>> 0
    this.startedAtMs = shared?.startedAtMs ?? Date.now()
  }

  top (n: number): TopTorrents {
    return topTorrents(this.store, n)
  }

  rateTable (): RateTableFigures | null {
    const l = this.limiter
    return l === null ? null : { slots: l.slots, entries: l.liveEntries(this.store.clock.seconds), evictions: l.evictions }
  }

  start (): void {
    if (this.delay !== null) return
    this.delay = monitorEventLoopDelay({ resolution: 20 })
    this.delay.enable()
  }

  stop (): void {
    this.delay?.disable()
    this.delay = null
  }

  get uptimeSeconds (): number {
    return Math.max(0, Math.floor((Date.now() - this.startedAtMs) / 1000))
  }

  /** Event-loop delay percentile in milliseconds (0 before start). */
  lagMs (percentile: number): number {
    if (this.delay === null || this.delay.count === 0) return 0
    return this.delay.percentile(percentile) / 1e6
  }

  /** Event-loop utilisation (0..1) since the previous call, at most every second. */
  utilization (): number {
    const now = performance.eventLoopUtilization()
    const d = performance.eventLoopUtilization(now, this.elu)
    if (d.idle + d.active > 1000) {
      this.elu = now
      this.lastElu = d.utilization
    } else if (this.lastElu === 0) {
      this.lastElu = d.utilization
    }
    return this.lastElu
  }
}
