/**
 * opentracker's access-list file (whitelist/blacklist; reference opentracker-behaviour.md §8.1).
 *
 * One info hash per line as 40 hex digits. A line is accepted iff its first 40 bytes are hex
 * digits (either case) and the 41st byte, if any, is not: everything after the hash is ignored,
 * so `<hash> comment` and CRLF endings work, while 80 hex digits run together reject the line. As
 * in opentracker, a hash preceded by whitespace is not accepted. Blank (whitespace-only) lines and
 * comments (first non-whitespace byte `#`) are skipped silently; every other line that is not
 * accepted counts as rejected, so the loader can warn. The last line needs no newline.
 *
 * The result is the set of hashes as one Buffer of 20-byte records, sorted ascending and
 * de-duplicated, ready for binary search. Nothing here throws on input.
 */
import { hexDigit } from './http/bytes.js'

/** Result of {@link parseAccessList}. */
export interface AccessList {
  /** `count` 20-byte hashes, sorted ascending (bytewise), no duplicates. */
  hashes: Buffer
  count: number
  /** Non-blank, non-comment lines that were not accepted. */
  rejected: number
  /** 1-based line number of the first rejected line; 0 when none. */
  firstRejectedLine: number
}

function isSpace (c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13)
}

/** Decodes 40 hex digits at `buf[off]` into `out[outOff, outOff + 20)`; false if one is not hex. */
function decodeHex40 (buf: Uint8Array, off: number, out: Buffer, outOff: number): boolean {
  for (let i = 0; i < 20; i++) {
    const hi = hexDigit(buf[off + 2 * i]!)
    const lo = hexDigit(buf[off + 2 * i + 1]!)
    if (hi < 0 || lo < 0) return false
    out[outOff + i] = hi * 16 + lo
  }
  return true
}

/** Parses an access-list file; see the module comment for the format. */
export function parseAccessList (buf: Buffer): AccessList {
  const len = buf.length
  // n accepted lines need at least 41n - 1 bytes.
  const raw = Buffer.allocUnsafe(Math.floor((len + 1) / 41) * 20)
  let n = 0
  let rejected = 0
  let firstRejectedLine = 0
  let line = 0
  let pos = 0
  while (pos < len) {
    line++
    let eol = buf.indexOf(10, pos)
    if (eol < 0) eol = len
    const lineEnd = eol
    const start = pos
    pos = eol + 1
    if (lineEnd - start >= 40 && (lineEnd - start === 40 || hexDigit(buf[start + 40]!) < 0) &&
      decodeHex40(buf, start, raw, n * 20)) {
      n++
      continue
    }
    let i = start
    while (i < lineEnd && isSpace(buf[i]!)) i++
    if (i === lineEnd || buf[i] === 35) continue
    if (rejected === 0) firstRejectedLine = line
    rejected++
  }
  if (n === 0) return { hashes: Buffer.alloc(0), count: 0, rejected, firstRejectedLine }
  // Sort record offsets; the first word decides almost every comparison without a call into C++.
  const order = new Uint32Array(n)
  const head = new Uint32Array(n)
  for (let k = 0; k < n; k++) {
    order[k] = k * 20
    head[k] = raw.readUInt32BE(k * 20)
  }
  order.sort((a, b) => {
    const x = head[a / 20]!
    const y = head[b / 20]!
    if (x !== y) return x < y ? -1 : 1
    return raw.compare(raw, b, b + 20, a, a + 20)
  })
  const hashes = Buffer.allocUnsafe(n * 20)
  let count = 0
  for (let k = 0; k < n; k++) {
    const src = order[k]!
    if (count > 0 && raw.compare(hashes, (count - 1) * 20, count * 20, src, src + 20) === 0) continue
    raw.copy(hashes, count * 20, src, src + 20)
    count++
  }
  return { hashes: count === n ? hashes : hashes.subarray(0, count * 20), count, rejected, firstRejectedLine }
}

/** Formats `count` 20-byte hashes from `hashes` as lowercase `hex40\n` lines. */
export function formatAccessList (hashes: Buffer, count: number): string {
  const n = Math.max(0, Math.min(Math.floor(count), Math.floor(hashes.length / 20)))
  let s = ''
  for (let k = 0; k < n; k++) s += hashes.toString('hex', k * 20, k * 20 + 20) + '\n'
  return s
}

/** Parses exactly 40 hex digits (either case) into a 20-byte info hash, or returns null. */
/**
 * The hash a single access-list line carries, by the file rule above (40 hex digits first, the
 * next character, if any, not a hex digit), or null. For line-at-a-time readers (FIFOs, patching
 * a list file) so that they accept exactly what {@link parseAccessList} accepts.
 */
export function accessListLineHash (line: string): Buffer | null {
  if (line.length > 40 && hexDigit(line.charCodeAt(40)) >= 0) return null
  return parseHashHex(line.length === 40 ? line : line.slice(0, 40))
}

export function parseHashHex (text: string): Buffer | null {
  if (text.length !== 40) return null
  const out = Buffer.allocUnsafe(20)
  for (let i = 0; i < 20; i++) {
    const hi = hexDigit(text.charCodeAt(2 * i))
    const lo = hexDigit(text.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) return null
    out[i] = hi * 16 + lo
  }
  return out
}
