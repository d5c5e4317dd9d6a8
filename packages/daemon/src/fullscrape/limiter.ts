/**
 * "Modest full scrapes" (opentracker WANT_MODEST_FULLSCRAPES, but configurable and answered with
 * 429 + Retry-After instead of 402): one full scrape per source address per interval. Memory is
 * bounded: entries older than the interval are dropped as the map is walked, and the map never
 * holds more than `maxEntries` addresses (the oldest go first).
 */
export class FullScrapeLimiter {
  private readonly last = new Map<string, number>()

  constructor (readonly intervalSeconds: number, private readonly maxEntries = 100_000) {}

  /** Seconds until `address` may full-scrape again; 0 when it may now (and the scrape is recorded). */
  check (address: string, now: number): number {
    if (this.intervalSeconds <= 0) return 0
    const prev = this.last.get(address)
    if (prev !== undefined && now - prev < this.intervalSeconds) return this.intervalSeconds - (now - prev)
    this.last.delete(address)
    this.last.set(address, now) // re-inserted: the map stays in time order
    if (this.last.size > this.maxEntries) this.prune(now, true)
    return 0
  }

  /** Drops expired entries (oldest first; `force` also drops the oldest live one). */
  prune (now: number, force = false): void {
    for (const [k, t] of this.last) {
      if (now - t < this.intervalSeconds && !force) break
      this.last.delete(k)
      force = false
    }
  }

  get size (): number { return this.last.size }
}
