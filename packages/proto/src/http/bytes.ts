/** Small byte-level helpers shared by the HTTP codecs. Nothing here allocates. */

/** Value of a hex digit byte, or -1. */
export function hexDigit (c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Number of decimal digits of a non-negative integer below 2^53. */
export function decimalLength (n: number): number {
  let len = 1
  while (n >= 10) { n = Math.floor(n / 10); len++ }
  return len
}

/** Writes a non-negative integer (below 2^53) in decimal at `off`; returns the offset after it. */
export function writeDecimal (out: Buffer, off: number, n: number): number {
  if (n < 10) { out[off] = 48 + n; return off + 1 }
  const end = off + decimalLength(n)
  let i = end
  while (n >= 10) {
    const q = Math.floor(n / 10)
    out[--i] = 48 + (n - q * 10)
    n = q
  }
  out[--i] = 48 + n
  return end
}

/** Copies `src` to `out` at `off`; returns the offset after it. */
export function writeBytes (out: Buffer, off: number, src: Buffer): number {
  src.copy(out, off)
  return off + src.length
}

/** Case-insensitive comparison of `buf[off, off + lower.length)` with an ASCII lowercase pattern. */
export function equalsLowerAscii (buf: Buffer, off: number, end: number, lower: Buffer): boolean {
  if (end - off < lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    let c = buf[off + i]!
    if (c >= 65 && c <= 90) c += 32
    if (c !== lower[i]) return false
  }
  return true
}
