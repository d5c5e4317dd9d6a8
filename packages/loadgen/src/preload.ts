/**
 * `otbench preload`: fills a tracker with N torrents × M peers over UDP, every peer announced
 * exactly once (lost announces are re-sent; announcing again is idempotent at a tracker), and
 * reports the tracker's RSS growth per peer when its pid is known.
 *
 * Peer j of every torrent is 127.0.0.1 (the sender) with port 1024 + j, so a tracker that keys
 * peers by address and port stores exactly N·M peers; M is therefore at most 64,512. Announces ask
 * for no peers (numwant 0) so the replies stay small and the generator measures inserts.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { ANNOUNCE_REQUEST_BYTES } from '@otd/proto'
import { EVENT_STARTED, PEER_PORT_BASE, PEER_PORT_COUNT, PeerPool, TorrentPool } from './pool.js'
import { readRssBytes } from './proc.js'
import { round } from './runner.js'
import { formatCount } from './units.js'
import { KIND_ANNOUNCE, OUTCOME_OK, OUTCOME_TIMEOUT, type UdpClientOptions, type UdpSlot, type UdpSource } from './udp-client.js'
import { udpScrape } from './udp-once.js'
import { UdpFlood } from './udp-flood.js'

export interface PreloadOptions extends UdpClientOptions {
  sockets: number
  torrents: number
  peersPerTorrent: number
  seed: number
  seederShare: number
  /** Tracker pid for RSS. */
  pid?: number | undefined
  /** Wait this long after the last reply before reading RSS (lets the tracker finish growing). */
  settleMs: number
  progress: boolean
}

export interface PreloadResult {
  torrents: number
  peersPerTorrent: number
  peers: number
  /** Announces answered as announces. */
  acked: number
  /** Announces answered with an error or a short reply (for example a hash missing from a whitelist). */
  rejected: number
  resent: number
  seconds: number
  announcesPerS: number
  rssBeforeBytes?: number
  rssAfterBytes?: number
  rssGrowthBytes?: number
  /** RSS growth divided by peers stored. */
  rssPerPeerBytes?: number
  /** Sampled torrents whose scrape shows exactly M peers, out of those sampled. */
  verified?: { sampled: number, exact: number, seenPeers: number, expectedPeers: number }
}

/** An announce answered with an error this many times is counted as rejected and not sent again. */
const MAX_REFUSALS = 5

/** Announce k (0 ≤ k < N·M) is peer ⌊k/N⌋ of torrent k mod N: all torrents fill evenly. */
export class PreloadSource implements UdpSource {
  acked = 0
  rejected = 0
  resent = 0
  private nextK = 0
  private readonly retry: number[] = []
  readonly total: number
  private readonly peers: PeerPool
  /** Error replies per announce so far. */
  private readonly refusals: Uint8Array

  constructor (readonly torrents: TorrentPool, readonly peersPerTorrent: number, seed: number, seederShare: number) {
    if (peersPerTorrent > PEER_PORT_COUNT) throw new Error(`at most ${PEER_PORT_COUNT} peers per torrent (one port each from one address): ${peersPerTorrent}`)
    this.total = torrents.count * peersPerTorrent
    this.peers = new PeerPool(peersPerTorrent, seed, seederShare)
    this.refusals = new Uint8Array(this.total)
  }

  get done (): boolean {
    return this.acked + this.rejected >= this.total
  }

  next (buf: Buffer, slot: UdpSlot): number {
    let k: number
    if (this.retry.length > 0) { k = this.retry.pop()!; this.resent++ } else if (this.nextK < this.total) k = this.nextK++
    else return 0
    const n = this.torrents.count
    const t = k % n
    const j = (k - t) / n
    slot.kind = KIND_ANNOUNCE
    slot.token = k
    buf.writeUInt32BE(1, 8)
    this.torrents.hashes.copy(buf, 16, 20 * t, 20 * t + 20)
    this.peers.peerIds.copy(buf, 36, 20 * j, 20 * j + 20)
    buf.fill(0, 56, 64)
    const seeder = this.peers.seeder[j] === 1
    buf.writeUInt32BE(0, 64)
    buf.writeUInt32BE(seeder ? 0 : 1 + (k & 0xffffff), 68)
    buf.fill(0, 72, 80)
    buf.writeUInt32BE(EVENT_STARTED, 80)
    buf.writeUInt32BE(0, 84)
    buf.writeUInt32BE(this.peers.keys[j]!, 88)
    buf.writeUInt32BE(0, 92) // numwant 0
    buf.writeUInt16BE(PEER_PORT_BASE + j, 96)
    return ANNOUNCE_REQUEST_BYTES
  }

  finish (token: number, outcome: number): void {
    if (outcome === OUTCOME_OK) this.acked++
    else if (outcome === OUTCOME_TIMEOUT) this.retry.push(token)
    else if (this.refusals[token]! < MAX_REFUSALS) {
      // Refusals can be transient: opentracker loads its whitelist in a worker thread and refuses
      // listed hashes until it is done, and a connection id may be refused right after a refresh.
      this.refusals[token]!++
      this.retry.push(token)
    } else this.rejected++
  }
}

export async function preload (o: PreloadOptions): Promise<PreloadResult> {
  const pool = new TorrentPool(o.torrents, o.seed)
  const source = new PreloadSource(pool, o.peersPerTorrent, o.seed, o.seederShare)
  const rssBefore = o.pid === undefined ? undefined : readRssBytes(o.pid)
  const flood = new UdpFlood(o, source)
  const tty = o.progress && process.stderr.isTTY === true
  const t0 = performance.now()
  await flood.start()
  let lastShown = t0
  while (!source.done) {
    await sleep(20)
    const now = performance.now()
    if (tty && now - lastShown >= 500) {
      lastShown = now
      const s = (now - t0) / 1000
      process.stderr.write(`\r\x1b[Kpreload ${s.toFixed(0)}s  ${formatCount(source.acked)}/${formatCount(source.total)} peers  ${formatCount(source.acked / s)}/s  rejected ${formatCount(source.rejected)}  timeouts ${formatCount(flood.counters.timeouts)}`)
    }
  }
  const seconds = (performance.now() - t0) / 1000
  await flood.stop()
  if (tty) process.stderr.write('\r\x1b[K')
  const r: PreloadResult = {
    torrents: o.torrents,
    peersPerTorrent: o.peersPerTorrent,
    peers: source.total,
    acked: source.acked,
    rejected: source.rejected,
    resent: source.resent,
    seconds: round(seconds, 3),
    announcesPerS: round(source.acked / seconds, 1)
  }
  if (o.pid !== undefined && rssBefore !== undefined) {
    await sleep(o.settleMs)
    const after = readRssBytes(o.pid)
    if (after !== undefined) {
      r.rssBeforeBytes = rssBefore
      r.rssAfterBytes = after
      r.rssGrowthBytes = after - rssBefore
      if (source.acked > 0) r.rssPerPeerBytes = round((after - rssBefore) / source.acked, 1)
    }
  }
  r.verified = await verify(o, pool)
  return r
}

/** Scrapes up to 74 torrents spread over the pool and counts those holding exactly M peers. */
async function verify (o: PreloadOptions, pool: TorrentPool): Promise<PreloadResult['verified']> {
  const n = Math.min(74, pool.count)
  const hashes = Buffer.alloc(20 * n)
  for (let i = 0; i < n; i++) {
    const t = Math.floor((i * pool.count) / n)
    pool.hashes.copy(hashes, 20 * i, 20 * t, 20 * t + 20)
  }
  try {
    const entries = await udpScrape(o.host, o.port, hashes, o.timeoutMs)
    let exact = 0
    let seen = 0
    for (const e of entries) {
      const peers = e.seeders + e.leechers
      seen += peers
      if (peers === o.peersPerTorrent) exact++
    }
    return { sampled: n, exact, seenPeers: seen, expectedPeers: n * o.peersPerTorrent }
  } catch {
    return undefined
  }
}
