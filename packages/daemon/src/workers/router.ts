/**
 * The per-request side of `--workers N` (docs/workers.md): what a worker does with a request for
 * a torrent of another worker's shard, and with such requests handed to it.
 *
 *  - UDP announce (and a scrape whose hashes all belong to one other shard): the packet and the
 *    client's address go to the owner ({@link FAST_UDP}), which answers from its own socket bound
 *    to the same address and port, so the client sees the reply come from where it sent. One way:
 *    nothing waits for anything.
 *  - Connects are answered where they arrive: every worker has the same connection-id key.
 *  - A scrape spanning shards (UDP or HTTP) is answered where it arrived: the counts of the other
 *    shards' hashes are asked of their owners ({@link FAST_SCRAPE_QUERY}) and the reply is written
 *    when all have answered.
 *  - HTTP announces: the connection stays where it was accepted; the announce, parsed and
 *    addressed there, goes to the owner ({@link FAST_HTTP_QUERY}), which answers it from its
 *    store and sends back the reply bytes.
 *    The connection reads nothing more until the reply is written, so pipelined replies keep their
 *    order.
 *
 * Payloads (little-endian):
 *   FAST_UDP            u8 socket index | u8 address length | u16 port | address (latin1) | packet
 *   FAST_SCRAPE_QUERY   u32 request | u16 n | n x (u16 position | 20-byte info_hash)
 *   FAST_SCRAPE_ANSWER  u32 request | u16 n | n x (u16 position | u8 found | u8 0 | u32 seeders | u32 leechers | f64 downloaded)
 *   FAST_HTTP_QUERY     u32 request | the announce as parsed where it arrived (http/handler.ts, PACKED_ANNOUNCE_BYTES)
 *   FAST_HTTP_ANSWER    u32 request | u8 close | 3 x 0 | reply bytes
 */
import { UDP_SCRAPE_MAX_HASHES, writeScrapeReplyEntry, writeScrapeReplyHead } from '@otd/proto'
import type dgram from 'node:dgram'
import type { Counters } from '../counters.js'
import { PACKED_ANNOUNCE_BYTES, type HttpHandler } from '../http/handler.js'
import { ReplySlab } from '../reply-slab.js'
import type { SwarmStore } from '../swarm/store.js'
import type { Mesh } from './mesh.js'
import type { ShardMap } from './shard.js'

export const FAST_UDP = 1
export const FAST_SCRAPE_QUERY = 2
export const FAST_SCRAPE_ANSWER = 3
export const FAST_HTTP_QUERY = 4
export const FAST_HTTP_ANSWER = 5

/** Answers a UDP packet on one of this worker's sockets (udp/server.ts). */
export type UdpAnswer = (msg: Buffer, length: number, address: string, port: number) => void

/** The counts of a gathered scrape, by position in the request. */
export class ScrapeCounts {
  readonly seeders: Uint32Array
  readonly leechers: Uint32Array
  readonly downloaded: Float64Array
  readonly found: Uint8Array
  /** Owners that have not answered yet. */
  waiting = 0

  constructor (readonly n: number, readonly done: (c: ScrapeCounts) => void) {
    this.seeders = new Uint32Array(n)
    this.leechers = new Uint32Array(n)
    this.downloaded = new Float64Array(n)
    this.found = new Uint8Array(n)
  }
}

export type HttpDone = (reply: Buffer, close: boolean) => void

/** Largest forwarded UDP packet kept (longer ones are cut: no request reads that far). */
const MAX_PACKET_BYTES = 2048
const SCRAPE_QUERY_ENTRY = 22
const SCRAPE_ANSWER_ENTRY = 20
const HTTP_QUERY_HEAD = 4
const HTTP_ANSWER_HEAD = 8

export class ShardRouter {
  /** This worker's UDP answerers, by socket index (the same order in every worker). */
  readonly udp: UdpAnswer[] = []
  http: HttpHandler | null = null

  private nextRequest = 1
  private readonly gathers = new Map<number, ScrapeCounts>()
  private readonly httpJobs = new Map<number, HttpDone>()
  /** Scrape queries being built, one per owner. */
  private readonly queries: Buffer[]
  private readonly queryCounts: Uint16Array
  private readonly scratch: Buffer
  private readonly packet = Buffer.alloc(MAX_PACKET_BYTES)
  /** The head of an HTTP answer (u32 request, u8 close, 3 x 0). */
  private readonly answerHead = Buffer.alloc(HTTP_ANSWER_HEAD)
  private readonly httpSlab = new ReplySlab()

  constructor (
    readonly mesh: Mesh,
    readonly shards: ShardMap,
    private readonly store: SwarmStore,
    private readonly counters: Counters,
    maxScrapeHashes: number
  ) {
    const most = Math.max(maxScrapeHashes, UDP_SCRAPE_MAX_HASHES)
    this.queries = Array.from({ length: shards.count }, () => Buffer.alloc(6 + most * SCRAPE_QUERY_ENTRY))
    this.queryCounts = new Uint16Array(shards.count)
    this.scratch = Buffer.alloc(6 + most * SCRAPE_ANSWER_ENTRY)
  }

  /** Starts taking messages from the other workers. */
  start (): void {
    this.mesh.start(this.onFast)
  }

  // ---- UDP ----

  /**
   * The owner of a UDP announce or scrape when it is another worker, else -1 (answer here: a
   * connect, our own torrent, something malformed, or a scrape spanning shards).
   */
  udpOwner (msg: Buffer, length: number): number {
    if (length < 36) return -1
    const action = msg.readUInt32BE(8)
    const owner = this.shards.owner
    const me = this.shards.index
    if (action === 1) {
      const o = owner[msg[16]!]!
      return o === me || length < 98 ? -1 : o
    }
    if (action !== 2) return -1
    let n = Math.floor((length - 16) / 20)
    if (n > UDP_SCRAPE_MAX_HASHES) n = UDP_SCRAPE_MAX_HASHES
    const o = owner[msg[16]!]!
    if (o === me) return -1
    for (let k = 1; k < n; k++) if (owner[msg[16 + k * 20]!] !== o) return -1
    return o
  }

  /** Hands a UDP packet that arrived on socket `socketIndex` to worker `owner`. */
  forwardUdp (owner: number, socketIndex: number, msg: Buffer, address: string, port: number): void {
    const length = msg.length > MAX_PACKET_BYTES ? MAX_PACKET_BYTES : msg.length
    const w = this.mesh.writer(owner)
    const alen = address.length
    const n = 4 + alen + length
    const o = w.reserve(n)
    if (o < 0) { this.counters.shardUdpDropped++; return }
    const b = w.buf
    b[o] = socketIndex
    b[o + 1] = alen
    b.writeUInt16LE(port, o + 2)
    b.write(address, o + 4, alen, 'latin1')
    msg.copy(b, o + 4 + alen, 0, length)
    this.mesh.commit(owner, FAST_UDP, n)
    this.counters.shardUdpForwarded++
  }

  private answerUdp (buf: Buffer, start: number, end: number): void {
    const answer = this.udp[buf[start]!]
    if (answer === undefined) return
    const alen = buf[start + 1]!
    const port = buf.readUInt16LE(start + 2)
    const address = buf.toString('latin1', start + 4, start + 4 + alen)
    const p = start + 4 + alen
    const length = end - p
    buf.copy(this.packet, 0, p, end)
    answer(this.packet, length, address, port)
  }

  /** Answers a validated UDP scrape spanning shards (udp/server.ts, when the handler says so). */
  gatherUdp (socket: dgram.Socket, msg: Buffer, length: number, address: string, port: number): void {
    let n = Math.floor((length - 16) / 20)
    if (n > UDP_SCRAPE_MAX_HASHES) n = UDP_SCRAPE_MAX_HASHES
    const txid = msg.readUInt32BE(12)
    const counters = this.counters
    this.gather(msg, 16, n, (c) => {
      const out = Buffer.allocUnsafe(8 + 12 * n)
      let o = writeScrapeReplyHead(out, 0, txid)
      for (let k = 0; k < n; k++) o = writeScrapeReplyEntry(out, o, c.seeders[k]!, c.downloaded[k]!, c.leechers[k]!)
      try {
        socket.send(out, 0, o, port, address)
        counters.udpBytesOut += o
      } catch { /* the socket closed meanwhile (shutdown) */ }
    })
  }

  // ---- scrape counts ----

  /**
   * Collects the counts of the `n` hashes at `buf[off]`, ... (ours at once, the others from their
   * owners) and calls `done` with them, possibly before returning when all are ours.
   */
  gather (buf: Buffer, off: number, n: number, done: (c: ScrapeCounts) => void): void {
    this.counters.shardScrapeGathers++
    const c = new ScrapeCounts(n, done)
    const owner = this.shards.owner
    const me = this.shards.index
    const counts = this.queryCounts
    counts.fill(0)
    for (let k = 0; k < n; k++) {
      const h = off + k * 20
      const o = owner[buf[h]!]!
      if (o === me) {
        this.fill(c, k, buf, h)
        continue
      }
      const q = this.queries[o]!
      const at = 6 + counts[o]! * SCRAPE_QUERY_ENTRY
      q.writeUInt16LE(k, at)
      buf.copy(q, at + 2, h, h + 20)
      counts[o]!++
    }
    const id = this.nextRequest++
    for (let o = 0; o < counts.length; o++) {
      const m = counts[o]!
      if (m === 0) continue
      const q = this.queries[o]!
      q.writeUInt32LE(id, 0)
      q.writeUInt16LE(m, 4)
      c.waiting++
      this.send(o, FAST_SCRAPE_QUERY, q, 6 + m * SCRAPE_QUERY_ENTRY)
    }
    if (c.waiting === 0) { done(c); return }
    this.gathers.set(id, c)
  }

  private fill (c: ScrapeCounts, k: number, buf: Uint8Array, h: number): void {
    const store = this.store
    const t = store.find(buf, h)
    if (t < 0) return
    const s = store.seedersOf(t)
    c.found[k] = 1
    c.seeders[k] = s
    c.leechers[k] = store.peersOf(t) - s
    c.downloaded[k] = store.downloaded(t)
  }

  private answerScrape (from: number, buf: Buffer, start: number): void {
    const id = buf.readUInt32LE(start)
    const n = buf.readUInt16LE(start + 4)
    const out = this.scratch
    const store = this.store
    out.writeUInt32LE(id, 0)
    out.writeUInt16LE(n, 4)
    for (let i = 0, q = start + 6, a = 6; i < n; i++, q += SCRAPE_QUERY_ENTRY, a += SCRAPE_ANSWER_ENTRY) {
      out.writeUInt16LE(buf.readUInt16LE(q), a)
      const t = store.find(buf, q + 2)
      if (t < 0) {
        out.fill(0, a + 2, a + SCRAPE_ANSWER_ENTRY)
        continue
      }
      const s = store.seedersOf(t)
      out[a + 2] = 1
      out[a + 3] = 0
      out.writeUInt32LE(s, a + 4)
      out.writeUInt32LE(store.peersOf(t) - s, a + 8)
      out.writeDoubleLE(store.downloaded(t), a + 12)
    }
    this.send(from, FAST_SCRAPE_ANSWER, out, 6 + n * SCRAPE_ANSWER_ENTRY)
  }

  private takeScrapeAnswer (buf: Buffer, start: number): void {
    const id = buf.readUInt32LE(start)
    const c = this.gathers.get(id)
    if (c === undefined) return
    const n = buf.readUInt16LE(start + 4)
    for (let i = 0, a = start + 6; i < n; i++, a += SCRAPE_ANSWER_ENTRY) {
      const k = buf.readUInt16LE(a)
      if (buf[a + 2] === 0 || k >= c.n) continue
      c.found[k] = 1
      c.seeders[k] = buf.readUInt32LE(a + 4)
      c.leechers[k] = buf.readUInt32LE(a + 8)
      c.downloaded[k] = buf.readDoubleLE(a + 12)
    }
    if (--c.waiting === 0) {
      this.gathers.delete(id)
      c.done(c)
    }
  }

  // ---- HTTP ----

  /** Sends a parsed announce (handler.ts, PACKED_ANNOUNCE_BYTES) to worker `owner`; `done` gets its reply. */
  forwardHttp (owner: number, packed: Buffer, done: HttpDone): void {
    const id = this.nextRequest++
    this.httpJobs.set(id, done)
    const h = this.scratch
    h.writeUInt32LE(id, 0)
    this.counters.shardHttpForwarded++
    this.sendWith(owner, FAST_HTTP_QUERY, h, HTTP_QUERY_HEAD, packed, 0, PACKED_ANNOUNCE_BYTES)
  }

  private answerHttp (from: number, buf: Buffer, start: number, end: number): void {
    const h = this.answerHead
    h.writeUInt32LE(buf.readUInt32LE(start), 0)
    const handler = this.http
    if (handler === null || end - start !== HTTP_QUERY_HEAD + PACKED_ANNOUNCE_BYTES) {
      // Not from this build of otd: an empty answer, which the connection turns into a 500.
      h[4] = 1
      this.sendWith(from, FAST_HTTP_ANSWER, h, HTTP_ANSWER_HEAD, EMPTY, 0, 0)
      return
    }
    const slab = this.httpSlab
    const mark = slab.off
    handler.answerPacked(buf, start + HTTP_QUERY_HEAD, slab)
    h[4] = handler.close ? 1 : 0
    this.sendWith(from, FAST_HTTP_ANSWER, h, HTTP_ANSWER_HEAD, handler.reply, handler.replyStart, handler.replyEnd)
    slab.off = mark // the reply was copied out
  }

  private takeHttpAnswer (buf: Buffer, start: number, end: number): void {
    const id = buf.readUInt32LE(start)
    const done = this.httpJobs.get(id)
    if (done === undefined) return
    this.httpJobs.delete(id)
    const reply = Buffer.allocUnsafe(end - start - HTTP_ANSWER_HEAD)
    buf.copy(reply, 0, start + HTTP_ANSWER_HEAD, end)
    done(reply, buf[start + 4] === 1 || reply.length === 0)
  }

  // ---- transport ----

  private send (to: number, kind: number, src: Buffer, length: number): void {
    const w = this.mesh.writer(to)
    const o = w.reserve(length)
    if (o >= 0) {
      src.copy(w.buf, o, 0, length)
      this.mesh.commit(to, kind, length)
    } else {
      this.mesh.sendOverPort(to, kind, 0, src.subarray(0, length))
    }
  }

  /** Sends `head[0, headLength)` followed by `body[start, end)` as one message. */
  private sendWith (to: number, kind: number, head: Buffer, headLength: number, body: Buffer, start: number, end: number): void {
    const length = headLength + end - start
    const w = this.mesh.writer(to)
    const o = w.reserve(length)
    if (o >= 0) {
      head.copy(w.buf, o, 0, headLength)
      body.copy(w.buf, o + headLength, start, end)
      this.mesh.commit(to, kind, length)
    } else {
      this.mesh.sendOverPort(to, kind, 0, Buffer.concat([head.subarray(0, headLength), body.subarray(start, end)]))
    }
  }

  private readonly onFast = (kind: number, _aux: number, buf: Buffer, start: number, end: number): void => {
    switch (kind) {
      case FAST_UDP: this.answerUdp(buf, start, end); return
      case FAST_SCRAPE_QUERY: this.answerScrape(this.mesh.from, buf, start); return
      case FAST_SCRAPE_ANSWER: this.takeScrapeAnswer(buf, start); return
      case FAST_HTTP_QUERY: this.answerHttp(this.mesh.from, buf, start, end); return
      case FAST_HTTP_ANSWER: this.takeHttpAnswer(buf, start, end)
    }
  }
}

const EMPTY = Buffer.alloc(0)
