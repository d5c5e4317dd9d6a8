/**
 * Packed peer lists: one Uint32Array per address family per torrent, no object per peer.
 *
 *   IPv4, stride 3:  [ ip | port | meta ] [ ip | port | meta ] ...
 *   IPv6, stride 6:  [ ip0 | ip1 | ip2 | ip3 | port | meta ] ...
 *   meta = flags << 24 | (last announce, seconds, mod 2^24)
 *
 * Records are kept sorted by (ip, port): words compare like network-order bytes, so lookups are a
 * binary search and, as in opentracker, a reply that returns everyone lists leechers in ascending
 * and seeders in descending address order. The identity of a peer is its ip:port (reference §4.1).
 * Ages use 24-bit wrap-around seconds: a peer is always swept long before 194 days.
 */

export const FLAG_SEEDING = 0x80
export const FLAG_COMPLETED = 0x40
export const FLAG_FROM_SYNC = 0x10

export const STRIDE_V4 = 3
export const STRIDE_V6 = 6

export const TIME_MASK = 0xffffff

export class PeerList {
  words: Uint32Array
  count = 0
  seeders = 0

  constructor (readonly stride: number, capacity = 2) {
    this.words = new Uint32Array(stride * capacity)
  }
}

/**
 * Binary search for ip:port. `ip` holds 1 word (v4) or 4 words (v6). Returns the index when found,
 * otherwise -(insertion point) - 1.
 */
export function findPeer (list: PeerList, ip: Uint32Array, port: number): number {
  const w = list.words
  const s = list.stride
  const keyWords = s - 1
  let lo = 0
  let hi = list.count - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const b = mid * s
    let cmp = 0
    for (let k = 0; k < keyWords; k++) {
      const a = w[b + k]!
      const x = k === keyWords - 1 ? port : ip[k]!
      if (a !== x) { cmp = a < x ? -1 : 1; break }
    }
    if (cmp === 0) return mid
    if (cmp < 0) lo = mid + 1
    else hi = mid - 1
  }
  return -lo - 1
}

/** Inserts a record at `pos` (from {@link findPeer}'s insertion point), growing the array by doubling. */
export function insertPeerAt (list: PeerList, pos: number, ip: Uint32Array, port: number, meta: number): void {
  const s = list.stride
  let w = list.words
  if ((list.count + 1) * s > w.length) {
    const grown = new Uint32Array(w.length * 2)
    grown.set(w.subarray(0, pos * s))
    grown.set(w.subarray(pos * s, list.count * s), (pos + 1) * s)
    list.words = w = grown
  } else if (pos < list.count) {
    w.copyWithin((pos + 1) * s, pos * s, list.count * s)
  }
  const b = pos * s
  for (let k = 0; k < s - 2; k++) w[b + k] = ip[k]!
  w[b + s - 2] = port
  w[b + s - 1] = meta
  list.count++
  if (((meta >>> 24) & FLAG_SEEDING) !== 0) list.seeders++
}

/** Removes the record at `idx`, shrinking the array when it is less than a quarter full. */
export function removePeerAt (list: PeerList, idx: number): void {
  const s = list.stride
  const w = list.words
  if (((w[idx * s + s - 1]! >>> 24) & FLAG_SEEDING) !== 0) list.seeders--
  w.copyWithin(idx * s, (idx + 1) * s, list.count * s)
  list.count--
  maybeShrink(list)
}

function maybeShrink (list: PeerList): void {
  const s = list.stride
  const cap = list.words.length / s
  if (cap > 8 && list.count < cap / 4) list.words = list.words.slice(0, (cap / 2) * s)
}

/**
 * Drops peers whose last announce is `timeoutSeconds` or more before `now`, compacting in one pass.
 * Returns how many were removed.
 */
export function expirePeers (list: PeerList, now: number, timeoutSeconds: number): number {
  const s = list.stride
  const w = list.words
  const t = now & TIME_MASK
  let kept = 0
  let seeders = 0
  const n = list.count
  for (let i = 0; i < n; i++) {
    const meta = w[i * s + s - 1]!
    if (((t - (meta & TIME_MASK)) & TIME_MASK) >= timeoutSeconds) continue
    if (kept !== i) w.copyWithin(kept * s, i * s, (i + 1) * s)
    if (((meta >>> 24) & FLAG_SEEDING) !== 0) seeders++
    kept++
  }
  list.count = kept
  list.seeders = seeders
  if (kept !== n) maybeShrink(list)
  return n - kept
}

const picks = new Int32Array(1024)

/**
 * Chooses up to `amount` peers other than `skip` (an index, or -1) and writes their indices to
 * `out` in reply order: leechers first, then seeders in reverse. When everyone fits they are all
 * taken in stored order; otherwise a sample is taken from evenly spaced strides with random
 * jitter and a random rotation (opentracker's scheme, reference §4.5), so every peer has a chance
 * and no full shuffle is needed. Returns the number of indices written.
 */
export function selectPeers (list: PeerList, amount: number, skip: number, out: Int32Array): number {
  const w = list.words
  const s = list.stride
  const avail = list.count - (skip >= 0 ? 1 : 0)
  if (amount > avail) amount = avail
  if (amount > picks.length) amount = picks.length
  if (amount <= 0) return 0
  let n = 0
  if (amount === avail) {
    for (let i = 0; i < list.count; i++) if (i !== skip) picks[n++] = i
  } else {
    const stride = avail / amount
    const rotate = Math.floor(Math.random() * avail)
    let lo = 0
    for (let k = 0; k < amount; k++) {
      // One pick inside each integer window [floor(k*stride), floor((k+1)*stride)): distinct by construction.
      const hi = Math.floor((k + 1) * stride)
      let p = lo + Math.floor(Math.random() * (hi - lo)) + rotate
      lo = hi
      if (p >= avail) p -= avail
      if (skip >= 0 && p >= skip) p++
      picks[n++] = p
    }
  }
  let o = 0
  for (let k = 0; k < n; k++) {
    const i = picks[k]!
    if (((w[i * s + s - 1]! >>> 24) & FLAG_SEEDING) === 0) out[o++] = i
  }
  for (let k = n - 1; k >= 0; k--) {
    const i = picks[k]!
    if (((w[i * s + s - 1]! >>> 24) & FLAG_SEEDING) !== 0) out[o++] = i
  }
  return o
}

/** Writes the compact records (6 bytes v4, 18 bytes v6) of the selected peers; returns the new offset. */
export function writeCompactPeers (list: PeerList, selected: Int32Array, n: number, out: Buffer, off: number): number {
  const w = list.words
  const s = list.stride
  for (let k = 0; k < n; k++) {
    const b = selected[k]! * s
    for (let j = 0; j < s - 2; j++) {
      const ip = w[b + j]!
      out[off] = ip >>> 24
      out[off + 1] = ip >>> 16
      out[off + 2] = ip >>> 8
      out[off + 3] = ip
      off += 4
    }
    const port = w[b + s - 2]!
    out[off] = port >>> 8
    out[off + 1] = port
    off += 2
  }
  return off
}
