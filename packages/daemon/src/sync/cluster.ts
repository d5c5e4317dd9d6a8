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
import { SyncApplier } from './apply.js'
import { type BatchHost, handleSync } from './batch.js'
import { type ExportResult, exportChangesetSliced } from './export.js'
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
}

export class ClusterSync implements SyncTap, BatchHost {
  readonly applier: SyncApplier
  /** Recent stops for `GET /sync`; null when no address may use /sync. */
  readonly stops: StopLog | null
  /** Live sync; null when not configured. */
  readonly live: LiveSync | null
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
    this.live = liveOn
      ? new LiveSync({ options: o, counters: d.counters, blessings: d.blessings, clock: d.clock, logger: d.logger, trackerId: d.trackerId, applier: this.applier, onFatal: d.onFatal })
      : null
    this.updateTap()
  }

  /** Hooks into the store only when someone listens. */
  private updateTap (): void {
    this.d.store.syncTap = this.stops !== null || (this.live !== null && this.live.sending) ? this : null
  }

  // SyncTap: called by the store on own announces and stops.
  announced (key: string, family: number, ip: Uint32Array, port: number, flags: number): void {
    if (this.live !== null) this.live.tell(key, family, ip, port, flags)
  }

  stopped (key: string, family: number, ip: Uint32Array, port: number): void {
    if (this.stops !== null) this.stops.record(key, family, ip, port, this.d.clock.seconds)
    if (this.live !== null) this.live.tell(key, family, ip, port, FLAG_STOPPED)
  }

  // BatchHost
  now (): number { return this.d.clock.seconds }
  exportPeers (windowSeconds: number): Promise<ExportResult> {
    return exportChangesetSliced(this.d.store, this.stops, this.d.clock.seconds, windowSeconds)
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
    if (this.live !== null) {
      this.live.flush()
      await this.live.close()
    }
  }

  /** Sends buffered live-sync records now (tests, shutdown). */
  flush (): void {
    if (this.live !== null) this.live.flush()
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
