/**
 * IP address parsing and formatting over 32-bit words, for the peer store and the wire.
 *
 * An IPv4 address is one word; an IPv6 address is four words, most significant first, so that
 * comparing words numerically orders addresses like their network-order bytes. v4-mapped IPv6
 * addresses (`::ffff:a.b.c.d`, what a dual-stack socket reports for IPv4 clients) parse as IPv4.
 * None of these functions throw on bad input; they return a family of 0 instead.
 */

/** Family codes returned by {@link parseAddress}. */
export const FAMILY_INVALID = 0
export const FAMILY_V4 = 4
export const FAMILY_V6 = 6

const groups = new Uint16Array(8)

function hexValue (c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/**
 * Parses dotted-quad IPv4 text in `s[start, end)` (exactly four decimal parts of at most 3 digits,
 * each at most 255). Returns the address as an unsigned 32-bit number, or -1.
 */
export function parseIPv4 (s: string, start = 0, end = s.length): number {
  let value = 0
  let part = 0
  let digits = 0
  let dots = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1
      value = value * 256 + part
      part = 0
      digits = 0
      dots++
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1
      part = part * 10 + (c - 48)
      if (part > 255) return -1
    } else {
      return -1
    }
  }
  if (dots !== 3 || digits === 0) return -1
  return value * 256 + part
}

/**
 * Parses IPv6 text (RFC 4291 forms: `::` compression, embedded IPv4 tail, optional `%zone`, which
 * is ignored) into `out[0..3]`. Returns false on malformed text.
 */
export function parseIPv6 (s: string, out: Uint32Array | number[], start = 0, end = s.length): boolean {
  const zone = s.indexOf('%', start)
  if (zone >= 0 && zone < end) end = zone
  if (end - start < 2) return false
  let n = 0
  let gap = -1
  let i = start
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false
    gap = 0
    i += 2
    if (i === end) {
      for (let k = 0; k < 4; k++) out[k] = 0
      return true
    }
  }
  while (i < end) {
    if (n === 8) return false
    // An embedded IPv4 tail occupies the last two groups.
    let j = i
    let sawDot = false
    while (j < end && s.charCodeAt(j) !== 58) { if (s.charCodeAt(j) === 46) sawDot = true; j++ }
    if (sawDot) {
      if (j !== end || n > 6) return false
      const v4 = parseIPv4(s, i, end)
      if (v4 < 0) return false
      groups[n++] = v4 >>> 16
      groups[n++] = v4 & 0xffff
      i = end
      break
    }
    const len = j - i
    if (len === 0 || len > 4) return false
    let g = 0
    for (let k = i; k < j; k++) {
      const h = hexValue(s.charCodeAt(k))
      if (h < 0) return false
      g = g * 16 + h
    }
    groups[n++] = g
    i = j
    if (i === end) break
    // i is at a ':'
    if (i + 1 < end && s.charCodeAt(i + 1) === 58) {
      if (gap >= 0) return false
      gap = n
      i += 2
    } else {
      i += 1
      if (i === end) return false
    }
  }
  if (gap < 0) {
    if (n !== 8) return false
  } else {
    if (n === 8) return false
    const move = n - gap
    for (let k = 7; k >= 8 - move; k--) groups[k] = groups[k - (8 - n)]!
    for (let k = gap; k < 8 - move; k++) groups[k] = 0
  }
  for (let k = 0; k < 4; k++) out[k] = (groups[2 * k]! * 65536 + groups[2 * k + 1]!)
  return true
}

/**
 * Parses an address as reported by Node's sockets (`rinfo.address`, `socket.remoteAddress`) or
 * given by an operator. Writes one word (IPv4) or four words (IPv6) into `out`.
 * v4-mapped IPv6 (`::ffff:1.2.3.4`, and `::ffff:0102:0304`) yields {@link FAMILY_V4}.
 */
export function parseAddress (s: string, out: Uint32Array | number[]): number {
  if (s.indexOf(':') < 0) {
    const v4 = parseIPv4(s)
    if (v4 < 0) return FAMILY_INVALID
    out[0] = v4
    return FAMILY_V4
  }
  if (!parseIPv6(s, out)) return FAMILY_INVALID
  if (out[0] === 0 && out[1] === 0 && out[2] === 0xffff) {
    out[0] = out[3]!
    return FAMILY_V4
  }
  return FAMILY_V6
}

/** Formats an IPv4 word as dotted-quad text. */
export function formatIPv4 (ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`
}

/** Formats four IPv6 words as RFC 5952 text (lowercase, longest run of two or more zero groups compressed). */
export function formatIPv6 (w: ArrayLike<number>, offset = 0): string {
  const g: number[] = []
  for (let k = 0; k < 4; k++) {
    const word = w[offset + k]!
    g.push(Math.floor(word / 65536), word & 0xffff)
  }
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = (a: number, b: number): string => g.slice(a, b).map((x) => x.toString(16)).join(':')
  if (bestStart < 0) return hex(0, 8)
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`
}
