/**
 * Counters and a latency histogram cheap enough to update per request, plus the order
 * statistics used in reports (percentiles of a run, medians across runs).
 *
 * Histogram layout (log-linear, microseconds, ~3% relative precision, HdrHistogram's idea):
 *
 *   index  0..63            one bucket per microsecond (0-63 µs, exact)
 *   index  64 + 32(e-6) + s  values in [2^e, 2^(e+1)) split into 32 sub-buckets s, e >= 6
 *
 * 768 buckets reach 2^26 µs (67 s); larger values land in the last bucket.
 */

const SUB_BITS = 5
const SUB = 1 << SUB_BITS
const LINEAR = 64
export const HISTOGRAM_BUCKETS = 768

/** Bucket index of a value in microseconds. */
export function bucketOf (us: number): number {
  if (us < LINEAR) return us < 0 ? 0 : Math.floor(us)
  const v = us >= 0x7fffffff ? 0x7fffffff : Math.floor(us)
  const e = 31 - Math.clz32(v)
  const i = LINEAR + (e - 6) * SUB + ((v >>> (e - SUB_BITS)) & (SUB - 1))
  return i < HISTOGRAM_BUCKETS ? i : HISTOGRAM_BUCKETS - 1
}

/** Lowest value (µs) of bucket `i`. */
export function bucketLow (i: number): number {
  if (i < LINEAR) return i
  const e = 6 + Math.floor((i - LINEAR) / SUB)
  const s = (i - LINEAR) % SUB
  return 2 ** e + s * 2 ** (e - SUB_BITS)
}

/** Width (µs) of bucket `i`. */
function bucketWidth (i: number): number {
  if (i < LINEAR) return 1
  return 2 ** (6 + Math.floor((i - LINEAR) / SUB) - SUB_BITS)
}

export class Histogram {
  readonly counts = new Float64Array(HISTOGRAM_BUCKETS)
  total = 0
  max = 0

  /** Records one latency in milliseconds. */
  recordMs (ms: number): void {
    const us = ms * 1000
    this.counts[bucketOf(us)]!++
    this.total++
    if (ms > this.max) this.max = ms
  }

  add (other: Histogram): void {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i]! += other.counts[i]!
    this.total += other.total
    if (other.max > this.max) this.max = other.max
  }

  reset (): void {
    this.counts.fill(0)
    this.total = 0
    this.max = 0
  }

  /** The p-th percentile (0..100) in milliseconds, interpolated within its bucket; NaN when empty. */
  percentileMs (p: number): number {
    if (this.total === 0) return NaN
    const rank = Math.max(1, Math.ceil((p / 100) * this.total))
    let seen = 0
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const c = this.counts[i]!
      if (c === 0) continue
      if (seen + c >= rank) {
        const within = (rank - seen) / c
        const us = bucketLow(i) + within * bucketWidth(i)
        return Math.min(us / 1000, this.max)
      }
      seen += c
    }
    return this.max
  }
}

/** Linear-interpolated percentile (0..100) of numbers; NaN for an empty list. Does not modify `values`. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const pos = (p / 100) * (s.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo)
}

export function median (values: readonly number[]): number {
  return percentile(values, 50)
}

/** Per-request counters of a flood. Plain fields so the hot path is an increment. */
export class Counters {
  /** Requests sent. */
  sent = 0
  /** Good replies (announce or scrape answered as such). */
  ok = 0
  okAnnounce = 0
  okScrape = 0
  /** Error replies: BEP 15 error packets, HTTP non-2xx, failure reason bodies, short replies. */
  errors = 0
  /** Requests with no reply within the timeout. */
  timeouts = 0
  /** Replies that arrived after their request timed out (not counted as ok). */
  late = 0
  /** Connection-level failures (refused, reset, closed early). */
  socketErrors = 0
  /** TCP connections opened (HTTP). */
  connects = 0
  /** Requests re-sent because the server closed a persistent connection between responses. */
  retried = 0
  readonly latency = new Histogram()

  add (o: Counters): void {
    this.sent += o.sent
    this.ok += o.ok
    this.okAnnounce += o.okAnnounce
    this.okScrape += o.okScrape
    this.errors += o.errors
    this.timeouts += o.timeouts
    this.late += o.late
    this.socketErrors += o.socketErrors
    this.connects += o.connects
    this.retried += o.retried
    this.latency.add(o.latency)
  }

  reset (): void {
    this.sent = 0
    this.ok = 0
    this.okAnnounce = 0
    this.okScrape = 0
    this.errors = 0
    this.timeouts = 0
    this.late = 0
    this.socketErrors = 0
    this.connects = 0
    this.retried = 0
    this.latency.reset()
  }
}
