/**
 * BEP 15 packets as a pure function of (packet, client address) over the store; the socket layer
 * (server.ts) only receives and sends. Returns the reply length written into the caller's buffer,
 * 0 for no reply, {@link UDP_GATHER} (workers only) for a scrape the router must finish.
 *
 * Anti-amplification: before a client has proven its address with a valid connection id, the
 * only replies are the 16-byte connect reply (to a 16+ byte request) and the error for a wrong id,
 * and the latter only when it is no larger than the request.
 *
 * Rate limits apply after the connection id is checked, so a spoofed source can neither spend a
 * victim's bucket nor get a reply; an over-limit announce or scrape gets a 33-byte error packet
 * (never more than the request) without touching the store. Connects are never limited: their
 * source is unproven, so limiting them would let anyone lock a victim's address out.
 */
import {
  ERROR_CONNECTION_ID, ERROR_NOT_AUTHORIZED, UDP_ANNOUNCE, UDP_CONNECT, UDP_EVENT_COMPLETED, UDP_EVENT_STOPPED, UDP_MAX_PEERS_V4,
  UDP_MAX_PEERS_V6, UdpRequest, decodeUdpRequest, writeAnnounceReplyHead, writeConnectReply, writeErrorReply,
  writeScrapeReplyEntry, writeScrapeReplyHead
} from '@otd/proto'
import type { AccessLists } from '../access/access-lists.js'
import type { TrackerOptions } from '../config.js'
import type { Counters } from '../counters.js'
import { ERROR_RATE_LIMITED, KIND_ANNOUNCE, KIND_SCRAPE, type RateLimiter } from '../limits/rate-limit.js'
import { STRIDE_V4, STRIDE_V6, selectPeers, writeCompactPeers } from '../swarm/peer-list.js'
import { available, drawInterval } from '../swarm/reply-peers.js'
import type { SwarmStore } from '../swarm/store.js'
import type { ShardMap } from '../workers/shard.js'
import type { ConnectionIds } from './connection-id.js'

/** Largest reply: 20-byte head + 200 IPv4 peers (IPv6: 66 * 18 is smaller), or 8 + 75 * 12 for a scrape. */
export const UDP_REPLY_BOUND = 20 + UDP_MAX_PEERS_V4 * 6

const selected = new Int32Array(UDP_MAX_PEERS_V4)

/** {@link UdpHandler.handle}'s answer for a valid scrape whose hashes span shards: the router collects the counts. */
export const UDP_GATHER = -1

export class UdpHandler {
  private readonly request = new UdpRequest()
  private readonly announceLimit: RateLimiter | null
  private readonly scrapeLimit: RateLimiter | null

  constructor (
    private readonly store: SwarmStore,
    private readonly ids: ConnectionIds,
    private readonly options: TrackerOptions,
    private readonly counters: Counters,
    private readonly access: AccessLists | null = null,
    limiter: RateLimiter | null = null,
    /** With `--workers`: whose torrents are whose (a scrape spanning shards is gathered, see workers/router.ts). */
    private readonly shards: ShardMap | null = null
  ) {
    this.announceLimit = limiter !== null && limiter.limits(KIND_ANNOUNCE) ? limiter : null
    this.scrapeLimit = limiter !== null && limiter.limits(KIND_SCRAPE) ? limiter : null
  }

  handle (msg: Buffer, length: number, family: number, ip: Uint32Array, out: Buffer, off: number): number {
    const c = this.counters
    c.udpPackets++
    const r = this.request
    const kind = decodeUdpRequest(msg, length, r)
    const now = this.store.clock.seconds
    if (kind === UDP_CONNECT) {
      c.udpConnects++
      const low = this.ids.make(now, family, ip)
      return writeConnectReply(out, off, r.transactionId, this.ids.high, low) - off
    }
    if (kind === 0) { c.udpDropped++; return 0 }
    if (!this.ids.check(now, r.connectionIdHigh, r.connectionIdLow, family, ip)) {
      c.udpBadConnectionId++
      if (8 + ERROR_CONNECTION_ID.length > length) return 0
      return writeErrorReply(out, off, r.transactionId, ERROR_CONNECTION_ID) - off
    }
    if (kind === UDP_ANNOUNCE) {
      c.udpAnnounces++
      if (this.announceLimit !== null && this.announceLimit.take(KIND_ANNOUNCE, family, ip, now) !== 0) {
        c.udpAnnouncesLimited++
        return writeErrorReply(out, off, r.transactionId, ERROR_RATE_LIMITED) - off
      }
      return this.announce(msg, family, ip, out, off)
    }
    c.udpScrapes++
    if (this.scrapeLimit !== null && this.scrapeLimit.take(KIND_SCRAPE, family, ip, now) !== 0) {
      c.udpScrapesLimited++
      // A scrape without hashes is 16 bytes: too short to carry the error.
      if (8 + ERROR_RATE_LIMITED.length > length) return 0
      return writeErrorReply(out, off, r.transactionId, ERROR_RATE_LIMITED) - off
    }
    if (this.shards !== null && !this.shards.ownsAll(msg, r.infoHashOffset, r.scrapeCount)) return UDP_GATHER
    let o = writeScrapeReplyHead(out, off, r.transactionId)
    for (let k = 0; k < r.scrapeCount; k++) {
      const h = r.infoHashOffset + k * 20
      const t = this.store.find(msg, h)
      if (t < 0) { o = writeScrapeReplyEntry(out, o, 0, 0, 0); continue }
      const seeders = this.store.seedersOf(t)
      o = writeScrapeReplyEntry(out, o, seeders, this.store.downloaded(t), this.store.peersOf(t) - seeders)
    }
    return o - off
  }

  private announce (msg: Buffer, family: number, ip: Uint32Array, out: Buffer, off: number): number {
    const r = this.request
    const o = this.options
    const store = this.store
    const h = r.infoHashOffset
    const interval = drawInterval(o.announceIntervalSeconds, o.announceIntervalJitterSeconds)
    if (r.event === UDP_EVENT_STOPPED) {
      const t = store.stop(msg, h, family, ip, r.port)
      const seeders = t < 0 ? 0 : store.seedersOf(t)
      const peers = t < 0 ? 0 : store.peersOf(t)
      return writeAnnounceReplyHead(out, off, r.transactionId, interval, peers - seeders, seeders) - off
    }
    if (this.access !== null && this.access.active && !this.access.allows(msg.toString('latin1', h, h + 20))) {
      // A BEP 15 error (opentracker sends a bare 8-byte announce head); the id was valid, so
      // the address is proven and the longer reply amplifies nothing.
      this.counters.udpDenied++
      return writeErrorReply(out, off, r.transactionId, ERROR_NOT_AUTHORIZED) - off
    }
    const t = store.announce(msg, h, family, ip, r.port, r.leftIsZero, r.event === UDP_EVENT_COMPLETED)
    if (store.hasPeerIds(t)) store.rememberPeerId(t, family, ip, r.port, msg, r.peerIdOffset, false)
    const seeders = store.seedersOf(t)
    let o2 = writeAnnounceReplyHead(out, off, r.transactionId, interval, store.peersOf(t) - seeders, seeders)
    const cap = family === 4 ? UDP_MAX_PEERS_V4 : UDP_MAX_PEERS_V6
    let want = r.numWant > cap ? cap : r.numWant
    const count = store.open(t, family)
    const avail = available(count, true)
    if (want > avail) want = avail
    if (want > 0) {
      const s = family === 4 ? STRIDE_V4 : STRIDE_V6
      const n = selectPeers(store.listWords, store.listBase, count, s, want, store.selfIndex, selected)
      o2 = writeCompactPeers(store.listWords, store.listBase, s, selected, n, out, o2)
    }
    return o2 - off
  }
}
