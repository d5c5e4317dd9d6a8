/**
 * Cluster sync, one object per tracker: the store's {@link SyncTap} (what this node tells the
 * others), batch sync (`/sync`, batch.ts and export.ts), live sync (livesync.ts) and the shared
 * applier of received records (apply.ts).
 *
 * Everything is off unless configured, and then costs the announce path nothing:
 *  - batch sync is on when some address is blessed with MAY_SYNC; then stops are remembered for
 *    the export (a 768 kB ring, stop-log.ts);
 *  - live sync sends when `livesync.cluster.listen` or `livesync.unicast.peer` is set, receives
 *    when `livesync.cluster.listen` or `livesync.unicast.listen` is set.
 * The store only calls the tap when one of them needs it.
 */
import type { Logger } from 'pino'
import type { AccessLists } from '../access/access-lists.js'
import type { Blessings } from '../access/blessings.js'
import type { Clock } from '../clock.js'
import { MAY_SYNC, type ListenSpec, type TrackerOptions } from '../config.js'
import type { Counters } from '../counters.js'
import type { SwarmStore, SyncTap } from '../swarm/store.js'
import { type OutcomeCounts, type RecordApplier, SyncApplier } from './apply.js'
import { type BatchHost, type ForeignTorrent, handleSync } from './batch.js'
import { type ExportPart, type ExportResult, exportChangesetSliced, scanSliced } from './export.js'
import { LiveSync, type LiveSyncAddress } from './livesync.js'
import { StopLog } from './stop-log.js'
import type net from 'node:net'

const FLAG_STOPPED = 0x20

export interface ClusterSyncDeps {
  options: TrackerOptions
  store: SwarmStore
  counters: Counters
  access: AccessLists
  blessings: Blessings
  clock: Clock
  logger: Logger
  trackerId: number
  onFatal: (err: Error) => void
  /** With `--workers`: how this worker's sync reaches the other shards (workers/sync-link.ts). */
  workers?: SyncWorkers | null
}

/**
 * Cluster sync across the workers of one process. Batch sync is answered by whichever worker the
 * connection landed on, with the other shards' parts; live sync runs in worker 0 only (one set of
 * sockets, one sender id and counter), which the other workers tell about their announces, and
 * which hands received records to their owners.
 */
export interface SyncWorkers {
  /** Whether live sync's sockets live in this worker. */
  readonly liveHere: boolean
  ownerOf (key: string): number
  applyElsewhere (owner: number, torrents: ForeignTorrent[]): Promise<OutcomeCounts>
  exportOthers (windowSeconds: number, now: number): Array<Promise<ExportPart>>
  /** In worker 0: an applier that hands records of foreign torrents to their owners. */
  shardApplier (local: RecordApplier): RecordApplier
  /** Elsewhere: passes an own announce or stop to worker 0's live sync. */
  relay (key: string, family: number, ip: Uint32Array, port: number, flags: number): void
  flushRelay (): void
}

export class ClusterSync implements SyncTap, BatchHost {
  readonly applier: SyncApplier
  /** Recent stops for `GET /sync`; null when no address may use /sync. */
  readonly stops: StopLog | null
  /** Live sync; null when not configured. */
  readonly live: LiveSync | null
  /** With workers, outside worker 0 when live sync sends: relays own announces to worker 0. */
  private readonly relaying: boolean
  readonly trackerId: number
  readonly counters: Counters
  readonly defaultWindowSeconds: number
  readonly maxWindowSeconds: number

  constructor (private readonly d: ClusterSyncDeps) {
    const o = d.options
    this.trackerId = d.trackerId
    this.counters = d.counters
    this.defaultWindowSeconds = o.syncWindowSeconds
    this.maxWindowSeconds = Math.max(o.syncWindowSeconds, o.peerTimeoutSeconds)
    this.applier = new SyncApplier(d.store, d.access, o.peerTimeoutSeconds)
    this.stops = o.blessed.some((b) => (b.perms & MAY_SYNC) !== 0) ? new StopLog() : null
    const liveOn = o.livesyncListen !== null || o.livesyncUnicastListen !== null || o.livesyncPeers.length > 0
    const w = d.workers ?? null
    this.live = liveOn && (w === null || w.liveHere)
      ? new LiveSync({
        options: o,
        counters: d.counters,
        blessings: d.blessings,
        clock: d.clock,
        logger: d.logger,
        trackerId: d.trackerId,
        applier: w === null ? this.applier : w.shardApplier(this.applier),
        onFatal: d.onFatal
      })
      : null
    this.relaying = w !== null && !w.liveHere && (o.livesyncListen !== null || o.livesyncPeers.length > 0)
    this.updateTap()
  }

  /** Hooks into the store only when someone listens. */
  private updateTap (): void {
    this.d.store.syncTap = this.stops !== null || (this.live !== null && this.live.sending) || this.relaying ? this : null
  }

  // SyncTap: called by the store on own announces and stops.
  announced (key: string, family: number, ip: Uint32Array, port: number, flags: number): void {
    if (this.live !== null) this.live.tell(key, family, ip, port, flags)
    else if (this.relaying) this.d.workers!.relay(key, family, ip, port, flags)
  }

  stopped (key: string, family: number, ip: Uint32Array, port: number): void {
    if (this.stops !== null) this.stops.record(key, family, ip, port, this.d.clock.seconds)
    if (this.live !== null) this.live.tell(key, family, ip, port, FLAG_STOPPED)
    else if (this.relaying) this.d.workers!.relay(key, family, ip, port, FLAG_STOPPED)
  }

  // BatchHost
  now (): number { return this.d.clock.seconds }
  exportPeers (windowSeconds: number): Promise<ExportResult> {
    const w = this.d.workers ?? null
    const now = this.d.clock.seconds
    return exportChangesetSliced(this.d.store, this.stops, now, windowSeconds, w === null ? [] : w.exportOthers(windowSeconds, now))
  }

  ownerOf (key: string): number {
    const w = this.d.workers ?? null
    return w === null ? -1 : w.ownerOf(key)
  }

  applyElsewhere (owner: number, torrents: ForeignTorrent[]): Promise<OutcomeCounts> {
    return this.d.workers!.applyElsewhere(owner, torrents)
  }

  /** This worker's part of an export asked for by another worker (`--workers`). */
  async exportPart (windowSeconds: number, now: number): Promise<ExportPart> {
    return (await scanSliced(this.d.store, this.stops, now, windowSeconds)).part()
  }

  /** Answers a `/sync` request (the route has checked MAY_SYNC) on a taken-over connection. */
  handle (method: number, query: string, contentLength: number, socket: net.Socket, rest: Buffer): void {
    handleSync(this, method, query, contentLength, socket, rest).catch((err: unknown) => {
      this.d.logger.error({ err }, '/sync request failed')
      socket.destroy()
    })
  }

  async bind (): Promise<void> {
    if (this.live !== null) await this.live.bind()
  }

  start (): void {
    if (this.live === null) return
    this.live.start()
    const a = this.live.addresses()
    const o = this.d.options
    this.d.logger.info({ livesync: a, peers: o.livesyncPeers.length },
      `live sync: ${a.map((x) => `${x.kind} ${x.address}:${x.port}`).join(', ') || 'send only'}` +
      (o.livesyncListen !== null ? `, group ${o.livesyncGroup}` : '') + (o.livesyncPeers.length > 0 ? `, ${o.livesyncPeers.length} unicast peer(s)` : ''))
  }

  async close (): Promise<void> {
    if (this.relaying) this.d.workers!.flushRelay()
    if (this.live !== null) {
      this.live.flush()
      await this.live.close()
    }
  }

  /** Sends buffered live-sync records now (tests, shutdown). */
  flush (): void {
    if (this.live !== null) this.live.flush()
    if (this.relaying) this.d.workers!.flushRelay()
  }

  /** The bound live-sync sockets. */
  addresses (): LiveSyncAddress[] {
    return this.live === null ? [] : this.live.addresses()
  }

  /** Replaces the unicast live-sync peers (tests; a future reload). */
  setPeers (peers: ListenSpec[]): void {
    if (this.live === null) throw new Error('live sync is not configured')
    this.live.setPeers(peers)
    this.updateTap()
  }
}
