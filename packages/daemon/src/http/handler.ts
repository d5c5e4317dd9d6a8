/**
 * HTTP tracker requests as a pure function of (request bytes, client address) over the store:
 * no sockets here, so most behaviour is testable without a network, and the connection layer
 * (server.ts) only frames requests and writes the reply this produces.
 *
 * Rate limits key on the effective client address (a trusted proxy's X-Forwarded-For, as for
 * announces) and are checked before the query is parsed: an over-limit announce or scrape is
 * answered with a constant bencoded failure (200, like opentracker's failures) and never reaches
 * the store.
 */
import {
  AnnounceQuery, EVENT_COMPLETED, EVENT_STOPPED, FAILURE_NO_INFO_HASH, FAILURE_NOT_AUTHORIZED, FAMILY_INVALID, HTTP_HEAD_RESERVE, HttpRequestHead,
  QUERY_OK, REPLY_400, REPLY_403, REPLY_404, REPLY_500, ROUTE_ANNOUNCE, ROUTE_ROOT, ROUTE_SCRAPE, ScrapeQuery,
  SCRAPE_ENTRY_BOUND, announceBodyBound, dictAnnounceBodyBound, formatIPv4, formatIPv6, parseAnnounceQuery,
  parseAddress, parseRequestHead, parseScrapeQuery, redirectReply, writeAnnounceHead, writeDictEnd, writeDictPeer,
  writeOkHead, writePeers6Key, writePeersKey, writePeersListStart, writeScrapeEnd, writeScrapeEntry,
  writeScrapeStart, writeStoppedBody
} from '@otd/proto'
import type { AccessLists } from '../access/access-lists.js'
import type { Blessings } from '../access/blessings.js'
import { MAY_PROXY, type TrackerOptions } from '../config.js'
import type { Counters } from '../counters.js'
import { FAILURE_RATE_LIMITED, KIND_ANNOUNCE, KIND_FULLSCRAPE, KIND_SCRAPE, type RateLimiter } from '../limits/rate-limit.js'
import type { ReplySlab } from '../reply-slab.js'
import { STRIDE_V4, STRIDE_V6, selectPeers, writeCompactPeers } from '../swarm/peer-list.js'
import { available, drawInterval, split6, splitFamilies } from '../swarm/reply-peers.js'
import { type SwarmStore, peerKey } from '../swarm/store.js'
import type { HttpDone, ScrapeCounts, ShardRouter } from '../workers/router.js'
import type { Deferred, OpsRoutes } from './ops.js'

const selected = new Int32Array(1024)

/**
 * With `--workers`, an announce for another worker's torrent goes to it parsed, not as the request
 * head (parsing it twice was 3% of two workers' CPU under keep-alive load):
 *   u8 family | u8 flags (PACK_*) | u8 event | u8 HTTP minor version | u16 port | 2 x 0 |
 *   i32 numwant | 4 x u32 address words it is recorded under | info_hash | peer_id
 */
export const PACKED_ANNOUNCE_BYTES = 68
const PACK_PEER_ID = 1
const PACK_LEFT_ZERO = 2
const PACK_COMPACT = 4
const PACK_NO_PEER_ID = 8
const PACK_KEEP_ALIVE = 16
const PACK_PROXIED = 32

/** Orders the 20-byte hashes `a` and `b` packed in `hashes` (Buffer#compare takes the target range first). */
function compareHashes (hashes: Buffer, a: number, b: number): number {
  return hashes.compare(hashes, b * 20, b * 20 + 20, a * 20, a * 20 + 20)
}

/** The reply to a scrape whose counts were gathered from several workers (hashes sorted, unique). */
function scrapeReplyOf (hashes: Buffer, c: ScrapeCounts, keepAlive10: boolean): Buffer {
  const out = Buffer.allocUnsafe(HTTP_HEAD_RESERVE + 16 + c.n * SCRAPE_ENTRY_BOUND)
  let off = writeScrapeStart(out, HTTP_HEAD_RESERVE)
  for (let k = 0; k < c.n; k++) {
    if (c.found[k] === 1) off = writeScrapeEntry(out, off, hashes, k * 20, c.seeders[k]!, c.downloaded[k]!, c.leechers[k]!)
  }
  off = writeScrapeEnd(out, off)
  return out.subarray(writeOkHead(out, HTTP_HEAD_RESERVE, off - HTTP_HEAD_RESERVE, keepAlive10), off)
}

/** Starts work whose reply comes later; `done` receives the reply bytes and whether to close. */
export type Later = (done: HttpDone) => void

export class HttpHandler {
  /** The reply of the last {@link handle}: `reply[replyStart, replyEnd)`. */
  reply: Buffer = REPLY_400
  replyStart = 0
  replyEnd = 0
  /** Whether the connection must close after this reply. */
  close = true
  /** Set instead of a reply when a slow route takes over the connection (full scrape, admin). */
  deferred: Deferred | null = null
  /**
   * With `--workers`: set instead of a reply when the answer comes from other workers (an
   * announce for another shard, a scrape spanning shards). The connection layer starts it and
   * writes what it delivers before reading the next request.
   */
  later: Later | null = null
  /** The parsed head of the last request (for the connection layer: keep-alive, headers). */
  readonly head = new HttpRequestHead()

  private readonly announceQuery = new AnnounceQuery()
  private readonly scrapeQuery: ScrapeQuery
  private readonly order: Int32Array
  private readonly statsPath: Buffer
  private readonly redirect: Buffer | null
  private readonly ipText = new Uint32Array(4)
  /** The address an announce is recorded under (the client's, or its trusted proxy's X-Forwarded-For). */
  private readonly peerIp = new Uint32Array(4)
  /** Whether the last {@link announcerAddress} came from a trusted X-Forwarded-For. */
  private proxied = false
  private readonly externalIp4 = Buffer.alloc(4)
  private readonly externalIp16 = Buffer.alloc(16)
  private readonly announceLimit: RateLimiter | null
  private readonly scrapeLimit: RateLimiter | null
  private readonly fullScrapeLimited: boolean
  /** With workers: an announce for another worker's torrent, packed for it (see {@link answerPacked}). */
  private readonly packed = Buffer.alloc(PACKED_ANNOUNCE_BYTES)

  constructor (
    private readonly store: SwarmStore,
    private readonly options: TrackerOptions,
    private readonly counters: Counters,
    private readonly access: AccessLists | null = null,
    private readonly blessings: Blessings | null = null,
    private readonly ops: OpsRoutes | null = null,
    limiter: RateLimiter | null = null,
    private readonly router: ShardRouter | null = null
  ) {
    this.announceLimit = limiter !== null && limiter.limits(KIND_ANNOUNCE) ? limiter : null
    this.scrapeLimit = limiter !== null && limiter.limits(KIND_SCRAPE) ? limiter : null
    this.fullScrapeLimited = limiter !== null && limiter.limits(KIND_FULLSCRAPE)
    this.scrapeQuery = new ScrapeQuery(options.scrapeMaxHashes)
    this.order = new Int32Array(options.scrapeMaxHashes)
    this.redirect = options.redirectUrl === '' ? null : redirectReply(options.redirectUrl)
    this.statsPath = Buffer.from(options.statsPath)
  }

  private fixed (reply: Buffer, status: number): void {
    this.reply = reply
    this.replyStart = 0
    this.replyEnd = reply.length
    this.close = true
    this.counters.httpError(status)
  }

  /** Answers an oversize or unterminated request head (opentracker: 500). */
  tooLarge (): void {
    this.fixed(REPLY_500, 500)
  }

  /**
   * Handles the request head `buf[start, headEnd)` from a client at (`family`, `ip`), writing a
   * reply into `slab` (or pointing at a constant reply).
   */
  handle (buf: Buffer, start: number, headEnd: number, family: number, ip: Uint32Array, slab: ReplySlab): void {
    this.counters.httpRequests++
    const head = this.head
    const route = parseRequestHead(buf, start, headEnd, this.statsPath, head)
    switch (route) {
      case ROUTE_ANNOUNCE:
        this.counters.httpAnnounces++
        this.announce(buf, family, ip, slab)
        return
      case ROUTE_SCRAPE:
        this.counters.httpScrapes++
        this.scrape(buf, family, ip, slab)
        return
      case ROUTE_ROOT:
        if (this.redirect !== null) { this.fixed(this.redirect, 302); return }
        this.fixed(REPLY_404, 404)
        return
      case 0: // ROUTE_BAD_REQUEST
        this.fixed(REPLY_400, 400)
        return
      default: {
        if (this.ops === null) { this.fixed(REPLY_404, 404); return }
        // Full scrapes are rate limited by the effective address; permissions stay the client's own.
        let limitFamily = family
        let limitIp = ip
        if (this.fullScrapeLimited && head.forwardedStart >= 0) { limitFamily = this.announcerAddress(buf, family, ip); limitIp = this.peerIp }
        const r = this.ops.handle(route, buf, head, family, ip, limitFamily, limitIp)
        if (typeof r === 'number') { this.fixed(r === 403 ? REPLY_403 : r === 400 ? REPLY_400 : REPLY_404, r); return }
        if (typeof r === 'function') { this.deferred = r; this.close = true; return }
        this.reply = r
        this.replyStart = 0
        this.replyEnd = r.length
        this.close = this.ops.close
        if (this.ops.status !== 200) this.counters.httpError(this.ops.status)
      }
    }
  }

  /**
   * The address to record for an announce: the client's own, or the first address of
   * X-Forwarded-For when the client is a trusted proxy (reference §3.10: MAY_PROXY; a value that
   * does not parse falls back to the proxy's address). Returns the family; the words are in peerIp,
   * and {@link proxied} says which it was.
   */
  private announcerAddress (buf: Buffer, family: number, ip: Uint32Array): number {
    const head = this.head
    const out = this.peerIp
    this.proxied = false
    if (head.forwardedStart >= 0 && this.blessings !== null && this.blessings.size > 0 && this.blessings.may(family, ip, MAY_PROXY)) {
      // The first element of the list; `[v6]:port` and `v4:port` lose their port.
      let b = head.forwardedStart
      let e = b
      let colons = 0
      while (e < head.forwardedEnd && buf[e] !== 44 && buf[e] !== 32 && buf[e] !== 9) { if (buf[e] === 58) colons++; e++ }
      if (buf[b] === 91) { // '['
        const close = buf.indexOf(93, b)
        b++
        if (close > 0 && close < e) e = close
      } else if (colons === 1) {
        e = buf.indexOf(58, b)
      }
      const f = parseAddress(buf.toString('latin1', b, e), out)
      if (f !== FAMILY_INVALID) { this.proxied = true; return f }
    }
    out[0] = ip[0]!; out[1] = ip[1]!; out[2] = ip[2]!; out[3] = ip[3]!
    return family
  }

  /** BEP 24 `external ip` value for the requester, when enabled. */
  private externalIp (family: number, ip: Uint32Array): Buffer | null {
    if (!this.options.externalIp) return null
    if (family === 4) { this.externalIp4.writeUInt32BE(ip[0]!, 0); return this.externalIp4 }
    for (let k = 0; k < 4; k++) this.externalIp16.writeUInt32BE(ip[k]!, k * 4)
    return this.externalIp16
  }

  private ok (out: Buffer, bodyStart: number, bodyEnd: number, slab: ReplySlab): void {
    const keepAlive10 = this.head.keepAlive && this.head.versionMinor === 0
    this.reply = out
    this.replyStart = writeOkHead(out, bodyStart, bodyEnd - bodyStart, keepAlive10)
    this.replyEnd = bodyEnd
    this.close = !this.head.keepAlive
    slab.commit(bodyEnd)
  }

  /** A 200 reply with a constant bencoded `failure reason` body. */
  private failure (body: Buffer, slab: ReplySlab): void {
    const out = slab.reserve(HTTP_HEAD_RESERVE + body.length)
    const bodyStart = slab.off + HTTP_HEAD_RESERVE
    body.copy(out, bodyStart)
    this.ok(out, bodyStart, bodyStart + body.length, slab)
  }

  private announce (buf: Buffer, clientFamily: number, clientIp: Uint32Array, slab: ReplySlab): void {
    let family = 0
    if (this.announceLimit !== null) {
      family = this.announcerAddress(buf, clientFamily, clientIp)
      if (this.announceLimit.take(KIND_ANNOUNCE, family, this.peerIp, this.store.clock.seconds) !== 0) {
        this.counters.httpAnnouncesLimited++
        this.failure(FAILURE_RATE_LIMITED, slab)
        return
      }
    }
    const q = this.announceQuery
    const head = this.head
    if (head.queryStart < 0 || parseAnnounceQuery(buf, head.queryStart, head.queryEnd, q) !== QUERY_OK) {
      this.fixed(REPLY_400, 400)
      return
    }
    if (!q.hasInfoHash) {
      this.failure(FAILURE_NO_INFO_HASH, slab)
      return
    }
    if (family === 0) family = this.announcerAddress(buf, clientFamily, clientIp)
    const router = this.router
    if (router !== null && !router.shards.owns(q.infoHash, 0)) {
      // Another worker's torrent: it answers (and counts) this request, from what was parsed here.
      this.counters.httpRequests--
      this.counters.httpAnnounces--
      const owner = router.shards.owner[q.infoHash[0]!]!
      const packed = this.packed
      this.packAnnounce(family, packed)
      this.later = (done) => { router.forwardHttp(owner, packed, done) }
      return
    }
    this.answerAnnounce(family, slab)
  }

  /**
   * With `--workers`: answers an announce another worker accepted, parsed and packed
   * ({@link PACKED_ANNOUNCE_BYTES} at `buf[off]`, see workers/router.ts). It was charged to the
   * client's rate-limit bucket there; it is counted here, where it is answered.
   */
  answerPacked (buf: Buffer, off: number, slab: ReplySlab): void {
    this.counters.httpRequests++
    this.counters.httpAnnounces++
    const q = this.announceQuery
    const family = buf[off]!
    const flags = buf[off + 1]!
    q.event = buf[off + 2]!
    this.head.versionMinor = buf[off + 3]!
    q.port = buf.readUInt16LE(off + 4)
    q.numwant = buf.readInt32LE(off + 8)
    for (let k = 0; k < 4; k++) this.peerIp[k] = buf.readUInt32LE(off + 12 + k * 4)
    buf.copy(q.infoHash, 0, off + 28, off + 48)
    buf.copy(q.peerId, 0, off + 48, off + 68)
    q.hasInfoHash = true
    q.hasPeerId = (flags & PACK_PEER_ID) !== 0
    q.leftIsZero = (flags & PACK_LEFT_ZERO) !== 0
    q.compact = (flags & PACK_COMPACT) !== 0
    q.noPeerId = (flags & PACK_NO_PEER_ID) !== 0
    this.head.keepAlive = (flags & PACK_KEEP_ALIVE) !== 0
    this.proxied = (flags & PACK_PROXIED) !== 0
    this.answerAnnounce(family, slab)
  }

  /** Writes the announce just parsed, recorded under (`family`, peerIp), into `out` (see {@link answerPacked}). */
  private packAnnounce (family: number, out: Buffer): void {
    const q = this.announceQuery
    out[0] = family
    out[1] = (q.hasPeerId ? PACK_PEER_ID : 0) | (q.leftIsZero ? PACK_LEFT_ZERO : 0) | (q.compact ? PACK_COMPACT : 0) |
      (q.noPeerId ? PACK_NO_PEER_ID : 0) | (this.head.keepAlive ? PACK_KEEP_ALIVE : 0) | (this.proxied ? PACK_PROXIED : 0)
    out[2] = q.event
    out[3] = this.head.versionMinor
    out.writeUInt16LE(q.port, 4)
    out[6] = 0; out[7] = 0
    out.writeInt32LE(q.numwant, 8)
    for (let k = 0; k < 4; k++) out.writeUInt32LE(this.peerIp[k]!, 12 + k * 4)
    q.infoHash.copy(out, 28)
    q.peerId.copy(out, 48)
  }

  /** An announce parsed and addressed (family, peerIp, proxied): the store, then the reply. */
  private answerAnnounce (family: number, slab: ReplySlab): void {
    const q = this.announceQuery
    const o = this.options
    const store = this.store
    const interval = drawInterval(o.announceIntervalSeconds, o.announceIntervalJitterSeconds)
    // Counted here, once, by the worker that answers (not when refused or handed over).
    if (this.proxied) this.counters.httpForwarded++
    const ip = this.peerIp

    if (q.event === EVENT_STOPPED) {
      const t = store.stop(q.infoHash, 0, family, ip, q.port)
      const seeders = t < 0 ? 0 : store.seedersOf(t)
      const peers = t < 0 ? 0 : store.peersOf(t)
      const out = slab.reserve(HTTP_HEAD_RESERVE + 160)
      const bodyStart = slab.off + HTTP_HEAD_RESERVE
      const end = writeStoppedBody(out, bodyStart, seeders, peers - seeders, interval, interval >> 1, family === 6)
      this.ok(out, bodyStart, end, slab)
      return
    }

    if (this.access !== null && this.access.active && !this.access.allows(q.infoHash.toString('latin1'))) {
      this.counters.httpDenied++
      this.failure(FAILURE_NOT_AUTHORIZED, slab)
      return
    }
    const t = store.announce(q.infoHash, 0, family, ip, q.port, q.leftIsZero, q.event === EVENT_COMPLETED)
    if (q.hasPeerId) store.rememberPeerId(t, family, ip, q.port, q.peerId, 0, !q.compact && !q.noPeerId)
    let want = q.numwant < 0 ? o.numwantDefault : q.numwant
    if (want > o.numwantMax) want = o.numwantMax
    const n4 = splitFamilies(want, available(store.countOf(t, 4), family === 4), available(store.countOf(t, 6), family !== 4))
    const n6 = split6
    const seeders = store.seedersOf(t)
    const peers = store.peersOf(t)

    const ext = this.externalIp(family, ip)
    if (!q.compact) {
      this.announceDict(t, family, seeders, peers, interval, n4, n6, slab, ext)
      return
    }
    const out = slab.reserve(HTTP_HEAD_RESERVE + announceBodyBound(n4, n6))
    const bodyStart = slab.off + HTTP_HEAD_RESERVE
    let off = writeAnnounceHead(out, bodyStart, seeders, store.downloaded(t), peers - seeders, interval, interval >> 1, ext)
    if (n4 > 0) off = this.writeFamily(t, 4, n4, family === 4 ? store.selfIndex : -1, out, off)
    if (n6 > 0) off = this.writeFamily(t, 6, n6, family !== 4 ? store.selfIndex : -1, out, off)
    off = writeDictEnd(out, off)
    this.ok(out, bodyStart, off, slab)
  }

  private writeFamily (t: number, family: number, n: number, skip: number, out: Buffer, off: number): number {
    const store = this.store
    const total = store.open(t, family)
    const s = family === 4 ? STRIDE_V4 : STRIDE_V6
    const count = selectPeers(store.listWords, store.listBase, total, s, n, skip, selected)
    off = family !== 4 ? writePeers6Key(out, off, count) : writePeersKey(out, off, count)
    return writeCompactPeers(store.listWords, store.listBase, s, selected, count, out, off)
  }

  /** The BEP 3 dictionary model (compact=0), which opentracker refuses with 400. */
  private announceDict (t: number, selfFamily: number, seeders: number, peers: number, interval: number,
    n4: number, n6: number, slab: ReplySlab, ext: Buffer | null): void {
    const q = this.announceQuery
    const store = this.store
    const selfIndex = store.selfIndex
    const ids = q.noPeerId ? null : store.peerIdsOf(t)
    const out = slab.reserve(HTTP_HEAD_RESERVE + dictAnnounceBodyBound(n4 + n6))
    const bodyStart = slab.off + HTTP_HEAD_RESERVE
    let off = writeAnnounceHead(out, bodyStart, seeders, store.downloaded(t), peers - seeders, interval, interval >> 1, ext)
    off = writePeersListStart(out, off)
    for (let fam = 4; fam <= 6; fam += 2) {
      const n = fam === 4 ? n4 : n6
      if (n === 0) continue
      const total = store.open(t, fam)
      const w = store.listWords
      const base = store.listBase
      const s = fam === 4 ? STRIDE_V4 : STRIDE_V6
      const count = selectPeers(w, base, total, s, n, fam === selfFamily ? selfIndex : -1, selected)
      for (let k = 0; k < count; k++) {
        const b = base + selected[k]! * s
        for (let j = 0; j < s - 2; j++) this.ipText[j] = w[b + j]!
        const port = w[b + s - 2]!
        const text = fam === 4 ? formatIPv4(this.ipText[0]!) : formatIPv6(this.ipText)
        const id = ids === null ? undefined : ids.get(peerKey(fam, this.ipText, port))
        off = writeDictPeer(out, off, text, port, id ?? null, 0)
      }
    }
    off = writeDictEnd(out, off)
    off = writeDictEnd(out, off)
    this.ok(out, bodyStart, off, slab)
  }

  private scrape (buf: Buffer, clientFamily: number, clientIp: Uint32Array, slab: ReplySlab): void {
    if (this.scrapeLimit !== null) {
      const family = this.announcerAddress(buf, clientFamily, clientIp)
      if (this.scrapeLimit.take(KIND_SCRAPE, family, this.peerIp, this.store.clock.seconds) !== 0) {
        this.counters.httpScrapesLimited++
        this.failure(FAILURE_RATE_LIMITED, slab)
        return
      }
    }
    const q = this.scrapeQuery
    const head = this.head
    if (head.queryStart < 0 || parseScrapeQuery(buf, head.queryStart, head.queryEnd, q) !== QUERY_OK) {
      this.fixed(REPLY_400, 400)
      return
    }
    // Sorted, de-duplicated keys: a valid bencoded dictionary (opentracker repeats and keeps request order).
    const hashes = q.hashes
    const order = this.order
    let n = 0
    for (let i = 0; i < q.count; i++) {
      let j = n
      while (j > 0 && compareHashes(hashes, order[j - 1]!, i) > 0) j--
      if (j > 0 && compareHashes(hashes, order[j - 1]!, i) === 0) continue
      order.copyWithin(j + 1, j, n)
      order[j] = i
      n++
    }
    const router = this.router
    if (router !== null) {
      let mine = true
      for (let k = 0; k < n && mine; k++) mine = router.shards.owns(hashes, order[k]! * 20)
      if (!mine) {
        const sorted = Buffer.allocUnsafe(n * 20)
        for (let k = 0; k < n; k++) hashes.copy(sorted, k * 20, order[k]! * 20, order[k]! * 20 + 20)
        const keepAlive = head.keepAlive
        const keepAlive10 = keepAlive && head.versionMinor === 0
        this.later = (done) => {
          router.gather(sorted, 0, n, (c) => { done(scrapeReplyOf(sorted, c, keepAlive10), !keepAlive) })
        }
        return
      }
    }
    const out = slab.reserve(HTTP_HEAD_RESERVE + 16 + n * SCRAPE_ENTRY_BOUND)
    const bodyStart = slab.off + HTTP_HEAD_RESERVE
    let off = writeScrapeStart(out, bodyStart)
    for (let k = 0; k < n; k++) {
      const h = order[k]! * 20
      const t = this.store.find(hashes, h)
      if (t < 0) continue
      const seeders = this.store.seedersOf(t)
      off = writeScrapeEntry(out, off, hashes, h, seeders, this.store.downloaded(t), this.store.peersOf(t) - seeders)
    }
    off = writeScrapeEnd(out, off)
    this.ok(out, bodyStart, off, slab)
  }
}
