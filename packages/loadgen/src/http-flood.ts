/**
 * `otbench http` over plain `node:net`: keep-alive connections with optional pipelining, or one
 * new connection per request as most BitTorrent clients do. A small response framer
 * (http-response.ts) instead of an HTTP client library keeps the generator cheap enough to
 * load a tracker that answers tens of thousands of requests per second from one core.
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { ResponseParser } from './http-response.js'
import type { HttpSource } from './http-source.js'
import { Counters } from './stats.js'
import { KIND_ANNOUNCE } from './udp-client.js'

export interface HttpFloodOptions {
  /** An address (resolve names first). */
  host: string
  port: number
  /** Concurrent connections (keep-alive) or concurrent requests (new connection each). */
  connections: number
  /** Requests in flight per keep-alive connection. */
  pipelining: number
  /** Open a new connection for every request. */
  newConnection: boolean
  timeoutMs: number
}

/** Delay before reconnecting after a refused or failed connection, so a dead target is not spun on. */
const RETRY_DELAY_MS = 20

function record (c: Counters, kind: number, status: number, failure: boolean, latencyMs: number): void {
  c.latency.recordMs(latencyMs)
  if (status === 200 && !failure) {
    c.ok++
    if (kind === KIND_ANNOUNCE) c.okAnnounce++
    else c.okScrape++
  } else {
    c.errors++
  }
}

/** One keep-alive connection with up to `pipelining` requests in flight, answered in order. */
class KeepAliveConnection {
  private socket: net.Socket | null = null
  private readonly sentAt: Float64Array
  private readonly kinds: Uint8Array
  private head = 0
  private count = 0
  /** The server said it closes this connection: send nothing more on it. */
  private closing = false

  constructor (private readonly flood: HttpFlood, private readonly opts: HttpFloodOptions) {
    this.sentAt = new Float64Array(opts.pipelining)
    this.kinds = new Uint8Array(opts.pipelining)
  }

  open (): void {
    const s = net.connect({ host: this.opts.host, port: this.opts.port, noDelay: true })
    this.flood.counters.connects++
    this.socket = s
    this.head = 0
    this.count = 0
    this.closing = false
    let answered = 0
    const parser = new ResponseParser((status, failure, close) => { answered++; this.onResponse(s, status, failure, close) })
    let failed = false
    s.on('data', (chunk: Buffer) => {
      if (!parser.feed(chunk)) { this.flood.counters.errors++; s.destroy() }
    })
    s.on('end', () => { parser.end() })
    s.on('error', () => { failed = true })
    s.on('close', () => {
      if (this.socket !== s) return
      this.socket = null
      if (this.count > 0) {
        const c = this.flood.counters
        if (answered > 0 && !failed && !parser.hasPartial()) {
          // The server closed a persistent connection between responses (opentracker answers
          // HTTP/1.1 without keep-alive and without "Connection: close"): like any HTTP client,
          // re-send those requests on a new connection (RFC 9112 §9.3.1) rather than call them failed.
          c.sent -= this.count
          c.retried += this.count
        } else {
          c.socketErrors += this.count
        }
      }
      this.count = 0
      if (this.flood.running) {
        if (failed) setTimeout(() => { if (this.flood.running) this.open() }, RETRY_DELAY_MS)
        else this.open()
      }
    })
    this.fill()
  }

  private fill (): void {
    const s = this.socket
    if (s === null || this.closing) return
    const P = this.opts.pipelining
    if (this.count >= P) return
    const src = this.flood.source
    const now = performance.now()
    if (P - this.count > 1) s.cork()
    while (this.count < P) {
      const text = src.next()
      const at = (this.head + this.count) % P
      this.sentAt[at] = now
      this.kinds[at] = src.kind
      this.count++
      this.flood.counters.sent++
      s.write(text, 'latin1')
    }
    if (s.writableCorked > 0) s.uncork()
  }

  private onResponse (s: net.Socket, status: number, failure: boolean, close: boolean): void {
    if (this.socket !== s) return
    if (this.count === 0) { this.flood.counters.errors++; return }
    const at = this.head
    this.head = (this.head + 1) % this.opts.pipelining
    this.count--
    record(this.flood.counters, this.kinds[at]!, status, failure, performance.now() - this.sentAt[at]!)
    if (close) {
      // The server closes after this reply: requests pipelined behind it are re-sent on the new
      // connection opened when this one is gone (RFC 9112 §9.3.1).
      this.flood.counters.sent -= this.count
      this.flood.counters.retried += this.count
      this.count = 0
      this.closing = true
      s.end()
      return
    }
    if (this.flood.running) this.fill()
  }

  /** Drops the connection when its oldest request is overdue (it is reopened by 'close'). */
  checkTimeout (now: number): void {
    if (this.count > 0 && this.socket !== null && now - this.sentAt[this.head]! > this.opts.timeoutMs) {
      this.flood.counters.timeouts += this.count
      this.count = 0
      this.socket.destroy()
    }
  }

  close (): void {
    this.socket?.destroy()
    this.socket = null
  }
}

/**
 * One request slot that opens a connection, sends one request, reads the reply and closes.
 *
 * The slot waits for the server to close first (HTTP/1.0 without keep-alive: the tracker closes
 * after the reply), so TIME_WAIT lands on the server's side of the connection. Closing first from
 * here would leave every finished connection in TIME_WAIT on the client and run the 28k ephemeral
 * ports dry within seconds at tracker rates, measuring the kernel's port search instead of the
 * tracker. A server that keeps the connection open is closed from here after {@link LINGER_MS}.
 */
const LINGER_MS = 1000

class OneShotSlot {
  private socket: net.Socket | null = null
  /** When the request was sent; -1 once the slot's request is over (answered or timed out). */
  private sentAt = 0
  private answeredAt = 0

  constructor (private readonly flood: HttpFlood, private readonly opts: HttpFloodOptions) {}

  go (): void {
    const f = this.flood
    const src = f.source
    const text = src.next()
    const kind = src.kind
    const s = net.connect({ host: this.opts.host, port: this.opts.port, noDelay: true })
    f.counters.connects++
    this.socket = s
    const sentAt = performance.now()
    this.sentAt = sentAt
    f.counters.sent++
    let done = false
    let ended = false
    let failed = false
    const parser = new ResponseParser((status, failure) => {
      if (done) return
      done = true
      const now = performance.now()
      this.sentAt = -1
      this.answeredAt = now
      record(f.counters, kind, status, failure, now - sentAt)
      if (ended) s.destroy()
    })
    s.write(text, 'latin1')
    s.on('data', (chunk: Buffer) => {
      if (!parser.feed(chunk)) { f.counters.errors++; done = true; this.sentAt = -1; s.destroy() }
    })
    s.on('end', () => {
      ended = true
      parser.end()
      s.destroy()
    })
    s.on('error', () => { failed = true })
    s.on('close', () => {
      if (this.socket === s) this.socket = null
      if (!done && this.sentAt !== -1) f.counters.socketErrors++
      if (!f.running) return
      if (failed && !done) setTimeout(() => { if (f.running) this.go() }, RETRY_DELAY_MS)
      else this.go()
    })
  }

  checkTimeout (now: number): void {
    const s = this.socket
    if (s === null) return
    if (this.sentAt > 0 && now - this.sentAt > this.opts.timeoutMs) {
      this.flood.counters.timeouts++
      this.sentAt = -1
      s.destroy()
    } else if (this.sentAt === -1 && now - this.answeredAt > LINGER_MS) {
      s.destroy()
    }
  }

  close (): void {
    this.socket?.destroy()
    this.socket = null
  }
}

export class HttpFlood {
  readonly counters = new Counters()
  running = false
  private readonly conns: Array<KeepAliveConnection | OneShotSlot>
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly opts: HttpFloodOptions, readonly source: HttpSource) {
    if (!(opts.connections >= 1)) throw new Error(`connections must be >= 1: ${opts.connections}`)
    if (!(opts.pipelining >= 1)) throw new Error(`pipelining must be >= 1: ${opts.pipelining}`)
    this.conns = Array.from({ length: opts.connections }, () =>
      opts.newConnection ? new OneShotSlot(this, opts) : new KeepAliveConnection(this, opts))
  }

  async start (): Promise<void> {
    this.running = true
    for (const c of this.conns) {
      if (c instanceof OneShotSlot) c.go()
      else c.open()
    }
    this.timer = setInterval(() => {
      const now = performance.now()
      for (const c of this.conns) c.checkTimeout(now)
    }, Math.max(10, Math.min(100, this.opts.timeoutMs / 4)))
  }

  async stop (): Promise<void> {
    this.running = false
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    for (const c of this.conns) c.close()
  }
}
