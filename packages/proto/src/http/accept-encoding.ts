/**
 * `Accept-Encoding` negotiation (RFC 9110 §12.5.3) for full scrapes and stats dumps, which otd can
 * send gzip- or zstd-compressed. opentracker only looks for the substrings `gzip` and `zstd`
 * anywhere in the request (reference opentracker-behaviour.md §7.3); this reads the header properly.
 *
 * The value is a comma-separated list of codings, each with an optional weight `;q=<qvalue>`
 * (0 to 1 with at most three decimals); names are case-insensitive, whitespace around the
 * separators is tolerated, and `x-gzip` is gzip. Rules:
 * - q=0 means "not acceptable". A coding listed more than once gets its highest weight.
 * - `*` gives its weight to every coding not listed by name, identity included.
 * - identity is acceptable unless excluded by `identity;q=0`, or by `*;q=0` without an `identity`
 *   entry; when neither names it, it ranks below every listed coding (q=0.001).
 * - The acceptable coding with the highest weight wins; ties go to zstd, then gzip, then identity.
 * - With nothing acceptable (e.g. `identity;q=0`), identity is returned anyway: the caller then
 *   sends an uncompressed reply, as servers commonly do, rather than a 415.
 * A malformed element (bad token, bad or out-of-range weight, junk before the next comma) is
 * ignored as if absent. No header at all means identity. Never throws; does not allocate.
 */
export const ENCODING_IDENTITY = 0
export const ENCODING_GZIP = 1
export const ENCODING_ZSTD = 2

const CODING_OTHER = 0
const CODING_GZIP = 1
const CODING_ZSTD = 2
const CODING_IDENTITY = 3
const CODING_STAR = 4

/** RFC 9110 tchar. */
function isTchar (c: number): boolean {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true
  // ! # $ % & ' * + - . ^ _ ` | ~
  return c === 33 || (c >= 35 && c <= 39) || c === 42 || c === 43 || c === 45 || c === 46 ||
    c === 94 || c === 95 || c === 96 || c === 124 || c === 126
}

function lower (c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c
}

/** Whether `buf[start, end)` equals the lowercase ASCII `word`, ignoring case. */
function tokenIs (buf: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false
  for (let i = 0; i < word.length; i++) if (lower(buf[start + i]!) !== word.charCodeAt(i)) return false
  return true
}

function codingOf (buf: Buffer, start: number, end: number): number {
  if (tokenIs(buf, start, end, 'gzip') || tokenIs(buf, start, end, 'x-gzip')) return CODING_GZIP
  if (tokenIs(buf, start, end, 'zstd')) return CODING_ZSTD
  if (tokenIs(buf, start, end, 'identity')) return CODING_IDENTITY
  if (end - start === 1 && buf[start] === 42) return CODING_STAR
  return CODING_OTHER
}

/** Parses an RFC 9110 qvalue in `buf[start, end)` into thousandths, or -1. */
function parseQ (buf: Buffer, start: number, end: number): number {
  if (start >= end) return -1
  const first = buf[start]!
  if (first !== 48 && first !== 49) return -1
  let q = 0
  if (end > start + 1) {
    if (buf[start + 1] !== 46 || end - start - 2 > 3) return -1
    let scale = 100
    for (let i = start + 2; i < end; i++) {
      const d = buf[i]! - 48
      if (d < 0 || d > 9) return -1
      q += d * scale
      scale /= 10
    }
  }
  if (first === 49) return q === 0 ? 1000 : -1
  return q
}

function isOws (c: number | undefined): boolean {
  return c === 32 || c === 9
}

/**
 * Chooses the reply coding from the `Accept-Encoding` value in `buf[start, end)` (a negative `start`
 * means the header is absent): {@link ENCODING_IDENTITY}, {@link ENCODING_GZIP} or, only when
 * `allowZstd`, {@link ENCODING_ZSTD}. See the module comment for the rules.
 */
export function chooseEncoding (buf: Buffer, start: number, end: number, allowZstd: boolean): number {
  if (start < 0) return ENCODING_IDENTITY
  if (end > buf.length) end = buf.length
  // Weights in thousandths; -1 means "not listed".
  let qGzip = -1
  let qZstd = -1
  let qIdentity = -1
  let qStar = -1
  let i = start
  while (i < end) {
    // Skip empty elements and whitespace.
    const c = buf[i]!
    if (c === 44 || isOws(c)) { i++; continue }
    const tokenStart = i
    while (i < end && isTchar(buf[i]!)) i++
    const tokenEnd = i
    let ok = tokenEnd > tokenStart
    let q = 1000
    while (ok) {
      while (i < end && isOws(buf[i])) i++
      if (i >= end || buf[i] === 44) break
      if (buf[i] !== 59) { ok = false; break } // ';'
      i++
      while (i < end && isOws(buf[i])) i++
      const nameStart = i
      while (i < end && isTchar(buf[i]!)) i++
      const nameEnd = i
      while (i < end && isOws(buf[i])) i++
      if (nameEnd === nameStart || i >= end || buf[i] !== 61) { ok = false; break } // '='
      i++
      while (i < end && isOws(buf[i])) i++
      const valueStart = i
      if (i < end && buf[i] === 34) { // quoted-string: only for parameters other than q
        i++
        while (i < end && buf[i] !== 34) i += buf[i] === 92 ? 2 : 1
        if (i >= end) { ok = false; break }
        i++
        if (tokenIs(buf, nameStart, nameEnd, 'q')) { ok = false; break }
        continue
      }
      while (i < end && isTchar(buf[i]!)) i++
      if (i === valueStart) { ok = false; break }
      if (tokenIs(buf, nameStart, nameEnd, 'q')) {
        q = parseQ(buf, valueStart, i)
        if (q < 0) { ok = false; break }
      }
    }
    if (!ok) {
      // Skip the rest of this element.
      while (i < end && buf[i] !== 44) i++
      continue
    }
    switch (codingOf(buf, tokenStart, tokenEnd)) {
      case CODING_GZIP: if (q > qGzip) qGzip = q; break
      case CODING_ZSTD: if (q > qZstd) qZstd = q; break
      case CODING_IDENTITY: if (q > qIdentity) qIdentity = q; break
      case CODING_STAR: if (q > qStar) qStar = q; break
      default: break
    }
  }
  if (qGzip < 0) qGzip = qStar < 0 ? 0 : qStar
  if (qZstd < 0) qZstd = qStar < 0 ? 0 : qStar
  if (qIdentity < 0) qIdentity = qStar < 0 ? 1 : qStar
  if (!allowZstd) qZstd = 0
  if (qZstd > 0 && qZstd >= qGzip && qZstd >= qIdentity) return ENCODING_ZSTD
  if (qGzip > 0 && qGzip >= qIdentity) return ENCODING_GZIP
  return ENCODING_IDENTITY
}

/** {@link chooseEncoding} on a header value as a string (`undefined`: no header). */
export function chooseEncodingText (value: string | undefined, allowZstd = true): number {
  if (value === undefined) return ENCODING_IDENTITY
  const buf = Buffer.from(value, 'latin1')
  return chooseEncoding(buf, 0, buf.length, allowZstd)
}
