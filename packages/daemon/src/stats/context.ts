/**
 * What the stats pages and metrics read: the live store and counters plus process facts. One
 * object built by the tracker, so stats code never reaches into the tracker's internals.
 */
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { AccessLists } from '../access/access-lists.js'
import type { Counters } from '../counters.js'
import type { RateLimiter } from '../limits/rate-limit.js'
import type { SwarmStore } from '../swarm/store.js'

export class StatsContext {
  /** Random 32-bit id of this process (opentracker's tracker_id; also the live sync sender id). */
  readonly trackerId = (Math.random() * 0x100000000) >>> 0
  readonly startedAtMs = Date.now()
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
    readonly limiter: RateLimiter | null = null
  ) {}

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
