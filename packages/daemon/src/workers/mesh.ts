/**
 * How the workers of one otd process talk to each other (docs/workers.md):
 *
 *  - the fast path, for what is per request (a UDP packet for another shard, a scrape's counts, an
 *    HTTP announce and its reply): one {@link RingWriter}/{@link RingReader} pair per ordered pair
 *    of workers in shared memory, and a state word per worker (see {@link Mesh.busy}): a worker
 *    that is handling packets reads its rings before its event loop blocks, so nobody wakes it; one
 *    that went idle is woken once per turn of the producer's loop;
 *  - the control path, for what is rare or large (stats snapshots, reloads, full-scrape and state
 *    streams, sync imports): a MessagePort per pair of workers carrying calls, replies and pulled
 *    streams. Fast messages that do not fit in their ring (full, or larger than a quarter of it)
 *    take this path too, except forwarded UDP packets, which are dropped and counted like a full
 *    socket buffer would drop them.
 */
import type { MessagePort } from 'node:worker_threads'
import { RingReader, RingWriter, type RingHandler } from './ring.js'

/** Atomics.waitAsync (ES2024; in Node since 16) is missing from the ES2022 lib we compile against. */
const waitAsync = (Atomics as unknown as {
  waitAsync: (a: Int32Array, i: number, v: number) => { async: false, value: string } | { async: true, value: Promise<string> }
}).waitAsync

/**
 * A worker's state word. BUSY: it is running callbacks and will read its rings before its event
 * loop blocks again. IDLE: it may be blocked (in epoll) and has an Atomics.waitAsync pending on the
 * word; a producer that sees IDLE swaps it to BUSY and notifies.
 */
const BUSY = 0
const IDLE = 1
/** Int32 slots between two workers' state words (one per cache line). */
const WAKE_STRIDE = 16
/** Messages handled per ring before the event loop gets a turn. */
const POLL_BUDGET = 256

/** What the main thread hands each worker to build its mesh. */
export interface MeshInit {
  index: number
  count: number
  /** rings[from][to]: the ring from worker `from` to worker `to` (null when from === to). */
  rings: Array<Array<SharedArrayBuffer | null>>
  /** Wake words, worker i at Int32 index i * 16. */
  wake: SharedArrayBuffer
  /** ports[j]: this worker's end of the channel to worker j (null for itself). */
  ports: Array<MessagePort | null>
}

/** A fast message that took the control path (ring full or too large). */
interface FastOverPort { t: 'fast', kind: number, aux: number, payload: Uint8Array }
interface CallMsg { t: 'call', id: number, method: string, args: unknown }
interface ReplyMsg { t: 'reply', id: number, ok: boolean, value: unknown }
interface OpenMsg { t: 'open', id: number, method: string, args: unknown }
interface NextMsg { t: 'next', id: number }
interface CloseMsg { t: 'close', id: number }
interface ChunkMsg { t: 'chunk', id: number, done: boolean, value: Uint8Array | null, error?: string }
type PortMsg = FastOverPort | CallMsg | ReplyMsg | OpenMsg | NextMsg | CloseMsg | ChunkMsg

export type CallHandler = (args: any, from: number) => unknown
export type StreamHandler = (args: any, from: number) => AsyncIterable<Uint8Array>

/** A Buffer over a received Uint8Array's bytes (structured clone delivers plain Uint8Arrays). */
export function asBuffer (u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

export class Mesh {
  readonly index: number
  readonly count: number
  /** The worker whose message is being handled (valid inside the fast handler). */
  from = -1
  /** Wake-ups this worker sent to others (Atomics.notify), for the per-worker figures. */
  wakes = 0
  private readonly writers: Array<RingWriter | null>
  private readonly readers: Array<RingReader | null>
  private readonly wake: Int32Array
  private readonly ports: Array<MessagePort | null>
  private readonly calls = new Map<string, CallHandler>()
  private readonly streams = new Map<string, StreamHandler>()
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly serving = new Map<string, AsyncIterator<Uint8Array>>()
  private nextId = 1
  private closed = false
  /** Idle workers we published to in this turn (woken at its end). */
  private readonly unwoken: Uint8Array
  private wakeScheduled = false
  /** Whether {@link goingIdle} is scheduled (we are BUSY), and whether a waitAsync is pending. */
  private idleScheduled = false
  private sleeping = false
  private fast: RingHandler = () => {}
  private readonly me: number

  constructor (init: MeshInit) {
    this.index = init.index
    this.count = init.count
    this.me = init.index * WAKE_STRIDE
    this.wake = new Int32Array(init.wake)
    this.writers = init.rings[init.index]!.map((s) => s === null ? null : new RingWriter(s))
    this.readers = init.rings.map((row) => { const s = row[init.index]!; return s === null ? null : new RingReader(s) })
    this.ports = init.ports
    this.unwoken = new Uint8Array(init.count)
    for (let j = 0; j < this.count; j++) {
      const p = this.ports[j]
      if (p === null || p === undefined) continue
      p.on('message', (m: PortMsg) => this.onPort(j, m))
    }
  }

  /** Sets the handler of fast messages ({@link from} says who sent each) and starts receiving. */
  start (handler: RingHandler): void {
    this.fast = handler
    this.busy()
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    Atomics.store(this.wake, this.me, BUSY)
    Atomics.notify(this.wake, this.me)
    for (const p of this.ports) p?.close()
    for (const w of this.waiting.values()) w.reject(new Error('worker mesh closed'))
    this.waiting.clear()
  }

  // ---- fast path ----

  /** The ring to worker `to`: {@link RingWriter.reserve} there, then {@link commit}. */
  writer (to: number): RingWriter {
    return this.writers[to]!
  }

  /**
   * Publishes the message reserved on the ring to `to`; if `to` is IDLE, it is woken at the end
   * of this turn of our event loop (one wake for all we publish to it in the turn). A BUSY
   * consumer reads the message before it blocks: no wake, which is what makes forwarding cheap
   * under load (a wake costs a system call in each thread and a task in the consumer's loop; paid
   * per forwarded packet it measured as much as answering the packet, docs/workers.md).
   *
   * Why nothing is lost: the producer publishes the tail, then loads the state; the consumer
   * stores IDLE, then loads the tails ({@link goingIdle}). Both are sequentially consistent
   * atomics, so at least one of them sees the other's write: the producer sees IDLE (and wakes
   * it), or the consumer sees the message.
   */
  commit (to: number, kind: number, length: number, aux = 0): void {
    this.writers[to]!.commit(kind, length, aux)
    if (this.unwoken[to] === 0 && Atomics.load(this.wake, to * WAKE_STRIDE) === IDLE) {
      this.unwoken[to] = 1
      if (!this.wakeScheduled) { this.wakeScheduled = true; setImmediate(this.wakeNow) }
    }
  }

  private readonly wakeNow = (): void => {
    this.wakeScheduled = false
    const u = this.unwoken
    for (let to = 0; to < u.length; to++) {
      if (u[to] === 0) continue
      u[to] = 0
      const i = to * WAKE_STRIDE
      if (Atomics.compareExchange(this.wake, i, IDLE, BUSY) === IDLE) {
        Atomics.notify(this.wake, i, 1)
        this.wakes++
      }
    }
  }

  /**
   * Says that this worker is handling something (a packet, a connection's data): until the end
   * of this turn of its event loop it is BUSY, and reads its rings then ({@link goingIdle}).
   * Costs a load, a store and a setImmediate once per turn; call it for every own packet.
   */
  busy (): void {
    if (this.idleScheduled) return
    this.idleScheduled = true
    if (Atomics.load(this.wake, this.me) !== BUSY) Atomics.store(this.wake, this.me, BUSY)
    setImmediate(this.goingIdle)
  }

  /** The end of a busy turn: IDLE, then read the rings (see {@link commit}), then wait for a wake. */
  private readonly goingIdle = (): void => {
    this.idleScheduled = false
    if (this.closed) return
    Atomics.store(this.wake, this.me, IDLE)
    if (this.read()) {
      // More than a turn's budget waits: stay BUSY and continue in the next turn.
      this.busy()
      return
    }
    if (this.sleeping) return // a waitAsync is pending already
    const w = waitAsync(this.wake, this.me, IDLE)
    if (!w.async) { this.busy(); return } // woken before we waited: a producer swapped IDLE → BUSY
    this.sleeping = true
    void w.value.then(this.woken)
  }

  private readonly woken = (): void => {
    this.sleeping = false
    if (this.closed) return
    this.busy()
    this.read()
  }

  /** Handles up to a budget of messages from every ring; returns true when some are left. */
  private read (): boolean {
    const readers = this.readers
    let more = false
    for (let j = 0; j < readers.length; j++) {
      const r = readers[j]
      if (r === null || r === undefined || !r.pending) continue
      this.from = j
      if (r.poll(this.fast, POLL_BUDGET) === POLL_BUDGET && r.pending) more = true
    }
    return more
  }

  /** Sends a fast message over the control path (when its ring cannot take it). */
  sendOverPort (to: number, kind: number, aux: number, payload: Buffer): void {
    // A copy: the caller's buffer may be reused as soon as this returns.
    const copy = new Uint8Array(payload.length)
    copy.set(payload)
    this.post(to, { t: 'fast', kind, aux, payload: copy }, [copy.buffer])
  }

  // ---- control path ----

  private post (to: number, m: PortMsg, transfer: ArrayBuffer[] = []): void {
    const p = this.ports[to]
    if (p === null || p === undefined || this.closed) return
    p.postMessage(m, transfer)
  }

  /** Registers what answers `call(method)` from other workers (a value or a promise of one). */
  onCall (method: string, fn: CallHandler): void { this.calls.set(method, fn) }
  /** Registers what serves `stream(method)` to other workers. */
  onStream (method: string, fn: StreamHandler): void { this.streams.set(method, fn) }

  /** Calls `method` in worker `to`; resolves with its (structured-cloned) result. */
  call<T = unknown> (to: number, method: string, args: unknown = null): Promise<T> {
    if (this.closed) return Promise.reject(new Error('worker mesh closed'))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.post(to, { t: 'call', id, method, args })
    })
  }

  /** Calls `method` in every other worker; results by worker index (undefined at our own). */
  callOthers<T = unknown> (method: string, args: unknown = null): Promise<Array<T | undefined>> {
    const out: Array<Promise<T | undefined>> = []
    for (let j = 0; j < this.count; j++) out.push(j === this.index ? Promise.resolve(undefined) : this.call<T>(j, method, args))
    return Promise.all(out)
  }

  /** Pulls the chunks of stream `method` from worker `to`, one request per chunk (back-pressure). */
  async * stream (to: number, method: string, args: unknown = null): AsyncGenerator<Buffer> {
    const id = this.nextId++
    const next = (first: boolean): Promise<ChunkMsg> => new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.post(to, first ? { t: 'open', id, method, args } : { t: 'next', id })
    })
    let done = false
    try {
      let m = await next(true)
      for (;;) {
        if (m.error !== undefined) { done = true; throw new Error(m.error) }
        if (m.done) { done = true; return }
        yield asBuffer(m.value!)
        m = await next(false)
      }
    } finally {
      if (!done) this.post(to, { t: 'close', id })
    }
  }

  private onPort (from: number, m: PortMsg): void {
    switch (m.t) {
      case 'fast': {
        const b = asBuffer(m.payload)
        this.from = from
        this.fast(m.kind, m.aux, b, 0, b.length)
        return
      }
      case 'call': {
        const fn = this.calls.get(m.method)
        const reply = (ok: boolean, value: unknown): void => this.post(from, { t: 'reply', id: m.id, ok, value })
        if (fn === undefined) { reply(false, `no such call ${m.method}`); return }
        try {
          Promise.resolve(fn(m.args, from)).then((v) => reply(true, v), (e: unknown) => reply(false, e instanceof Error ? e.message : String(e)))
        } catch (e) {
          reply(false, e instanceof Error ? e.message : String(e))
        }
        return
      }
      case 'reply': {
        const w = this.waiting.get(m.id)
        if (w === undefined) return
        this.waiting.delete(m.id)
        if (m.ok) w.resolve(m.value)
        else w.reject(new Error(String(m.value)))
        return
      }
      case 'chunk': {
        const w = this.waiting.get(m.id)
        if (w === undefined) return
        this.waiting.delete(m.id)
        w.resolve(m)
        return
      }
      case 'open': {
        const fn = this.streams.get(m.method)
        if (fn === undefined) { this.post(from, { t: 'chunk', id: m.id, done: true, value: null, error: `no such stream ${m.method}` }); return }
        const key = `${from}:${m.id}`
        try {
          this.serving.set(key, fn(m.args, from)[Symbol.asyncIterator]())
        } catch (e) {
          this.post(from, { t: 'chunk', id: m.id, done: true, value: null, error: e instanceof Error ? e.message : String(e) })
          return
        }
        this.serveNext(from, m.id)
        return
      }
      case 'next':
        this.serveNext(from, m.id)
        return
      case 'close': {
        const key = `${from}:${m.id}`
        const it = this.serving.get(key)
        this.serving.delete(key)
        void it?.return?.()
      }
    }
  }

  private serveNext (from: number, id: number): void {
    const key = `${from}:${id}`
    const it = this.serving.get(key)
    if (it === undefined) { this.post(from, { t: 'chunk', id, done: true, value: null, error: 'stream closed' }); return }
    it.next().then((r) => {
      if (r.done === true) {
        this.serving.delete(key)
        this.post(from, { t: 'chunk', id, done: true, value: null })
        return
      }
      const v = r.value
      // Copy into a transferable buffer (the producer may reuse or hold its own).
      const copy = new Uint8Array(v.byteLength)
      copy.set(v)
      this.post(from, { t: 'chunk', id, done: false, value: copy }, [copy.buffer])
    }, (e: unknown) => {
      this.serving.delete(key)
      this.post(from, { t: 'chunk', id, done: true, value: null, error: e instanceof Error ? e.message : String(e) })
    })
  }
}
