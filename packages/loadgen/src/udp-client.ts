/**
 * One BEP 15 client socket with a window of requests in flight, matched to replies by
 * transaction id. What to send comes from a {@link UdpSource}; this class owns the protocol:
 * connect (and reconnect before the id expires), transaction ids, timeouts, reply checks.
 *
 * Transaction ids: `seq << 8 | slot`. The low byte names the window slot (slot 255 is the
 * connect request), the high 24 bits change on every send, so a reply to a request that already
 * timed out is recognised as late and not counted twice.
 *
 * Buffers: one per slot, rewritten only when the slot's previous request has been answered or
 * has timed out, so a pending `dgram.send` never sees its bytes change.
 */
import dgram from 'node:dgram'
import { performance } from 'node:perf_hooks'
import {
  ACTION_ANNOUNCE, ACTION_CONNECT, ACTION_ERROR, ACTION_SCRAPE, ANNOUNCE_REPLY_HEAD_BYTES,
  CONNECT_REQUEST_BYTES, UDP_SCRAPE_MAX_HASHES, writeConnectRequest
} from '@otd/proto'
import type { Counters } from './stats.js'

/** Request kinds a source hands out. */
export const KIND_ANNOUNCE = 1
export const KIND_SCRAPE = 2

/** Most requests in flight per socket (slot numbers fit the transaction id's low byte; 255 is connect). */
export const UDP_MAX_WINDOW = 255
const CONNECT_SLOT = 255
/** A target that answers no connect within this long (or 5 timeouts) is reported unreachable. */
const START_TIMEOUT_MS = 2000

/** Largest request a source may write: a scrape of as many hashes as a tracker answers in one packet. */
export const UDP_MAX_REQUEST_BYTES = 16 + 20 * UDP_SCRAPE_MAX_HASHES

export interface UdpSlot {
  /** KIND_ANNOUNCE or KIND_SCRAPE, set by the source. */
  kind: number
  /** The source's own id for the request (preload uses it to re-send a lost announce). */
  token: number
}

export interface UdpSource {
  /**
   * Writes a request into `buf` from offset 0 and returns its length, or 0 when there is nothing
   * to send (the slot then stays idle). Bytes 0-7 (connection id) and 12-15 (transaction id) are
   * written by the client afterwards. Sets `slot.kind` and `slot.token`.
   */
  next (buf: Buffer, slot: UdpSlot): number
  /** The request of `token` is over: OUTCOME_OK, OUTCOME_ERROR (an error or unexpected reply) or OUTCOME_TIMEOUT. */
  finish (token: number, outcome: number): void
}

export const OUTCOME_OK = 0
export const OUTCOME_ERROR = 1
export const OUTCOME_TIMEOUT = 2

export interface UdpClientOptions {
  host: string
  port: number
  family: 4 | 6
  window: number
  timeoutMs: number
  /** Reconnect this often (BEP 15 clients may use an id for 1 minute). */
  connectRefreshMs: number
  /** Socket receive buffer; the default holds only ~170 replies. */
  recvBufferBytes: number
}

export class UdpClient {
  private readonly socket: dgram.Socket
  private readonly slotTx: Uint32Array
  private readonly slotSentAt: Float64Array
  private readonly slotInfo: UdpSlot[]
  private readonly slotBuf: Buffer[]
  private readonly connectBuf = Buffer.alloc(CONNECT_REQUEST_BYTES)
  private seq = 1
  private idHigh = 0
  private idLow = 0
  private hasId = false
  private connectTx = -1
  private connectSentAt = 0
  private lastConnectAt = 0
  private running = false
  private timer: NodeJS.Timeout | null = null
  private onFirstConnect: (() => void) | null = null
  /** Slots with nothing to send (source was empty); retried by the timer. */
  private idle = 0

  constructor (private readonly opts: UdpClientOptions, private readonly source: UdpSource, private readonly counters: Counters) {
    const w = opts.window
    if (!Number.isInteger(w) || w < 1 || w > UDP_MAX_WINDOW) throw new Error(`window must be 1-${UDP_MAX_WINDOW}: ${w}`)
    this.slotTx = new Uint32Array(w)
    this.slotSentAt = new Float64Array(w)
    this.slotInfo = Array.from({ length: w }, () => ({ kind: 0, token: 0 }))
    this.slotBuf = Array.from({ length: w }, () => Buffer.alloc(UDP_MAX_REQUEST_BYTES))
    this.socket = dgram.createSocket({ type: opts.family === 6 ? 'udp6' : 'udp4', recvBufferSize: opts.recvBufferBytes, sendBufferSize: opts.recvBufferBytes })
    this.socket.on('message', (msg) => this.onMessage(msg))
    this.socket.on('error', () => { this.counters.socketErrors++ })
  }

  /** Binds, connects (BEP 15), then fills the window. Resolves once the first connection id arrived. */
  async start (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject)
      this.socket.connect(this.opts.port, this.opts.host, () => { this.socket.off('error', reject); resolve() })
    })
    this.running = true
    const connected = new Promise<void>((resolve) => { this.onFirstConnect = resolve })
    this.sendConnect(performance.now())
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(100, this.opts.timeoutMs / 4)))
    const giveUpMs = Math.max(START_TIMEOUT_MS, 5 * this.opts.timeoutMs)
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no BEP 15 connect reply from ${this.opts.host}:${this.opts.port} within ${giveUpMs} ms`)), giveUpMs)
    })
    try {
      await Promise.race([connected, timedOut])
    } catch (err) {
      this.stop()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /** Stops sending; requests still in flight are not counted further. */
  stop (): void {
    this.running = false
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    try { this.socket.close() } catch { /* already closed */ }
  }

  /** Requests currently in flight. */
  inFlight (): number {
    let n = 0
    for (let i = 0; i < this.opts.window; i++) if (this.slotSentAt[i] !== 0) n++
    return n
  }

  private sendConnect (now: number): void {
    this.connectTx = ((this.seq++ & 0xffffff) << 8 | CONNECT_SLOT) >>> 0
    writeConnectRequest(this.connectBuf, 0, this.connectTx)
    this.connectSentAt = now
    this.lastConnectAt = now
    this.socket.send(this.connectBuf)
  }

  private send (slot: number, now: number): void {
    const buf = this.slotBuf[slot]!
    const info = this.slotInfo[slot]!
    const n = this.source.next(buf, info)
    if (n === 0) {
      this.slotSentAt[slot] = 0
      this.idle++
      return
    }
    const tx = ((this.seq++ & 0xffffff) << 8 | slot) >>> 0
    buf.writeUInt32BE(this.idHigh, 0)
    buf.writeUInt32BE(this.idLow, 4)
    buf.writeUInt32BE(tx, 12)
    this.slotTx[slot] = tx
    this.slotSentAt[slot] = now
    this.counters.sent++
    this.socket.send(buf, 0, n)
  }

  private fill (now: number): void {
    this.idle = 0
    for (let i = 0; i < this.opts.window; i++) if (this.slotSentAt[i] === 0) this.send(i, now)
  }

  private onMessage (msg: Buffer): void {
    if (msg.length < 8) { this.counters.errors++; return }
    const action = msg.readUInt32BE(0)
    const tx = msg.readUInt32BE(4)
    const slot = tx & 0xff
    const now = performance.now()
    if (slot === CONNECT_SLOT) {
      if (tx !== this.connectTx || action !== ACTION_CONNECT || msg.length < 16) return
      this.connectTx = -1
      this.idHigh = msg.readUInt32BE(8)
      this.idLow = msg.readUInt32BE(12)
      const first = !this.hasId
      this.hasId = true
      if (first && this.running) {
        this.fill(now)
        this.onFirstConnect?.()
        this.onFirstConnect = null
      }
      return
    }
    const c = this.counters
    if (slot >= this.opts.window || this.slotTx[slot] !== tx || this.slotSentAt[slot] === 0) { c.late++; return }
    c.latency.recordMs(now - this.slotSentAt[slot]!)
    const info = this.slotInfo[slot]!
    let ok = false
    if (action === ACTION_ANNOUNCE && info.kind === KIND_ANNOUNCE && msg.length >= ANNOUNCE_REPLY_HEAD_BYTES) {
      ok = true
      c.okAnnounce++
    } else if (action === ACTION_SCRAPE && info.kind === KIND_SCRAPE && msg.length >= 8 + 12) {
      ok = true
      c.okScrape++
    } else if (action === ACTION_ERROR && this.connectTx === -1) {
      // Most likely an expired or refused connection id: get a fresh one.
      this.sendConnect(now)
    }
    if (ok) c.ok++
    else c.errors++
    this.source.finish(info.token, ok ? OUTCOME_OK : OUTCOME_ERROR)
    this.slotSentAt[slot] = 0
    if (this.running) this.send(slot, now)
  }

  private tick (): void {
    if (!this.running) return
    const now = performance.now()
    const limit = this.opts.timeoutMs
    if (this.connectTx !== -1 && now - this.connectSentAt > limit) this.sendConnect(now)
    else if (this.hasId && this.connectTx === -1 && now - this.lastConnectAt > this.opts.connectRefreshMs) this.sendConnect(now)
    if (!this.hasId) return
    for (let i = 0; i < this.opts.window; i++) {
      const at = this.slotSentAt[i]!
      if (at !== 0 && now - at > limit) {
        this.counters.timeouts++
        this.slotSentAt[i] = 0
        this.source.finish(this.slotInfo[i]!.token, OUTCOME_TIMEOUT)
        this.send(i, now)
      }
    }
    if (this.idle > 0) this.fill(now)
  }
}
