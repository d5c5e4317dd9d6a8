/**
 * Packed peer lists: a block of a {@link PeerHeap} page per address family per torrent, no object
 * per peer. A list is addressed as (words, base, count): its page, the block's first word, and how
 * many records it holds. Growing and shrinking blocks is the store's job (store.ts).
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

/**
 * Binary search for ip:port among the `count` records at `w[base..]`. `ip` holds 1 word (v4) or
 * 4 words (v6). Returns the record index when found, otherwise -(insertion point) - 1.
 */
export function findPeer (w: Uint32Array, base: number, count: number, s: number, ip: Uint32Array, port: number): number {
  const keyWords = s - 1
  let lo = 0
  let hi = count - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const b = base + mid * s
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

/** Counts the seeders among `count` records. */
export function countSeeders (w: Uint32Array, base: number, count: number, s: number): number {
  let n = 0
  for (let i = 0, at = base + s - 1; i < count; i++, at += s) if (((w[at]! >>> 24) & FLAG_SEEDING) !== 0) n++
  return n
}

/**
 * Drops records whose last announce is `timeoutSeconds` or more before `now`, compacting in
 * place in one pass. Returns how many are kept; {@link expiredSeeders} says how many of the
 * removed ones were seeders.
 */
export function expirePeers (w: Uint32Array, base: number, count: number, s: number, now: number, timeoutSeconds: number): number {
  const t = now & TIME_MASK
  let kept = 0
  let gone = 0
  for (let i = 0; i < count; i++) {
    const at = base + i * s
    const meta = w[at + s - 1]!
    if (((t - (meta & TIME_MASK)) & TIME_MASK) >= timeoutSeconds) {
      if (((meta >>> 24) & FLAG_SEEDING) !== 0) gone++
      continue
    }
    if (kept !== i) w.copyWithin(base + kept * s, at, at + s)
    kept++
  }
  expiredSeeders = gone
  return kept
}

/** Set by {@link expirePeers}: seeders among the records it removed. */
export let expiredSeeders = 0

const picks = new Int32Array(1024)

/**
 * Chooses up to `amount` records other than `skip` (an index, or -1) among `count` at `w[base..]`
 * and writes their indices to `out` in reply order: leechers first, then seeders in reverse. When
 * everyone fits they are all taken in stored order; otherwise a sample is taken from evenly spaced
 * strides with random jitter and a random rotation (opentracker's scheme, reference §4.5), so
 * every peer has a chance and no full shuffle is needed. Returns the number of indices written.
 */
export function selectPeers (w: Uint32Array, base: number, count: number, s: number, amount: number, skip: number, out: Int32Array): number {
  const avail = count - (skip >= 0 ? 1 : 0)
  if (amount > avail) amount = avail
  if (amount > picks.length) amount = picks.length
  if (amount <= 0) return 0
  let n = 0
  if (amount === avail) {
    for (let i = 0; i < count; i++) if (i !== skip) picks[n++] = i
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
  const flag = base + s - 1
  for (let k = 0; k < n; k++) {
    const i = picks[k]!
    if (((w[flag + i * s]! >>> 24) & FLAG_SEEDING) === 0) out[o++] = i
  }
  for (let k = n - 1; k >= 0; k--) {
    const i = picks[k]!
    if (((w[flag + i * s]! >>> 24) & FLAG_SEEDING) !== 0) out[o++] = i
  }
  return o
}

/** Writes the compact records (6 bytes v4, 18 bytes v6) of the selected records; returns the new offset. */
export function writeCompactPeers (w: Uint32Array, base: number, s: number, selected: Int32Array, n: number, out: Buffer, off: number): number {
  for (let k = 0; k < n; k++) {
    const b = base + selected[k]! * s
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
