/**
 * Stats over every worker (`--workers`): each worker reports a {@link StatsSnapshot} of its own
 * counters and shard, and the worker answering /stats, /metrics or /otd/status sums them into a
 * {@link MergedStats}, which reads like one tracker's StatsContext. Counters and store figures
 * are sums (a forwarded request is counted once, by the worker that answered it); event-loop
 * figures are those of the busiest worker; top lists are merged (a torrent lives in one shard).
 */
import type { ListName } from '../access/access-lists.js'
import { Counters } from '../counters.js'
import type { AccessFigures, RateTableFigures, StatsContext, StatsView, StoreFigures, TopEntry, TopTorrents, WorkerFigures } from '../stats/context.js'

export interface StatsSnapshot {
  worker: number
  /** Wake-ups this worker sent to others (workers/mesh.ts). */
  wakes: number
  counters: Record<string, number>
  httpErrors: Array<[number, number]>
  store: {
    torrentCount: number
    peers: number
    peers6: number
    seeders: number
    completed: number
    renew: number[]
    liveBytes: number
    bytes: number
    memoryLimitBytes: number
    evictedTorrents: number
    evictedTorrentPeers: number
    evictedPeers: number
  }
  lag: [number, number, number]
  utilization: number
  open: number
  access: { reloads: number, reloadFailures: number, sizes: Array<[ListName, number]> }
  rateTable: RateTableFigures | null
  top: TopTorrents | null
}

export function takeSnapshot (worker: number, wakes: number, ctx: StatsContext, top: number): StatsSnapshot {
  const s = ctx.store
  const counters: Record<string, number> = {}
  for (const [k, v] of Object.entries(ctx.counters)) if (typeof v === 'number') counters[k] = v
  return {
    worker,
    wakes,
    counters,
    httpErrors: [...ctx.counters.httpErrors],
    store: {
      torrentCount: s.torrentCount,
      peers: s.peers,
      peers6: s.peers6,
      seeders: s.seeders,
      completed: s.completed,
      renew: [...s.renew],
      liveBytes: s.liveBytes,
      bytes: s.bytes,
      memoryLimitBytes: s.limits.memoryLimitBytes ?? 0,
      evictedTorrents: s.evictedTorrents,
      evictedTorrentPeers: s.evictedTorrentPeers,
      evictedPeers: s.evictedPeers
    },
    lag: [ctx.lagMs(50), ctx.lagMs(99), ctx.lagMs(100)],
    utilization: ctx.utilization(),
    open: ctx.openConnections(),
    access: { reloads: ctx.access.reloads, reloadFailures: ctx.access.reloadFailures, sizes: ctx.access.names().map((l) => [l, ctx.access.size(l)]) },
    rateTable: ctx.rateTable(),
    top: top > 0 ? ctx.top(top) : null
  }
}

function mergeTop (lists: TopEntry[][], n: number): TopEntry[] {
  return lists.flat().sort((a, b) => b.count - a.count || (a.hash < b.hash ? -1 : 1)).slice(0, n)
}

export class MergedStats implements StatsView {
  readonly store: StoreFigures
  readonly counters = new Counters()
  readonly access: AccessFigures
  readonly version: string
  readonly trackerId: number
  readonly uptimeSeconds: number
  readonly workers: WorkerFigures[]
  private readonly lags: [number, number, number]
  private readonly busiest: number
  private readonly open: number
  private readonly tops: TopTorrents | null
  private readonly table: RateTableFigures | null

  /** `snaps` by worker index; `local` supplies what is the same in every worker (version, id, uptime, list names). */
  constructor (snaps: StatsSnapshot[], local: StatsContext, top: number) {
    this.version = local.version
    this.trackerId = local.trackerId
    this.uptimeSeconds = local.uptimeSeconds
    const c = this.counters as unknown as Record<string, number>
    for (const snap of snaps) {
      for (const [k, v] of Object.entries(snap.counters)) if (k !== 'startedAt') c[k] = (c[k] ?? 0) + v
      for (const [code, n] of snap.httpErrors) this.counters.httpErrors.set(code, (this.counters.httpErrors.get(code) ?? 0) + n)
    }
    const sum = (f: (x: StatsSnapshot['store']) => number): number => snaps.reduce((a, x) => a + f(x.store), 0)
    const renew = new Array<number>(45).fill(0)
    for (const snap of snaps) snap.store.renew.forEach((n, i) => { renew[i] = (renew[i] ?? 0) + n })
    this.store = {
      torrentCount: sum((x) => x.torrentCount),
      peers: sum((x) => x.peers),
      peers6: sum((x) => x.peers6),
      seeders: sum((x) => x.seeders),
      completed: sum((x) => x.completed),
      renew,
      liveBytes: sum((x) => x.liveBytes),
      bytes: sum((x) => x.bytes),
      limits: { memoryLimitBytes: sum((x) => x.memoryLimitBytes) },
      evictedTorrents: sum((x) => x.evictedTorrents),
      evictedTorrentPeers: sum((x) => x.evictedTorrentPeers),
      evictedPeers: sum((x) => x.evictedPeers)
    }
    const names = local.access.names()
    // Every worker holds the same lists: report one worker's sizes, and reloads once per reload.
    const first = snaps[0]!
    this.access = {
      names: () => names,
      size: (l: ListName) => first.access.sizes.find(([n]) => n === l)?.[1] ?? 0,
      reloads: Math.max(...snaps.map((x) => x.access.reloads)),
      reloadFailures: Math.max(...snaps.map((x) => x.access.reloadFailures))
    }
    this.lags = [Math.max(...snaps.map((x) => x.lag[0])), Math.max(...snaps.map((x) => x.lag[1])), Math.max(...snaps.map((x) => x.lag[2]))]
    // Every worker has its own table (a client's requests are limited by the worker handling them).
    this.table = snaps[0]!.rateTable === null
      ? null
      : snaps.reduce<RateTableFigures>((a, x) => ({
        slots: a.slots + (x.rateTable?.slots ?? 0),
        entries: a.entries + (x.rateTable?.entries ?? 0),
        evictions: a.evictions + (x.rateTable?.evictions ?? 0)
      }), { slots: 0, entries: 0, evictions: 0 })
    this.busiest = Math.max(...snaps.map((x) => x.utilization))
    this.open = snaps.reduce((a, x) => a + x.open, 0)
    this.tops = top > 0
      ? {
          peers: mergeTop(snaps.map((x) => x.top?.peers ?? []), top),
          seeds: mergeTop(snaps.map((x) => x.top?.seeds ?? []), top),
          leechers: mergeTop(snaps.map((x) => x.top?.leechers ?? []), top)
        }
      : null
    this.workers = snaps.map((x) => ({
      worker: x.worker,
      torrents: x.store.torrentCount,
      peers: x.store.peers,
      udpPackets: x.counters.udpPackets ?? 0,
      httpRequests: x.counters.httpRequests ?? 0,
      udpForwarded: x.counters.shardUdpForwarded ?? 0,
      udpDropped: x.counters.shardUdpDropped ?? 0,
      httpForwarded: x.counters.shardHttpForwarded ?? 0,
      scrapeGathers: x.counters.shardScrapeGathers ?? 0,
      wakes: x.wakes,
      utilization: x.utilization,
      lagP99Ms: x.lag[1]
    }))
  }

  lagMs (percentile: number): number {
    return percentile >= 100 ? this.lags[2] : percentile >= 99 ? this.lags[1] : this.lags[0]
  }

  utilization (): number { return this.busiest }
  openConnections (): number { return this.open }
  rateTable (): RateTableFigures | null { return this.table }

  top (n: number): TopTorrents {
    const t = this.tops ?? { peers: [], seeds: [], leechers: [] }
    return { peers: t.peers.slice(0, n), seeds: t.seeds.slice(0, n), leechers: t.leechers.slice(0, n) }
  }
}
