/**
 * Connection limits and slow-client defences of the HTTP front end (issue 8, docs/security.md):
 *  - a cap on open connections over all HTTP listeners, and one per client address (IPv4) or
 *    per /64 (IPv6: one subscriber's prefix, so address hopping within it does not help);
 *  - deadlines: the first byte within `httpFirstByteTimeoutSeconds` of accept, a request head
 *    within `httpRequestTimeoutSeconds` of its first byte (slowloris: trickling bytes does not
 *    help), and no more than `httpIdleTimeoutSeconds` without a byte (idle keep-alive).
 *
 * Refusals are cheap: the overall cap is also each listener's `net.Server#maxConnections`, which
 * Node enforces before a Socket object exists (the 'drop' event counts them); what gets past it
 * (several listeners, the per-address cap) is reset right after accept, before any byte is read.
 * No reply is sent: a 503 would cost a write and keep the socket until it drains, for a client
 * that is most likely not listening, and an honest client retries a reset like a 503.
 *
 * Deadlines cost nothing per request: there is no timer per connection. One unref'd interval per
 * tracker (running only while connections exist) advances {@link ConnectionGuard.tick} every
 * SWEEP_MS and sweeps the open connections; the data path only stores the current tick in the
 * connection's record. A deadline of N seconds therefore fires between N and N + 1 seconds
 * after the event it counts from (later if the event loop is late; never earlier).
 *
 *   accept ──FRESH──first byte──▶ HEAD ──head complete──▶ IDLE ──first byte──▶ HEAD ...
 *                                        └─ Connection: close ─▶ CLOSING    (slow route: TAKEN)
 */
import type net from 'node:net'
import { FAMILY_V4, FAMILY_INVALID, parseAddress } from '@otd/proto'
import type { Blessings } from '../access/blessings.js'
import { MAY_PROXY, type TrackerOptions } from '../config.js'
import type { Counters } from '../counters.js'

/** Period of the deadline sweep (and unit of {@link ConnectionGuard.tick}). */
export const SWEEP_MS = 1000

/** Accepted; no byte received yet. */
export const CONN_FRESH = 0
/** Part of a request head received. */
export const CONN_HEAD = 1
/** Between requests (keep-alive). */
export const CONN_IDLE = 2
/** Last reply sent with `Connection: close`; waiting for the client to go. */
export const CONN_CLOSING = 3
/** Taken over by a slow route (full scrape, admin, /sync), which has its own socket timeout. */
export const CONN_TAKEN = 4

/** One admitted connection's deadline state, written by server.ts and read by the sweep. */
export class GuardedConnection {
  state = CONN_FRESH
  /** Tick of the last byte received (of accept while FRESH). */
  lastTick: number
  /** Tick at which the first byte of the pending request head arrived (HEAD). */
  headTick = 0

  constructor (readonly socket: net.Socket, readonly key: number | string, tick: number) {
    this.lastTick = tick
  }
}

export class ConnectionGuard {
  /** Sweeps since start: the coarse clock of the deadlines. */
  tick = 0
  /** Open admitted connections, taken-over ones included. */
  private total = 0
  /** Open connections per address key; only keys with live connections, so at most `total` entries. */
  private readonly perAddress = new Map<number | string, number>()
  /** Connections the sweep checks (admitted, not taken over). */
  private readonly live = new Set<GuardedConnection>()
  private timer: NodeJS.Timeout | null = null
  private readonly ip = new Uint32Array(4)
  private readonly maxConnections: number
  private readonly maxPerAddress: number
  private readonly firstByteTicks: number
  private readonly requestTicks: number
  private readonly idleTicks: number

  constructor (options: TrackerOptions, private readonly counters: Counters, private readonly blessings: Blessings | null = null) {
    this.maxConnections = options.httpMaxConnections
    this.maxPerAddress = options.httpMaxConnectionsPerAddress
    const perTick = 1000 / SWEEP_MS
    // A silent new connection is idle too: whichever deadline is shorter applies.
    this.firstByteTicks = Math.min(options.httpFirstByteTimeoutSeconds, options.httpIdleTimeoutSeconds) * perTick
    this.requestTicks = options.httpRequestTimeoutSeconds * perTick
    this.idleTicks = options.httpIdleTimeoutSeconds * perTick
  }

  /** Open connections over every listener sharing this guard. */
  get openConnections (): number { return this.total }

  /** Whether the pending head of `c` is past its deadline (checked on data as well as by the sweep). */
  headExpired (c: GuardedConnection): boolean {
    return this.tick - c.headTick > this.requestTicks
  }

  /**
   * Admits a socket just accepted, or resets it (counted) and returns null when a cap is reached.
   * Addresses blessed with MAY_PROXY (a reverse proxy carries many clients) are exempt from the
   * per-address cap; they are looked up only when the cap is reached.
   */
  admit (socket: net.Socket): GuardedConnection | null {
    if (this.total >= this.maxConnections) {
      this.counters.tcpRefusedMaxConnections++
      socket.resetAndDestroy()
      return null
    }
    const ip = this.ip
    const family = parseAddress(socket.remoteAddress ?? '', ip)
    if (family === FAMILY_INVALID) { socket.destroy(); return null } // already gone
    const key = family === FAMILY_V4 ? ip[0]! : `${ip[0]!}:${ip[1]!}`
    const n = this.perAddress.get(key) ?? 0
    if (n >= this.maxPerAddress && (this.blessings === null || !this.blessings.may(family, ip, MAY_PROXY))) {
      this.counters.tcpRefusedPerAddress++
      socket.resetAndDestroy()
      return null
    }
    this.perAddress.set(key, n + 1)
    this.total++
    const c = new GuardedConnection(socket, key, this.tick)
    this.live.add(c)
    socket.once('close', () => { this.release(c) })
    if (this.timer === null) {
      this.timer = setInterval(() => { this.sweep() }, SWEEP_MS)
      this.timer.unref()
    }
    return c
  }

  /** A slow route took `c` over: the sweep leaves it alone; it still counts against the caps. */
  takeOver (c: GuardedConnection): void {
    c.state = CONN_TAKEN
    this.live.delete(c)
  }

  private release (c: GuardedConnection): void {
    this.live.delete(c)
    this.total--
    const n = this.perAddress.get(c.key)!
    if (n <= 1) this.perAddress.delete(c.key)
    else this.perAddress.set(c.key, n - 1)
  }

  /** Closes the connections past a deadline; stops the timer once none are left. */
  sweep (): void {
    const t = ++this.tick
    if (this.live.size === 0) {
      if (this.timer !== null) clearInterval(this.timer)
      this.timer = null
      return
    }
    const counters = this.counters
    for (const c of this.live) {
      // Already closing for another reason (reset by the client, head deadline seen on data): not ours to count.
      if (c.socket.destroyed) { this.live.delete(c); continue }
      const idle = t - c.lastTick
      switch (c.state) {
        case CONN_FRESH:
          if (idle > this.firstByteTicks) {
            counters.httpClosedFirstByteTimeout++
            c.socket.destroy()
            this.live.delete(c)
          }
          break
        case CONN_HEAD:
          if (t - c.headTick > this.requestTicks || idle > this.idleTicks) {
            counters.httpClosedRequestTimeout++
            c.socket.destroy()
            this.live.delete(c)
          }
          break
        default: // IDLE, CLOSING
          if (idle > this.idleTicks) {
            counters.httpClosedIdleTimeout++
            c.socket.destroy()
            this.live.delete(c)
          }
      }
    }
  }

  /** Stops the sweep (tests; the timer is unref'd and stops by itself when no connection is left). */
  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}
