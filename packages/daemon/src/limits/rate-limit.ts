/**
 * Per-address rate limits for announces, scrapes and full scrapes: one token bucket per address
 * and kind, in a fixed-size table, so memory is bounded whatever the number of addresses and
 * nothing is allocated per request.
 *
 * Buckets are kept as GCRA "theoretical arrival times" (ITU-T I.371; the same token bucket written
 * as one number): with emission interval T = 1/rate and tolerance τ = (burst − 1)·T, a request at
 * `now` is allowed when max(tat, now) − now ≤ τ, and then tat = max(tat, now) + T. Refill is
 * therefore lazy and exact, and with integer T (a full scrape every 300 s) so is Retry-After.
 * `now` is the tracker's cached clock (whole seconds): within one second an address can use its
 * whole burst, so a burst below the rate would cap the rate; the config refuses it. Times are
 * kept in whole microseconds (exact in a double), so T is rounded to 1 µs.
 *
 * Table (open addressing, a probe window of {@link PROBE_SLOTS} slots from the keyed hash):
 *
 *     hash(address) & mask ──► [ s | s+1 | … | s+7 ]   (wraps at the end)
 *     slot s:  key[4s … 4s+3]   address words: IPv4 0,0,0xffff,ip; IPv6 masked to the prefix
 *              until[s]         when every bucket of the slot is full again (µs; 0: never used)
 *              tat[3s + kind]   the kind's theoretical arrival time (µs)
 *
 * Slots are never emptied, only reused, so a lookup stops at the first never-used slot. A new
 * address takes the first never-used slot of its window, or else the one with the smallest
 * `until`: a slot whose buckets are full again (`until` ≤ now) costs nothing to reuse; otherwise
 * the stalest live entry is evicted ({@link evictions}), which only ever forgives: the evicted
 * address starts again with a full burst. A flooding address has the latest `until` of its
 * window, so it is the last to go.
 *
 * The hash is keyed with a random per-process seed, so addresses that share a window cannot be
 * picked in advance. It need not be a MAC (unlike connection ids): the worst a collision can do
 * is the eviction above, and probing is bounded, so no input makes a lookup cost more than 8
 * compares.
 *
 * IPv6 addresses are limited per prefix (default /64, what one subscriber or host gets):
 * otherwise one host could rotate through 2^64 addresses and never be limited.
 */
import { randomFillSync } from 'node:crypto'

export const KIND_ANNOUNCE = 0
export const KIND_SCRAPE = 1
export const KIND_FULLSCRAPE = 2
const KINDS = 3

/** Slots looked at per lookup. */
export const PROBE_SLOTS = 8

/**
 * The limit of one kind: the sustained rate as seconds per request (1 / rate; 0 for no limit,
 * given this way so that "one per 300 s" is exact) and the burst (requests at once).
 */
export interface RateLimit {
  secondsPerRequest: number
  burst: number
}

/** A limit of `rate` requests per second (0: none) with `burst`. */
export function perSecond (rate: number, burst: number): RateLimit {
  return { secondsPerRequest: rate > 0 ? 1 / rate : 0, burst }
}

export interface RateLimiterOptions {
  announce: RateLimit
  scrape: RateLimit
  fullScrape: RateLimit
  /** Table slots, rounded up to a power of two (48 bytes each). */
  slots: number
  /** IPv6 addresses share a bucket per prefix of this many bits (1-128). */
  ipv6PrefixBits: number
}

/**
 * Times are whole microseconds since the epoch, held exactly in doubles (below 2^53 until the
 * year 2255), so that a client exactly at the rate is never refused for a rounding error (in
 * fractional seconds around 1.7e9 the error would add up, second after second).
 */
const US = 1_000_000

/** Bytes of memory per table slot: 16 (key) + 8 (until) + 3 × 8 (tat). */
export const BYTES_PER_SLOT = 48

/** The `failure reason` reply body of a limited HTTP announce or scrape (BEP 31 `retry in`: minutes). */
export const FAILURE_RATE_LIMITED = Buffer.from('d14:failure reason25:rate limited, retry later8:retry ini1ee', 'latin1')
/** The text of the BEP 15 error reply (action 3) to a limited UDP announce or scrape: 33 bytes in all. */
export const ERROR_RATE_LIMITED = Buffer.from('rate limited, retry later', 'latin1')

function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}

function prefixMask (bits: number): number {
  if (bits >= 32) return 0xffffffff
  if (bits <= 0) return 0
  return (0xffffffff << (32 - bits)) >>> 0
}

export class RateLimiter {
  /** Live entries evicted to make room for a new address (the table is too small if this grows fast). */
  evictions = 0
  /** Slots in the table. */
  readonly slots: number
  private readonly mask: number
  private readonly keys: Uint32Array
  private readonly until: Float64Array
  private readonly tat: Float64Array
  /** Per kind: emission interval T (µs per request; 0: no limit) and tolerance τ (µs). */
  private readonly interval = new Float64Array(KINDS)
  private readonly tolerance = new Float64Array(KINDS)
  private readonly m0: number
  private readonly m1: number
  private readonly m2: number
  private readonly m3: number
  private readonly seed: number
  /** Hash state after the three constant words of an IPv4 key. */
  private readonly seed4: number

  constructor (o: RateLimiterOptions) {
    let n = 1024
    while (n < o.slots) n *= 2
    this.slots = n
    this.mask = n - 1
    this.keys = new Uint32Array(n * 4)
    this.until = new Float64Array(n)
    this.tat = new Float64Array(n * KINDS)
    const limits = [o.announce, o.scrape, o.fullScrape]
    for (let k = 0; k < KINDS; k++) {
      const l = limits[k]!
      const T = Math.round(l.secondsPerRequest * US)
      if (T > 0) {
        this.interval[k] = T
        this.tolerance[k] = (Math.max(1, Math.floor(l.burst)) - 1) * T
      }
    }
    const p = o.ipv6PrefixBits
    this.m0 = prefixMask(p); this.m1 = prefixMask(p - 32); this.m2 = prefixMask(p - 64); this.m3 = prefixMask(p - 96)
    const s = new Uint32Array(1)
    randomFillSync(s)
    this.seed = s[0]!
    this.seed4 = fmix32(fmix32(fmix32(this.seed) ^ 0) ^ 0xffff)
  }

  /** Whether requests of `kind` are limited at all. */
  limits (kind: number): boolean {
    return this.interval[kind]! > 0
  }

  /** Seconds between two requests of `kind` at the sustained rate (0: no limit). */
  intervalSeconds (kind: number): number {
    return this.interval[kind]! / US
  }

  /**
   * Takes one request of `kind` from the bucket of (`family`, `ip`) at `nowSeconds`. Returns 0
   * when it is allowed, otherwise the whole seconds until it would be (at least 1).
   */
  take (kind: number, family: number, ip: Uint32Array, nowSeconds: number): number {
    const T = this.interval[kind]!
    if (T === 0) return 0
    const now = nowSeconds * US
    const s = this.lookup(family, ip, now)
    const j = s * KINDS + kind
    const prev = this.tat[j]!
    const t = prev > now ? prev : now
    const ahead = t - now - this.tolerance[kind]!
    if (ahead > 0) return Math.ceil(ahead / US)
    const next = t + T
    this.tat[j] = next
    if (next > this.until[s]!) this.until[s] = next
    return 0
  }

  /** The slot of an address, claiming one (see the header) when it has none; `now` in µs. */
  private lookup (family: number, ip: Uint32Array, now: number): number {
    let a = 0; let b = 0; let c = 0xffff; let d: number
    let h: number
    if (family === 4) {
      d = ip[0]!
      h = fmix32(this.seed4 ^ d)
    } else {
      a = (ip[0]! & this.m0) >>> 0; b = (ip[1]! & this.m1) >>> 0; c = (ip[2]! & this.m2) >>> 0; d = (ip[3]! & this.m3) >>> 0
      h = fmix32(fmix32(fmix32(fmix32(this.seed ^ a) ^ b) ^ c) ^ d)
    }
    const keys = this.keys
    const until = this.until
    const mask = this.mask
    let i = h & mask
    let victim = i
    let victimUntil = Infinity
    for (let n = 0; n < PROBE_SLOTS; n++, i = (i + 1) & mask) {
      const u = until[i]!
      if (u === 0) { victim = i; victimUntil = 0; break }
      const k = i * 4
      if (keys[k + 3] === d && keys[k] === a && keys[k + 1] === b && keys[k + 2] === c) return i
      if (u < victimUntil) { victim = i; victimUntil = u }
    }
    if (victimUntil > now) this.evictions++
    const k = victim * 4
    keys[k] = a; keys[k + 1] = b; keys[k + 2] = c; keys[k + 3] = d
    until[victim] = now > 0 ? now : 1
    const j = victim * KINDS
    this.tat[j] = 0; this.tat[j + 1] = 0; this.tat[j + 2] = 0
    return victim
  }

  /** Addresses whose buckets are not full at `nowSeconds` (a scan of the table: for stats, not hot paths). */
  liveEntries (nowSeconds: number): number {
    let n = 0
    const until = this.until
    const now = nowSeconds * US
    for (let i = 0; i < until.length; i++) if (until[i]! > now) n++
    return n
  }
}
