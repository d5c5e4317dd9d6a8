/**
 * opentracker's state dump (reference opentracker-behaviour.md §9): one line per torrent,
 * `<HEX40>:<base>:<downloaded>\n`, where `base` is the torrent's last-touch time in minutes since
 * the Unix epoch. `/stats?mode=statedump` writes it (uppercase hex) and `-l file` reads it back.
 *
 * The reader is strict where opentracker is not (§12.8: its broken hex check lets a garbage line
 * create a bogus torrent): a line is exactly 40 hex digits (either case), `:`, 1 to 15 decimal
 * digits, `:`, 1 to 15 decimal digits, and an optional `\r`. Blank (whitespace-only) lines are
 * skipped; any other line is counted as rejected and yields nothing. Nothing here throws on input.
 */
import { hexDigit, writeDecimal } from './http/bytes.js'

/** One torrent of a state dump. */
export interface StateDumpEntry {
  /** The 20-byte info hash (a view into a Buffer shared by the entries of one parse). */
  hash: Buffer
  baseMinute: number
  downloaded: number
}

/** Largest value a state-dump field can hold (15 decimal digits); the writer clamps to it. */
export const STATE_DUMP_VALUE_MAX = 999999999999999

/** Most bytes {@link writeStateDumpLine} writes: 40 + 1 + 15 + 1 + 15 + 1. */
export const STATE_DUMP_LINE_BOUND = 73

const UPPER_HEX = Buffer.from('0123456789ABCDEF', 'latin1')

function isSpace (c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13)
}

/** Scratch results of {@link readField} and {@link parseLine}. */
const num = [0, 0]

/** Reads 1 to 15 decimal digits from `buf[off, end)`; on success num = [value, offset after it]. */
function readField (buf: Buffer, off: number, end: number): boolean {
  let value = 0
  let i = off
  while (i < end) {
    const c = buf[i]!
    if (c < 48 || c > 57) break
    value = value * 10 + (c - 48)
    i++
  }
  if (i === off || i - off > 15) return false
  num[0] = value
  num[1] = i
  return true
}

/** Parses a state dump; see the module comment for the format. */
export function parseStateDump (buf: Buffer): { entries: StateDumpEntry[], rejected: number } {
  const len = buf.length
  const entries: StateDumpEntry[] = []
  // A valid line has at least 44 bytes plus its newline.
  const hashes = Buffer.allocUnsafe(Math.floor((len + 1) / 45) * 20)
  let rejected = 0
  let pos = 0
  while (pos < len) {
    let eol = buf.indexOf(10, pos)
    if (eol < 0) eol = len
    const start = pos
    pos = eol + 1
    let end = eol
    if (end > start && buf[end - 1] === 13) end--
    if (parseLine(buf, start, end, hashes, entries.length * 20)) {
      const h = entries.length * 20
      entries.push({ hash: hashes.subarray(h, h + 20), baseMinute: num[0]!, downloaded: num[1]! })
      continue
    }
    let i = start
    while (i < eol && isSpace(buf[i]!)) i++
    if (i < eol) rejected++
  }
  return { entries, rejected }
}

/** Parses one line `buf[start, end)` (without its line ending); on success num = [base, downloaded]. */
function parseLine (buf: Buffer, start: number, end: number, out: Buffer, outOff: number): boolean {
  if (end - start < 44) return false
  for (let i = 0; i < 20; i++) {
    const hi = hexDigit(buf[start + 2 * i]!)
    const lo = hexDigit(buf[start + 2 * i + 1]!)
    if (hi < 0 || lo < 0) return false
    out[outOff + i] = hi * 16 + lo
  }
  if (buf[start + 40] !== 58) return false
  if (!readField(buf, start + 41, end)) return false
  const base = num[0]!
  const o = num[1]!
  if (o >= end || buf[o] !== 58) return false
  if (!readField(buf, o + 1, end) || num[1] !== end) return false
  num[1] = num[0]!
  num[0] = base
  return true
}

function clampValue (n: number): number {
  if (!(n > 0)) return 0
  return n >= STATE_DUMP_VALUE_MAX ? STATE_DUMP_VALUE_MAX : Math.floor(n)
}

/**
 * Writes `<HEX40 upper>:<base>:<downloaded>\n` for the hash at `hash[hashOff, hashOff + 20)` into
 * `out` at `off` (room for {@link STATE_DUMP_LINE_BOUND} bytes); returns the offset after it.
 * Values are clamped to whole numbers in [0, {@link STATE_DUMP_VALUE_MAX}] so the line always
 * parses back.
 */
export function writeStateDumpLine (out: Buffer, off: number, hash: Buffer, hashOff: number, baseMinute: number, downloaded: number): number {
  off = writeHexUpper(out, off, hash, hashOff)
  out[off++] = 58
  off = writeDecimal(out, off, clampValue(baseMinute))
  out[off++] = 58
  off = writeDecimal(out, off, clampValue(downloaded))
  out[off] = 10
  return off + 1
}

/** Writes the 20 bytes at `hash[hashOff]` as 40 uppercase hex digits; returns the offset after them. */
export function writeHexUpper (out: Buffer, off: number, hash: Buffer, hashOff: number): number {
  for (let i = 0; i < 20; i++) {
    const b = hash[hashOff + i] ?? 0
    out[off++] = UPPER_HEX[b >>> 4]!
    out[off++] = UPPER_HEX[b & 15]!
  }
  return off
}
