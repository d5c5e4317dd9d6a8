/**
 * The swarm store: torrents keyed by the 20 raw info_hash bytes (as a latin1 string, which V8
 * hashes and compares natively), each with one packed {@link PeerList} per address family.
 * Counting follows opentracker (reference §4.2–4.4):
 *  - complete = peers whose last announce had left=0; incomplete = the others;
 *  - downloaded +1 when a peer first reports event=completed with left=0 (COMPLETED is sticky
 *    for that ip:port, so it counts once per peer); it never decreases;
 *  - event=stopped removes the peer but never the torrent, and never creates one;
 *  - peers expire `peerTimeoutSeconds` after their last announce; a torrent with no peers is
 *    dropped a few minutes after it emptied if nothing was ever downloaded, otherwise kept until
 *    `torrentTimeoutSeconds` after its last activity.
 * Cleaning runs in slices (see {@link SwarmStore.sweepSlice}), never one long pause.
 */
import type { Clock } from '../clock.js'
import {
  FLAG_COMPLETED, FLAG_SEEDING, PeerList, STRIDE_V4, STRIDE_V6, TIME_MASK,
  expirePeers, findPeer, insertPeerAt, removePeerAt
} from './peer-list.js'

export class Torrent {
  v4: PeerList | null = null
  v6: PeerList | null = null
  downloaded = 0
  /**
   * peer_ids, only of peers that asked for the BEP 3 dictionary model (compact=0): the compact
   * model never needs them, so nobody else pays 20 bytes per peer. Keyed by {@link peerKey}.
   */
  peerIds: Map<string, Buffer> | null = null
  /** Seconds since the epoch of the last announce or restore ("base" in opentracker). */
  lastActive: number
  constructor (now: number) { this.lastActive = now }

  get peers (): number { return (this.v4 === null ? 0 : this.v4.count) + (this.v6 === null ? 0 : this.v6.count) }
  get seeders (): number { return (this.v4 === null ? 0 : this.v4.seeders) + (this.v6 === null ? 0 : this.v6.seeders) }
}

/**
 * What cluster sync (sync/) is told about this node's own peers. The store calls it only when
 * sync is on ({@link SwarmStore.syncTap} is null otherwise), and only for the announces live sync
 * sends (reference §10.2), so a plain announce pays one null check.
 */
export interface SyncTap {
  /** A new peer, a re-announce more than 10 minutes after the previous one, or a newly completed download. */
  announced (key: string, family: number, ip: Uint32Array, port: number, flags: number): void
  /** event=stopped, told before the lookup, so also for peers and torrents this node does not know. */
  stopped (key: string, family: number, ip: Uint32Array, port: number): void
}

export interface StoreLimits {
  peerTimeoutSeconds: number
  torrentTimeoutSeconds: number
}

/** Grace after a torrent empties before an undownloaded one is dropped (opentracker: 1-4 minutes). */
const EMPTY_GRACE_SECONDS = 120

export class SwarmStore {
  readonly torrents = new Map<string, Torrent>()
  /** Total peers over all torrents and families. */
  peers = 0
  /** Of which IPv6. */
  peers6 = 0
  seeders = 0
  /** Completed events counted into `downloaded` since start. */
  completed = 0
  /** Re-announce histogram: how many minutes (0-44) a peer's previous announce was ago (stats `renew`). */
  readonly renew = new Uint32Array(45)

  /** Set by {@link announce}: the requester's list and index in it (for excluding it from replies). */
  selfList: PeerList | null = null
  selfIndex = -1

  /** Cluster sync's observer of own announces and stops; null when sync is off. */
  syncTap: SyncTap | null = null

  private sweepIterator: MapIterator<[string, Torrent]> | null = null

  constructor (readonly clock: Clock, readonly limits: StoreLimits) {}

  get torrentCount (): number { return this.torrents.size }

  /**
   * Records an announce (anything but stopped) and returns the torrent. Afterwards
   * `selfList`/`selfIndex` locate the requester, so replies can leave it out.
   */
  announce (key: string, family: number, ip: Uint32Array, port: number, leftIsZero: boolean, completed: boolean): Torrent {
    const now = this.clock.seconds
    let t = this.torrents.get(key)
    if (t === undefined) {
      t = new Torrent(now)
      this.torrents.set(key, t)
    }
    t.lastActive = now
    let list: PeerList
    if (family === 4) list = t.v4 ?? (t.v4 = new PeerList(STRIDE_V4))
    else list = t.v6 ?? (t.v6 = new PeerList(STRIDE_V6))

    let flags = leftIsZero ? FLAG_SEEDING : 0
    if (completed && leftIsZero) flags |= FLAG_COMPLETED
    const time = now & TIME_MASK
    let idx = findPeer(list, ip, port)
    if (idx >= 0) {
      const s = list.stride
      const at = idx * s + s - 1
      const word = list.words[at]!
      const old = word >>> 24
      const minutes = (((time - word) & TIME_MASK) / 60) | 0
      if (minutes < 45) this.renew[minutes]!++
      flags |= old & FLAG_COMPLETED
      const newlyCompleted = (flags & FLAG_COMPLETED) !== 0 && (old & FLAG_COMPLETED) === 0
      if (newlyCompleted) { t.downloaded++; this.completed++ }
      if ((flags & FLAG_SEEDING) !== (old & FLAG_SEEDING)) {
        const d = (flags & FLAG_SEEDING) !== 0 ? 1 : -1
        list.seeders += d
        this.seeders += d
      }
      list.words[at] = ((flags << 24) | time) >>> 0
      if (this.syncTap !== null && (minutes > 10 || newlyCompleted)) this.syncTap.announced(key, family, ip, port, flags)
    } else {
      idx = -idx - 1
      insertPeerAt(list, idx, ip, port, ((flags << 24) | time) >>> 0)
      this.peers++
      if (family !== 4) this.peers6++
      if ((flags & FLAG_SEEDING) !== 0) this.seeders++
      if ((flags & FLAG_COMPLETED) !== 0) { t.downloaded++; this.completed++ }
      if (this.syncTap !== null) this.syncTap.announced(key, family, ip, port, flags)
    }
    this.selfList = list
    this.selfIndex = idx
    return t
  }

  /** Removes ip:port from a torrent (event=stopped). Returns the torrent, or undefined if unknown. */
  stop (key: string, family: number, ip: Uint32Array, port: number): Torrent | undefined {
    if (this.syncTap !== null) this.syncTap.stopped(key, family, ip, port)
    const t = this.torrents.get(key)
    if (t === undefined) return undefined
    t.lastActive = this.clock.seconds
    const list = family === 4 ? t.v4 : t.v6
    if (list !== null) {
      const idx = findPeer(list, ip, port)
      if (idx >= 0) {
        const s = list.stride
        if (((list.words[idx * s + s - 1]! >>> 24) & FLAG_SEEDING) !== 0) this.seeders--
        removePeerAt(list, idx)
        this.peers--
        if (family !== 4) this.peers6--
        if (t.peerIds !== null) t.peerIds.delete(peerKey(family, ip, port))
      }
    }
    return t
  }

  /**
   * Records a peer's peer_id for dictionary replies: always when `force` (the peer asked for the
   * dictionary model), otherwise only to refresh one already remembered, so it never goes stale.
   */
  rememberPeerId (t: Torrent, family: number, ip: Uint32Array, port: number, id: Buffer, idOffset: number, force: boolean): void {
    if (!force && t.peerIds === null) return
    const k = peerKey(family, ip, port)
    if (!force && !t.peerIds!.has(k)) return
    if (t.peerIds === null) t.peerIds = new Map()
    t.peerIds.set(k, Buffer.from(id.subarray(idOffset, idOffset + 20)))
  }

  get (key: string): Torrent | undefined {
    return this.torrents.get(key)
  }

  /**
   * Restores a torrent's counts (state dump, state file, sync): creates it when unknown, with
   * `lastActive` and `downloaded`; when it exists, keeps the larger of the two values, so
   * restoring the same dump twice never doubles anything (opentracker bug §12.8).
   */
  restoreTorrent (key: string, lastActive: number, downloaded: number): Torrent {
    let t = this.torrents.get(key)
    if (t === undefined) {
      t = new Torrent(lastActive)
      t.downloaded = downloaded
      this.torrents.set(key, t)
      return t
    }
    if (lastActive > t.lastActive) t.lastActive = lastActive
    if (downloaded > t.downloaded) t.downloaded = downloaded
    return t
  }

  /**
   * Adds a peer record (`words`: ip words, port, meta as stored) unless ip:port is already there.
   * Returns whether it was added. Flags and time are kept as given.
   */
  restorePeer (t: Torrent, family: number, words: Uint32Array, at: number): boolean {
    const v6 = family !== 4
    const s = v6 ? STRIDE_V6 : STRIDE_V4
    const list = v6 ? (t.v6 ?? (t.v6 = new PeerList(STRIDE_V6))) : (t.v4 ?? (t.v4 = new PeerList(STRIDE_V4)))
    const ip = restoreIp
    for (let k = 0; k < s - 2; k++) ip[k] = words[at + k]!
    const port = words[at + s - 2]!
    const idx = findPeer(list, ip, port)
    if (idx >= 0) return false
    const meta = words[at + s - 1]!
    insertPeerAt(list, -idx - 1, ip, port, meta)
    this.peers++
    if (v6) this.peers6++
    if (((meta >>> 24) & FLAG_SEEDING) !== 0) this.seeders++
    return true
  }

  /**
   * Cleans one torrent: expires its peers and says whether the torrent itself should go.
   * Returns true when it was removed.
   */
  private clean (key: string, t: Torrent, now: number): boolean {
    const timeout = this.limits.peerTimeoutSeconds
    if (t.v4 !== null) this.expireList(t.v4, now, timeout)
    if (t.v6 !== null) this.expireList(t.v6, now, timeout)
    if (t.peerIds !== null) prunePeerIds(t)
    if (t.peers > 0) return false
    const idle = now - t.lastActive
    if (idle >= this.limits.torrentTimeoutSeconds + timeout ||
        (t.downloaded === 0 && idle >= EMPTY_GRACE_SECONDS)) {
      this.torrents.delete(key)
      return true
    }
    return false
  }

  private expireList (list: PeerList, now: number, timeout: number): void {
    if (list.count === 0) return
    const before = list.seeders
    const removed = expirePeers(list, now, timeout)
    this.peers -= removed
    if (list.stride !== STRIDE_V4) this.peers6 -= removed
    this.seeders -= before - list.seeders
  }

  /**
   * Cleans up to `budget` torrents, continuing where the previous slice stopped; a new pass
   * starts when the previous one ends. Returns true when this slice finished a pass.
   */
  sweepSlice (budget: number): boolean {
    const now = this.clock.seconds
    let it = this.sweepIterator
    if (it === null) it = this.sweepIterator = this.torrents.entries()
    for (let i = 0; i < budget; i++) {
      const r = it.next()
      if (r.done === true) { this.sweepIterator = null; return true }
      this.clean(r.value[0], r.value[1], now)
    }
    return false
  }

  /** One complete cleaning pass, now (tests and shutdown). */
  sweepAll (): void {
    this.sweepIterator = null
    while (!this.sweepSlice(1 << 20)) { /* until the pass ends */ }
  }
}

/** Text key of a peer for side tables: family, address words and port. */
export function peerKey (family: number, ip: ArrayLike<number>, port: number): string {
  return family === 4 ? `${ip[0]!}:${port}` : `${ip[0]!},${ip[1]!},${ip[2]!},${ip[3]!}:${port}`
}

const keyIp = new Uint32Array(4)
/** restorePeer's address words (sync imports call it per record: no view allocated each time). */
const restoreIp = new Uint32Array(4)

/** Drops remembered peer_ids of peers that are gone. */
function prunePeerIds (t: Torrent): void {
  const ids = t.peerIds!
  for (const k of ids.keys()) {
    const colon = k.lastIndexOf(':')
    const port = Number(k.slice(colon + 1))
    const parts = k.slice(0, colon).split(',')
    for (let i = 0; i < parts.length; i++) keyIp[i] = Number(parts[i])
    const list = parts.length === 1 ? t.v4 : t.v6
    if (list === null || findPeer(list, keyIp, port) < 0) ids.delete(k)
  }
  if (ids.size === 0) t.peerIds = null
}
