/**
 * Reply policy shared by HTTP and UDP: interval with jitter, numwant, and the family split.
 */
/** Draws an announce interval from [base - jitter/2, base + jitter/2) (opentracker: 1620-1979). */
export function drawInterval (base: number, jitter: number): number {
  return base - (jitter >> 1) + Math.floor(Math.random() * jitter)
}

/** Peers of a list of `count` available to a requester who is in it (`self`) or not: it never gets itself. */
export function available (count: number, self: boolean): number {
  return self && count > 0 ? count - 1 : count
}

/** Result of {@link splitFamilies}: how many IPv6 peers; the IPv4 count is returned. */
export let split6 = 0

/**
 * Splits `n` wanted peers between IPv4 and IPv6 pools for an HTTP reply, as opentracker V2024
 * (reference §4.5): everyone if it fits; otherwise each family first gets up to n/4, the rest is
 * shared in proportion to what each family has left (1/1024 units), and rounding losses go to
 * IPv6 first. Returns the IPv4 count; the IPv6 count is in {@link split6}.
 */
export function splitFamilies (n: number, p4: number, p6: number): number {
  if (p4 + p6 <= n) { split6 = p6; return p4 }
  const quarter = Math.floor(n / 4)
  let n4 = Math.min(p4, quarter)
  let n6 = Math.min(p6, quarter)
  const rest = n - n4 - n6
  const r4 = p4 - n4
  const r6 = p6 - n6
  if (rest > 0 && r4 + r6 > 0) {
    n4 += Math.min(r4, Math.floor(rest * Math.floor(r4 * 1024 / (r4 + r6)) / 1024))
    n6 += Math.min(r6, Math.floor(rest * Math.floor(r6 * 1024 / (r4 + r6)) / 1024))
  }
  let short = n - n4 - n6
  while (short > 0) {
    if (n6 < p6) n6++
    else if (n4 < p4) n4++
    else break
    short--
  }
  split6 = n6
  return n4
}
