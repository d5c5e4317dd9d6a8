/**
 * Applies one peer record learned from another node (a /sync changeset or a live-sync packet) to
 * the store. Shared by both mechanisms so they mean the same thing (reference §10.2, receiving):
 *
 *  - STOPPED removes the peer, unless the peer announced here after the stop.
 *  - Otherwise the peer is added with FROM_SYNC, its last announce set to "now minus the record's
 *    age", so it expires when it would have on the node that saw it. COMPLETED without SEEDING
 *    is dropped (opentracker's sanitising); a new peer with COMPLETED counts a download.
 *  - A record for a peer that is already here replaces it only when it is newer (the other node
 *    saw the peer announce more recently); the peer then becomes FROM_SYNC (this node no longer
 *    exports it as its own: no echo) and keeps a COMPLETED it had.
 *  - Torrents refused by the access lists are not touched; records older than the peer timeout
 *    are ignored.
 *
 * Records are read from the caller's buffer; nothing is allocated per record.
 */
import type { AccessLists } from '../access/access-lists.js'
import type { Counters } from '../counters.js'
import { FLAG_COMPLETED, FLAG_FROM_SYNC, FLAG_SEEDING, STRIDE_V4, STRIDE_V6, TIME_MASK } from '../swarm/peer-list.js'
import type { SwarmStore } from '../swarm/store.js'

export const APPLY_UNCHANGED = 0
export const APPLY_ADDED = 1
export const APPLY_UPDATED = 2
export const APPLY_REMOVED = 3
export const APPLY_DENIED = 4
export const APPLY_EXPIRED = 5
/** With `--workers`: handed to the worker owning the torrent, which counts the outcome. */
export const APPLY_ELSEWHERE = 6

/** What applies a received record: {@link SyncApplier}, or with workers one that hands foreign torrents on. */
export interface RecordApplier {
  apply (key: string, family: number, buf: Buffer, at: number, now: number): number
}

const FLAG_STOPPED = 0x20
/** Half the 24-bit time ring: a difference below it means "later". */
const HALF_RING = 0x800000

/** Whether 24-bit time `a` is strictly later than `b`. */
function later (a: number, b: number): boolean {
  const d = (a - b) & TIME_MASK
  return d !== 0 && d < HALF_RING
}

/** Outcome counts as plain data (between workers). */
export interface OutcomeCounts { added: number, updated: number, removed: number, unchanged: number, denied: number, expired: number }

/** Counts of one import, by outcome. */
export class ApplyCounts implements OutcomeCounts {
  added = 0
  updated = 0
  removed = 0
  unchanged = 0
  denied = 0
  expired = 0

  count (outcome: number): void {
    switch (outcome) {
      case APPLY_ADDED: this.added++; break
      case APPLY_UPDATED: this.updated++; break
      case APPLY_REMOVED: this.removed++; break
      case APPLY_DENIED: this.denied++; break
      case APPLY_EXPIRED: this.expired++; break
      default: this.unchanged++
    }
  }

  add (o: OutcomeCounts): void {
    this.added += o.added
    this.updated += o.updated
    this.removed += o.removed
    this.unchanged += o.unchanged
    this.denied += o.denied
    this.expired += o.expired
  }

  /** Applies `torrents` (records of 8 or 20 bytes each) with `applier` and counts the outcomes. */
  applyForeign (applier: SyncApplier, torrents: ReadonlyArray<[string, number, Uint8Array]>, now: number): this {
    for (const [key, family, records] of torrents) {
      const buf = Buffer.isBuffer(records) ? records : Buffer.from(records.buffer, records.byteOffset, records.byteLength)
      const size = family === 4 ? 8 : 20
      for (let at = 0; at + size <= buf.length; at += size) this.count(applier.apply(key, family, buf, at, now))
    }
    return this
  }

  get total (): number { return this.added + this.updated + this.removed + this.unchanged + this.denied + this.expired }

  addTo (c: Counters): void {
    c.syncAdded += this.added
    c.syncUpdated += this.updated
    c.syncRemoved += this.removed
    c.syncUnchanged += this.unchanged
    c.syncDenied += this.denied
    c.syncExpired += this.expired
    c.syncPeersReceived += this.total
  }

  toString (): string {
    return `added=${this.added} updated=${this.updated} removed=${this.removed} unchanged=${this.unchanged} denied=${this.denied} expired=${this.expired}`
  }
}

/** Adds one outcome straight to the counters (live sync: no per-packet object). */
export function countOutcome (c: Counters, outcome: number): void {
  switch (outcome) {
    case APPLY_ADDED: c.syncAdded++; break
    case APPLY_UPDATED: c.syncUpdated++; break
    case APPLY_REMOVED: c.syncRemoved++; break
    case APPLY_DENIED: c.syncDenied++; break
    case APPLY_EXPIRED: c.syncExpired++; break
    case APPLY_ELSEWHERE: break
    default: c.syncUnchanged++
  }
}

export class SyncApplier implements RecordApplier {
  private readonly ip = new Uint32Array(4)
  private readonly words = new Uint32Array(STRIDE_V6)

  constructor (private readonly store: SwarmStore, private readonly access: AccessLists, private readonly peerTimeoutSeconds: number) {}

  /**
   * Applies the record at `buf[at]` (8 bytes for family 4, 20 for 6: ip, port, flags, age) to the
   * torrent `key` (20 raw bytes as latin1). Returns an APPLY_* outcome.
   */
  apply (key: string, family: number, buf: Buffer, at: number, now: number): number {
    const store = this.store
    const ip = this.ip
    const n = family === 4 ? 1 : 4
    for (let k = 0; k < n; k++) ip[k] = buf.readUInt32BE(at + 4 * k)
    const p = at + 4 * n
    const port = buf.readUInt16BE(p)
    let flags = buf[p + 2]!
    const ageSeconds = buf[p + 3]! * 60
    const time = (now - ageSeconds) & TIME_MASK

    if ((flags & FLAG_STOPPED) !== 0) {
      const t = store.findKey(key)
      if (t < 0) return APPLY_UNCHANGED
      const idx = store.findPeerIn(t, family, ip, port)
      if (idx < 0) return APPLY_UNCHANGED
      const s = family === 4 ? STRIDE_V4 : STRIDE_V6
      if (later(store.listWords[store.listBase + idx * s + s - 1]! & TIME_MASK, time)) return APPLY_UNCHANGED
      const tap = store.syncTap
      store.syncTap = null // a removal learned from sync is not told again
      store.stopKey(key, family, ip, port)
      store.syncTap = tap
      return APPLY_REMOVED
    }
    if (!this.access.allows(key)) return APPLY_DENIED
    if (ageSeconds >= this.peerTimeoutSeconds) return APPLY_EXPIRED
    flags &= FLAG_SEEDING | FLAG_COMPLETED
    if ((flags & FLAG_SEEDING) === 0) flags = 0

    const t = store.restoreTorrentKey(key, now, 0)
    const idx = store.findPeerIn(t, family, ip, port)
    if (idx < 0) {
      const w = this.words
      const s = family === 4 ? STRIDE_V4 : STRIDE_V6
      for (let k = 0; k < n; k++) w[k] = ip[k]!
      w[s - 2] = port
      w[s - 1] = (((flags | FLAG_FROM_SYNC) << 24) | time) >>> 0
      store.restorePeer(t, family, w, 0)
      if ((flags & FLAG_COMPLETED) !== 0) store.addDownloaded(t, 1)
      return APPLY_ADDED
    }
    const s = family === 4 ? STRIDE_V4 : STRIDE_V6
    const meta = store.listWords[store.listBase + idx * s + s - 1]!
    if (!later(time, meta & TIME_MASK)) return APPLY_UNCHANGED
    const old = meta >>> 24
    const next = flags | FLAG_FROM_SYNC | (old & FLAG_COMPLETED)
    if ((next & FLAG_COMPLETED) !== 0 && (old & FLAG_COMPLETED) === 0) store.addDownloaded(t, 1)
    store.setPeerMeta(t, family, idx, ((next << 24) | time) >>> 0)
    return APPLY_UPDATED
  }
}
