/**
 * The swarm store. Nothing in it is a JS object per torrent or per peer:
 *  - torrents are ids into columns of typed arrays (key words, last activity, downloaded, and per
 *    address family a peer block handle, count, seeders and size class), found through an
 *    open-addressing index over an Int32Array keyed by a per-process seeded hash of the 20 raw
 *    info_hash bytes (linear probing, backward-shift deletion, no tombstones);
 *  - peers are packed records in {@link PeerHeap} pages, one heap per family (peer-list.ts).
 * A lookup hashes the bytes in the request buffer directly, so the hot path allocates nothing,
 * and the GC has a handful of large arrays to look at instead of 100k+ objects.
 *
 * Counting follows opentracker (reference §4.2–4.4):
 *  - complete = peers whose last announce had left=0; incomplete = the others;
 *  - downloaded +1 when a peer first reports event=completed with left=0 (COMPLETED is sticky
 *    for that ip:port, so it counts once per peer); it never decreases;
 *  - event=stopped removes the peer but never the torrent, and never creates one;
 *  - peers expire `peerTimeoutSeconds` after their last announce; a torrent with no peers is
 *    dropped a few minutes after it emptied if nothing was ever downloaded, otherwise kept until
 *    `torrentTimeoutSeconds` after its last activity.
 * Cleaning runs in slices (see {@link SwarmStore.sweepSlice}), never one long pause.
 *
 * Torrent ids are stable while the torrent lives and reused after it is dropped: hold a key, not
 * an id, across anything that can drop torrents (a sweep, an eviction).
 */
import { randomFillSync } from 'node:crypto'
import type { Clock } from '../clock.js'
import { CLASS_RECORDS, PeerHeap, classFor } from './peer-heap.js'
import {
  FLAG_COMPLETED, FLAG_SEEDING, STRIDE_V4, STRIDE_V6, TIME_MASK, expirePeers, expiredSeeders, findPeer
} from './peer-list.js'

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
  /** Most torrents held; 0 = no limit. */
  maxTorrents?: number
  /** Most peers per torrent and family; 0 = no limit. */
  maxPeersPerTorrent?: number
  /** Budget for {@link SwarmStore.liveBytes}; 0 = no limit. */
  memoryLimitBytes?: number
}

/** Torrents sampled per eviction: the least recently active of them goes (Redis-style approximate LRU). */
const EVICTION_SAMPLE = 16
/** Records sampled when a full torrent takes a new peer: the stalest of them makes room. */
const PEER_EVICTION_SAMPLE = 8
/** Most torrents evicted for one insert, so one announce never pays for a long eviction run. */
const EVICTIONS_PER_INSERT = 64
/** Bytes per torrent id in the columns (key, last activity, downloaded, live, and 13 per family). */
const ID_BYTES = 5 * 4 + 4 + 8 + 1 + 2 * 13

/** Grace after a torrent empties before an undownloaded one is dropped (opentracker: 1-4 minutes). */
const EMPTY_GRACE_SECONDS = 120
/** Size-class column value of a family without a block (the column holds order + 1). */
const NO_BLOCK = 0
/** Lists at or below this class are never shrunk (a few records: not worth a copy). */
const SHRINK_MIN_CLASS = 4
const KEY_WORDS = 5
/**
 * Ids the columns are sized for at start. Typed arrays are calloc'd, and untouched pages of them
 * cost no RSS, so reserving a million ids (~60 MB of address space) costs only what is used, and
 * the columns never have to be copied (leaving the old copies to the GC) below that.
 */
const INITIAL_IDS = 1 << 20
/** Index slots at start (grows by rehashing; probing touches every page, so it starts small). */
const INITIAL_SLOTS = 1 << 12

/** One address family's columns, indexed by torrent id, and its heap. */
class FamilyColumns {
  handle: Uint32Array
  count: Uint32Array
  seeders: Uint32Array
  cls: Uint8Array
  readonly heap: PeerHeap

  constructor (readonly stride: number, capacity: number) {
    this.heap = new PeerHeap(stride)
    this.handle = new Uint32Array(capacity)
    this.count = new Uint32Array(capacity)
    this.seeders = new Uint32Array(capacity)
    this.cls = new Uint8Array(capacity)
  }

  grow (capacity: number): void {
    this.handle = grown(this.handle, capacity)
    this.count = grown(this.count, capacity)
    this.seeders = grown(this.seeders, capacity)
    this.cls = grown(this.cls, capacity)
  }
}

function grown<T extends Uint32Array | Float64Array | Uint8Array> (a: T, capacity: number): T {
  const b = new (a.constructor as new (n: number) => T)(capacity)
  b.set(a)
  return b
}

export class SwarmStore {
  /** Live torrents. */
  size = 0
  /** Total peers over all torrents and families. */
  peers = 0
  /** Of which IPv6. */
  peers6 = 0
  seeders = 0
  /** Completed events counted into `downloaded` since start. */
  completed = 0
  /** Re-announce histogram: how many minutes (0-44) a peer's previous announce was ago (stats `renew`). */
  readonly renew = new Uint32Array(45)
  /** Torrents dropped to stay within maxTorrents or the memory budget, and the peers they held. */
  evictedTorrents = 0
  evictedTorrentPeers = 0
  /** Peers replaced because their torrent was at maxPeersPerTorrent. */
  evictedPeers = 0

  /**
   * Set by {@link announce}: the requester's family and record index (for leaving it out of the
   * reply). selfIndex is -1 after anything else.
   */
  selfFamily = 0
  selfIndex = -1

  /** Set by {@link open}: the page and first word of the list opened. */
  listWords: Uint32Array = EMPTY
  listBase = 0

  /** Cluster sync's observer of own announces and stops; null when sync is off. */
  syncTap: SyncTap | null = null

  readonly v4: FamilyColumns
  readonly v6: FamilyColumns

  private capacity = INITIAL_IDS
  private keys = new Uint32Array(INITIAL_IDS * KEY_WORDS)
  private lastActiveCol = new Uint32Array(INITIAL_IDS)
  private downloadedCol = new Float64Array(INITIAL_IDS)
  private live = new Uint8Array(INITIAL_IDS)
  /** Ids below this have been handed out at some point. */
  private highWater = 0
  private readonly freeIds: number[] = []

  private slots = new Int32Array(INITIAL_SLOTS).fill(-1)
  private mask = INITIAL_SLOTS - 1
  private readonly seed = new Uint32Array(2)
  /** The key being looked up, as five big-endian words, and the empty slot a miss ended on. */
  private k0 = 0
  private k1 = 0
  private k2 = 0
  private k3 = 0
  private k4 = 0
  private missSlot = -1
  private readonly keyScratch = Buffer.alloc(20)

  /**
   * peer_ids by torrent id, only of peers that asked for the BEP 3 dictionary model (compact=0):
   * the compact model never needs them, so nobody else pays 20 bytes per peer. Keyed by {@link peerKey}.
   */
  private readonly peerIdMaps = new Map<number, Map<string, Buffer>>()

  private sweepCursor = 0

  constructor (readonly clock: Clock, readonly limits: StoreLimits) {
    randomFillSync(this.seed)
    this.v4 = new FamilyColumns(STRIDE_V4, INITIAL_IDS)
    this.v6 = new FamilyColumns(STRIDE_V6, INITIAL_IDS)
  }

  get torrentCount (): number { return this.size }

  /** Bytes of the store's arrays in use (columns up to the highest id used, index, peer pages). */
  get bytes (): number {
    return this.highWater * ID_BYTES + this.slots.length * 4 + (this.v4.heap.pageWords + this.v6.heap.pageWords) * 4
  }

  /**
   * What the live torrents and peers take: columns of live ids, the index, and peer blocks handed
   * out. Freed ids and blocks are reused before anything new is allocated, so the process never
   * holds much more than the highest this has been; it is what the memory budget limits.
   */
  get liveBytes (): number {
    return this.size * ID_BYTES + this.slots.length * 4 + (this.v4.heap.usedWords + this.v6.heap.usedWords) * 4
  }

  // ---- keys and lookup ----

  private loadKey (b: Uint8Array, o: number): void {
    this.k0 = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0
    this.k1 = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0
    this.k2 = ((b[o + 8]! << 24) | (b[o + 9]! << 16) | (b[o + 10]! << 8) | b[o + 11]!) >>> 0
    this.k3 = ((b[o + 12]! << 24) | (b[o + 13]! << 16) | (b[o + 14]! << 8) | b[o + 15]!) >>> 0
    this.k4 = ((b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!) >>> 0
  }

  /**
   * Seeded hash of the loaded key. info_hashes are chosen by clients, so an unseeded hash (say,
   * the first word) would let anyone build colliding keys and turn lookups linear.
   */
  private hashKey (): number {
    return this.hashWords(this.k0, this.k1, this.k2, this.k3, this.k4)
  }

  private hashWords (k0: number, k1: number, k2: number, k3: number, k4: number): number {
    let h = this.seed[0]!
    h = Math.imul(h ^ k0, 0x9e3779b1); h ^= h >>> 15
    h = Math.imul(h ^ k1, 0x85ebca77); h ^= h >>> 13
    h = Math.imul(h ^ k2, 0xc2b2ae3d); h ^= h >>> 16
    h = Math.imul(h ^ k3, 0x27d4eb2f); h ^= h >>> 15
    h = Math.imul(h ^ k4 ^ this.seed[1]!, 0x165667b1)
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16
    return h >>> 0
  }

  /** Finds the loaded key; on a miss, remembers the empty slot it ended on. */
  private lookup (): number {
    const slots = this.slots
    const keys = this.keys
    const mask = this.mask
    let i = this.hashKey() & mask
    for (;;) {
      const id = slots[i]!
      if (id < 0) { this.missSlot = i; return -1 }
      const b = id * KEY_WORDS
      if (keys[b] === this.k0 && keys[b + 1] === this.k1 && keys[b + 2] === this.k2 && keys[b + 3] === this.k3 && keys[b + 4] === this.k4) return id
      i = (i + 1) & mask
    }
  }

  /** The torrent whose info_hash is the 20 bytes at `b[o]`, or -1. */
  find (b: Uint8Array, o: number): number {
    this.loadKey(b, o)
    return this.lookup()
  }

  /** {@link find} by the 20 raw bytes as a latin1 string. */
  findKey (key: string): number {
    this.keyScratch.write(key, 0, 20, 'latin1')
    return this.find(this.keyScratch, 0)
  }

  /** The info_hash of torrent `id` as a latin1 string. */
  keyOf (id: number): string {
    this.copyKey(id, this.keyScratch, 0)
    return this.keyScratch.toString('latin1', 0, 20)
  }

  /** Writes the 20 info_hash bytes of torrent `id` at `out[off]`. */
  copyKey (id: number, out: Uint8Array, off: number): void {
    const keys = this.keys
    for (let k = 0; k < KEY_WORDS; k++) {
      const w = keys[id * KEY_WORDS + k]!
      out[off++] = w >>> 24
      out[off++] = w >>> 16
      out[off++] = w >>> 8
      out[off++] = w
    }
  }

  /** Whether `id` is a live torrent. */
  isLive (id: number): boolean { return id >= 0 && id < this.highWater && this.live[id] === 1 }

  /** Byte `i` (0-19) of torrent `id`'s info_hash. */
  keyByte (id: number, i: number): number {
    return (this.keys[id * KEY_WORDS + (i >>> 2)]! >>> (24 - 8 * (i & 3))) & 0xff
  }

  /** Orders two torrents by info_hash (bytewise): negative, 0 or positive. */
  compareKeys (a: number, b: number): number {
    const keys = this.keys
    for (let k = 0; k < KEY_WORDS; k++) {
      const x = keys[a * KEY_WORDS + k]!
      const y = keys[b * KEY_WORDS + k]!
      if (x !== y) return x < y ? -1 : 1
    }
    return 0
  }

  /** The first live torrent id at or after `from`, or -1: `for (let id = s.next(0); id >= 0; id = s.next(id + 1))`. */
  next (from: number): number {
    const live = this.live
    const end = this.highWater
    for (let id = from; id < end; id++) if (live[id] === 1) return id
    return -1
  }

  // ---- per-torrent values ----

  downloaded (id: number): number { return this.downloadedCol[id]! }
  lastActive (id: number): number { return this.lastActiveCol[id]! }
  peersOf (id: number): number { return this.v4.count[id]! + this.v6.count[id]! }
  seedersOf (id: number): number { return this.v4.seeders[id]! + this.v6.seeders[id]! }
  /** Peers of one family. */
  countOf (id: number, family: number): number { return (family === 4 ? this.v4 : this.v6).count[id]! }

  /** Adds to a torrent's downloaded count (and the completed counter). */
  addDownloaded (id: number, n: number): void {
    this.downloadedCol[id] = this.downloadedCol[id]! + n
    this.completed += n
  }

  /**
   * Opens a torrent's list of one family: sets {@link listWords} and {@link listBase} and returns
   * the record count (0, with an empty page, when there is none).
   */
  open (id: number, family: number): number {
    const fc = family === 4 ? this.v4 : this.v6
    const n = fc.count[id]!
    if (n === 0) { this.listWords = EMPTY; this.listBase = 0; return 0 }
    const h = fc.handle[id]!
    this.listWords = fc.heap.page(h)
    this.listBase = fc.heap.offset(h)
    return n
  }

  /** Index of ip:port in torrent `id`'s list of `family`, or negative; leaves that list open. */
  findPeerIn (id: number, family: number, ip: Uint32Array, port: number): number {
    const n = this.open(id, family)
    if (n === 0) return -1
    return findPeer(this.listWords, this.listBase, n, family === 4 ? STRIDE_V4 : STRIDE_V6, ip, port)
  }

  /**
   * Replaces the meta word (flags << 24 | time) of record `idx`, keeping the seeder counts right.
   * Downloaded counts are the caller's ({@link addDownloaded}).
   */
  setPeerMeta (id: number, family: number, idx: number, meta: number): void {
    const fc = family === 4 ? this.v4 : this.v6
    const h = fc.handle[id]!
    const w = fc.heap.page(h)
    const at = fc.heap.offset(h) + idx * fc.stride + fc.stride - 1
    const was = (w[at]! >>> 24) & FLAG_SEEDING
    const now = (meta >>> 24) & FLAG_SEEDING
    if (was !== now) {
      const d = now !== 0 ? 1 : -1
      fc.seeders[id] = fc.seeders[id]! + d
      this.seeders += d
    }
    w[at] = meta >>> 0
  }

  // ---- announce and stop ----

  /**
   * Records an announce (anything but stopped) for the info_hash at `hash[hashOff]` and returns
   * the torrent id. Afterwards `selfFamily`/`selfIndex` locate the requester, so replies can
   * leave it out.
   */
  announce (hash: Uint8Array, hashOff: number, family: number, ip: Uint32Array, port: number, leftIsZero: boolean, completed: boolean): number {
    const now = this.clock.seconds
    this.loadKey(hash, hashOff)
    let id = this.lookup()
    if (id < 0) id = this.insertLoadedKey(now)
    this.lastActiveCol[id] = now
    const fc = family === 4 ? this.v4 : this.v6
    const s = fc.stride

    let flags = leftIsZero ? FLAG_SEEDING : 0
    if (completed && leftIsZero) flags |= FLAG_COMPLETED
    const time = now & TIME_MASK
    const n = fc.count[id]!
    let idx = -1
    let w: Uint32Array = EMPTY
    let base = 0
    if (n > 0) {
      const h = fc.handle[id]!
      w = fc.heap.page(h)
      base = fc.heap.offset(h)
      idx = findPeer(w, base, n, s, ip, port)
    }
    if (idx >= 0) {
      const at = base + idx * s + s - 1
      const word = w[at]!
      const old = word >>> 24
      const minutes = (((time - word) & TIME_MASK) / 60) | 0
      if (minutes < 45) this.renew[minutes]!++
      flags |= old & FLAG_COMPLETED
      const newlyCompleted = (flags & FLAG_COMPLETED) !== 0 && (old & FLAG_COMPLETED) === 0
      if (newlyCompleted) { this.downloadedCol[id]!++; this.completed++ }
      if ((flags & FLAG_SEEDING) !== (old & FLAG_SEEDING)) {
        const d = (flags & FLAG_SEEDING) !== 0 ? 1 : -1
        fc.seeders[id] = fc.seeders[id]! + d
        this.seeders += d
      }
      w[at] = ((flags << 24) | time) >>> 0
      if (this.syncTap !== null && (minutes > 10 || newlyCompleted)) this.syncTap.announced(this.keyOf(id), family, ip, port, flags)
    } else {
      idx = this.insertPeer(fc, id, -idx - 1, ip, port, ((flags << 24) | time) >>> 0)
      if ((flags & FLAG_COMPLETED) !== 0) { this.downloadedCol[id]!++; this.completed++ }
      if (this.syncTap !== null) this.syncTap.announced(this.keyOf(id), family, ip, port, flags)
    }
    this.selfFamily = family
    this.selfIndex = idx
    return id
  }

  /** Removes ip:port from a torrent (event=stopped). Returns the torrent id, or -1 if unknown. */
  stop (hash: Buffer, hashOff: number, family: number, ip: Uint32Array, port: number): number {
    this.selfIndex = -1
    if (this.syncTap !== null) this.syncTap.stopped(hash.toString('latin1', hashOff, hashOff + 20), family, ip, port)
    const id = this.find(hash, hashOff)
    if (id < 0) return -1
    this.lastActiveCol[id] = this.clock.seconds
    const idx = this.findPeerIn(id, family, ip, port)
    if (idx >= 0) {
      this.removePeer(family === 4 ? this.v4 : this.v6, id, idx)
      const ids = this.peerIdMaps.get(id)
      if (ids !== undefined) ids.delete(peerKey(family, ip, port))
    }
    return id
  }

  /** {@link stop} by key string (sync). */
  stopKey (key: string, family: number, ip: Uint32Array, port: number): number {
    this.keyScratch.write(key, 0, 20, 'latin1')
    return this.stop(this.keyScratch, 0, family, ip, port)
  }

  // ---- peer_ids for the dictionary model ----

  /** Whether any peer_id is remembered for torrent `id`. */
  hasPeerIds (id: number): boolean {
    return this.peerIdMaps.size !== 0 && this.peerIdMaps.has(id)
  }

  /** Remembered peer_ids of torrent `id`, by {@link peerKey}; null when none. */
  peerIdsOf (id: number): Map<string, Buffer> | null {
    return this.peerIdMaps.get(id) ?? null
  }

  /**
   * Records a peer's peer_id for dictionary replies: always when `force` (the peer asked for the
   * dictionary model), otherwise only to refresh one already remembered, so it never goes stale.
   */
  rememberPeerId (id: number, family: number, ip: Uint32Array, port: number, peerId: Buffer, idOffset: number, force: boolean): void {
    let ids = this.peerIdMaps.get(id)
    if (!force && ids === undefined) return
    const k = peerKey(family, ip, port)
    if (!force && !ids!.has(k)) return
    if (ids === undefined) this.peerIdMaps.set(id, ids = new Map())
    // Its own 20 bytes: a Buffer.from copy would be a slice of Node's 8 KiB pool and keep the
    // whole pool block alive for as long as the peer is remembered.
    const copy = Buffer.allocUnsafeSlow(20)
    peerId.copy(copy, 0, idOffset, idOffset + 20)
    ids.set(k, copy)
  }

  // ---- restore (state dump, state file, sync) ----

  /**
   * Restores a torrent's counts (state dump, state file, sync): creates it when unknown, with
   * `lastActive` and `downloaded`; when it exists, keeps the larger of the two values, so
   * restoring the same dump twice never doubles anything (opentracker bug §12.8). Returns its id.
   */
  restoreTorrent (hash: Uint8Array, hashOff: number, lastActive: number, downloaded: number): number {
    this.loadKey(hash, hashOff)
    let id = this.lookup()
    if (id < 0) {
      id = this.insertLoadedKey(lastActive)
      this.downloadedCol[id] = downloaded
      return id
    }
    if (lastActive > this.lastActiveCol[id]!) this.lastActiveCol[id] = lastActive
    if (downloaded > this.downloadedCol[id]!) this.downloadedCol[id] = downloaded
    return id
  }

  /** {@link restoreTorrent} by the 20 raw bytes as a latin1 string. */
  restoreTorrentKey (key: string, lastActive: number, downloaded: number): number {
    this.keyScratch.write(key, 0, 20, 'latin1')
    return this.restoreTorrent(this.keyScratch, 0, lastActive, downloaded)
  }

  /**
   * Adds a peer record (`words`: ip words, port, meta as stored) unless ip:port is already there.
   * Returns whether it was added. Flags and time are kept as given.
   */
  restorePeer (id: number, family: number, words: Uint32Array, at: number): boolean {
    const fc = family === 4 ? this.v4 : this.v6
    const s = fc.stride
    const ip = restoreIp
    for (let k = 0; k < s - 2; k++) ip[k] = words[at + k]!
    const port = words[at + s - 2]!
    const idx = this.findPeerIn(id, family, ip, port)
    if (idx >= 0) return false
    this.insertPeer(fc, id, -idx - 1, ip, port, words[at + s - 1]!)
    return true
  }

  // ---- cleaning ----

  /**
   * Cleans up to `budget` torrents, continuing where the previous slice stopped; a new pass
   * starts when the previous one ends. Returns true when this slice finished a pass.
   */
  sweepSlice (budget: number): boolean {
    const now = this.clock.seconds
    let id = this.sweepCursor
    for (let i = 0; i < budget; i++) {
      id = this.next(id)
      if (id < 0) { this.sweepCursor = 0; return true }
      this.clean(id, now)
      id++
    }
    this.sweepCursor = id
    return false
  }

  /** One complete cleaning pass, now (tests and shutdown). */
  sweepAll (): void {
    this.sweepCursor = 0
    while (!this.sweepSlice(1 << 20)) { /* until the pass ends */ }
  }

  /** Expires a torrent's peers and drops the torrent when its time is up. Returns true when dropped. */
  private clean (id: number, now: number): boolean {
    const timeout = this.limits.peerTimeoutSeconds
    this.expireList(this.v4, id, now, timeout)
    this.expireList(this.v6, id, now, timeout)
    const ids = this.peerIdMaps.get(id)
    if (ids !== undefined) this.prunePeerIds(id, ids)
    if (this.peersOf(id) > 0) return false
    const idle = now - this.lastActiveCol[id]!
    if (idle >= this.limits.torrentTimeoutSeconds + timeout ||
        (this.downloadedCol[id] === 0 && idle >= EMPTY_GRACE_SECONDS)) {
      this.dropTorrent(id)
      return true
    }
    return false
  }

  private expireList (fc: FamilyColumns, id: number, now: number, timeout: number): void {
    const n = fc.count[id]!
    if (n === 0) return
    const h = fc.handle[id]!
    const kept = expirePeers(fc.heap.page(h), fc.heap.offset(h), n, fc.stride, now, timeout)
    if (kept === n) return
    const removed = n - kept
    fc.count[id] = kept
    fc.seeders[id] = fc.seeders[id]! - expiredSeeders
    this.seeders -= expiredSeeders
    this.peers -= removed
    if (fc === this.v6) this.peers6 -= removed
    this.fitBlock(fc, id)
  }

  /** Removes torrent `id` and everything it holds. */
  dropTorrent (id: number): void {
    if (!this.isLive(id)) return
    for (const fc of [this.v4, this.v6]) {
      const n = fc.count[id]!
      if (n > 0) {
        const seeders = fc.seeders[id]!
        this.peers -= n
        if (fc === this.v6) this.peers6 -= n
        this.seeders -= seeders
        fc.count[id] = 0
        fc.seeders[id] = 0
      }
      this.fitBlock(fc, id)
    }
    this.peerIdMaps.delete(id)
    // Backward-shift deletion from the index: later members of the probe run move up so every
    // key stays reachable from its home slot without tombstones.
    const slots = this.slots
    const mask = this.mask
    let i = this.homeOf(id)
    while (slots[i] !== id) i = (i + 1) & mask
    let j = i
    for (;;) {
      j = (j + 1) & mask
      const other = slots[j]!
      if (other < 0) break
      const home = this.homeOf(other)
      // Move `other` into the hole at i unless its home lies cyclically in (i, j].
      const inRange = i <= j ? (home > i && home <= j) : (home > i || home <= j)
      if (!inRange) { slots[i] = other; i = j }
    }
    slots[i] = -1
    this.live[id] = 0
    this.lastActiveCol[id] = 0
    this.downloadedCol[id] = 0
    this.freeIds.push(id)
    this.size--
  }

  /** The index slot torrent `id`'s key hashes to (leaves the loaded key alone). */
  private homeOf (id: number): number {
    const keys = this.keys
    const b = id * KEY_WORDS
    return this.hashWords(keys[b]!, keys[b + 1]!, keys[b + 2]!, keys[b + 3]!, keys[b + 4]!) & this.mask
  }

  private prunePeerIds (id: number, ids: Map<string, Buffer>): void {
    for (const k of ids.keys()) {
      const colon = k.lastIndexOf(':')
      const port = Number(k.slice(colon + 1))
      const parts = k.slice(0, colon).split(',')
      for (let i = 0; i < parts.length; i++) keyIp[i] = Number(parts[i])
      if (this.findPeerIn(id, parts.length === 1 ? 4 : 6, keyIp, port) < 0) ids.delete(k)
    }
    if (ids.size === 0) this.peerIdMaps.delete(id)
  }

  // ---- internals: ids, index, blocks ----

  /** Adds the loaded key at the slot the last lookup missed on. */
  private insertLoadedKey (lastActive: number): number {
    const max = this.limits.maxTorrents ?? 0
    if ((max > 0 && this.size >= max) || this.overBudget()) {
      this.evictTorrents(-1, max > 0 && this.size >= max ? this.size - max + 1 : 0)
      this.lookup() // the index may have moved: find the empty slot for the loaded key again
    }
    let id: number
    if (this.freeIds.length > 0) id = this.freeIds.pop()!
    else {
      if (this.highWater === this.capacity) this.growColumns()
      id = this.highWater++
    }
    const b = id * KEY_WORDS
    const keys = this.keys
    keys[b] = this.k0; keys[b + 1] = this.k1; keys[b + 2] = this.k2; keys[b + 3] = this.k3; keys[b + 4] = this.k4
    this.live[id] = 1
    this.lastActiveCol[id] = lastActive
    this.downloadedCol[id] = 0
    this.slots[this.missSlot] = id
    this.size++
    if (this.size * 4 > this.slots.length * 3) this.growIndex()
    return id
  }

  private growColumns (): void {
    const cap = this.capacity * 2
    this.keys = grown(this.keys, cap * KEY_WORDS)
    this.lastActiveCol = grown(this.lastActiveCol, cap)
    this.downloadedCol = grown(this.downloadedCol, cap)
    this.live = grown(this.live, cap)
    this.v4.grow(cap)
    this.v6.grow(cap)
    this.capacity = cap
  }

  private growIndex (): void {
    const size = this.slots.length * 2
    this.slots = new Int32Array(size).fill(-1)
    this.mask = size - 1
    const slots = this.slots
    for (let id = this.next(0); id >= 0; id = this.next(id + 1)) {
      let i = this.homeOf(id)
      while (slots[i]! >= 0) i = (i + 1) & this.mask
      slots[i] = id
    }
  }

  private overBudget (): boolean {
    const budget = this.limits.memoryLimitBytes ?? 0
    return budget > 0 && this.liveBytes > budget
  }

  /**
   * Drops at least `atLeast` torrents, and more while over the memory budget (at most
   * {@link EVICTIONS_PER_INSERT} beyond `atLeast`), each the least recently active of a random
   * sample; never `keep`. Leaves the loaded key alone.
   */
  private evictTorrents (keep: number, atLeast: number): void {
    let evicted = 0
    while (this.size > 1 && (evicted < atLeast || (this.overBudget() && evicted < atLeast + EVICTIONS_PER_INSERT))) {
      let victim = -1
      let oldest = Infinity
      for (let i = 0; i < EVICTION_SAMPLE; i++) {
        const id = this.next(Math.floor(Math.random() * this.highWater))
        if (id < 0 || id === keep) continue
        const t = this.lastActiveCol[id]!
        if (t < oldest) { oldest = t; victim = id }
      }
      if (victim < 0) break
      this.evictedTorrents++
      this.evictedTorrentPeers += this.peersOf(victim)
      this.dropTorrent(victim)
      evicted++
    }
  }

  /**
   * Makes room in a torrent at maxPeersPerTorrent: removes the stalest of a few sampled records.
   * Returns the new insertion point for `pos` (shifted when the removed record was before it).
   */
  private evictPeer (fc: FamilyColumns, id: number, pos: number): number {
    const s = fc.stride
    const n = fc.count[id]!
    const h = fc.handle[id]!
    const w = fc.heap.page(h)
    const b = fc.heap.offset(h)
    const now = this.clock.seconds & TIME_MASK
    let victim = 0
    let oldest = -1
    for (let i = 0; i < PEER_EVICTION_SAMPLE; i++) {
      const r = Math.floor(Math.random() * n)
      const age = (now - w[b + r * s + s - 1]!) & TIME_MASK
      if (age > oldest) { oldest = age; victim = r }
    }
    this.removePeer(fc, id, victim)
    this.evictedPeers++
    return victim < pos ? pos - 1 : pos
  }

  /**
   * Inserts a record at index `pos` of torrent `id`'s list, moving to a larger block when full,
   * making room first when a limit is reached. Returns the index it ended up at.
   */
  private insertPeer (fc: FamilyColumns, id: number, pos: number, ip: Uint32Array, port: number, meta: number): number {
    const maxPeers = this.limits.maxPeersPerTorrent ?? 0
    if (maxPeers > 0 && fc.count[id]! >= maxPeers) pos = this.evictPeer(fc, id, pos)
    else if (this.overBudget()) this.evictTorrents(id, 0)
    const s = fc.stride
    const heap = fc.heap
    const n = fc.count[id]!
    const stored = fc.cls[id]!
    const cls = stored - 1
    let h = fc.handle[id]!
    if (stored === NO_BLOCK || n + 1 > CLASS_RECORDS[cls]!) {
      const nextCls = stored === NO_BLOCK ? 0 : cls + 1
      const h2 = heap.alloc(nextCls)
      if (n > 0) {
        const from = heap.page(h)
        const fo = heap.offset(h)
        const to = heap.page(h2)
        const tb = heap.offset(h2)
        to.set(from.subarray(fo, fo + pos * s), tb)
        to.set(from.subarray(fo + pos * s, fo + n * s), tb + (pos + 1) * s)
      }
      if (stored !== NO_BLOCK) heap.release(h, cls)
      fc.handle[id] = h = h2
      fc.cls[id] = nextCls + 1
    } else if (pos < n) {
      const w = heap.page(h)
      const b = heap.offset(h)
      w.copyWithin(b + (pos + 1) * s, b + pos * s, b + n * s)
    }
    const w = heap.page(h)
    const b = heap.offset(h) + pos * s
    for (let k = 0; k < s - 2; k++) w[b + k] = ip[k]!
    w[b + s - 2] = port
    w[b + s - 1] = meta
    fc.count[id] = n + 1
    this.peers++
    if (fc === this.v6) this.peers6++
    if (((meta >>> 24) & FLAG_SEEDING) !== 0) {
      fc.seeders[id] = fc.seeders[id]! + 1
      this.seeders++
    }
    return pos
  }

  /** Removes record `idx` of torrent `id`'s list. */
  private removePeer (fc: FamilyColumns, id: number, idx: number): void {
    const s = fc.stride
    const h = fc.handle[id]!
    const w = fc.heap.page(h)
    const b = fc.heap.offset(h)
    const n = fc.count[id]!
    if (((w[b + idx * s + s - 1]! >>> 24) & FLAG_SEEDING) !== 0) {
      fc.seeders[id] = fc.seeders[id]! - 1
      this.seeders--
    }
    w.copyWithin(b + idx * s, b + (idx + 1) * s, b + n * s)
    fc.count[id] = n - 1
    this.peers--
    if (fc === this.v6) this.peers6--
    this.fitBlock(fc, id)
  }

  /** Frees an empty list's block, or moves a list to a smaller block when it uses under a quarter. */
  private fitBlock (fc: FamilyColumns, id: number): void {
    const stored = fc.cls[id]!
    if (stored === NO_BLOCK) return
    const cls = stored - 1
    const n = fc.count[id]!
    const heap = fc.heap
    const h = fc.handle[id]!
    if (n === 0) {
      heap.release(h, cls)
      fc.cls[id] = NO_BLOCK
      fc.handle[id] = 0
      return
    }
    if (cls <= SHRINK_MIN_CLASS || n * 4 >= CLASS_RECORDS[cls]!) return
    const to = classFor(n * 2)
    const h2 = heap.alloc(to)
    const fo = heap.offset(h)
    heap.page(h2).set(heap.page(h).subarray(fo, fo + n * fc.stride), heap.offset(h2))
    heap.release(h, cls)
    fc.handle[id] = h2
    fc.cls[id] = to + 1
  }
}

const EMPTY = new Uint32Array(0)

/** Text key of a peer for side tables: family, address words and port. */
export function peerKey (family: number, ip: ArrayLike<number>, port: number): string {
  return family === 4 ? `${ip[0]!}:${port}` : `${ip[0]!},${ip[1]!},${ip[2]!},${ip[3]!}:${port}`
}

const keyIp = new Uint32Array(4)
/** restorePeer's address words (sync imports call it per record: no view allocated each time). */
const restoreIp = new Uint32Array(4)
