/**
 * Full-scrape records (reference opentracker-behaviour.md §7.2): `GET /scrape` without a query
 * (bencoded) and `/stats?mode=tpbs&format=<f>` / `mode=statedump`. The caller walks the torrents in
 * ascending info-hash order and writes one record per torrent into its output buffer, between
 * {@link fullScrapeHead} and {@link fullScrapeTail}.
 *
 * | format    | record |
 * |-----------|--------|
 * | ben       | `20:<hash>d8:completei<S>e10:downloadedi<D>e10:incompletei<L>ee`, inside `d5:filesd` … `ee` |
 * | txt       | `<HEX40>:<S>:<L>\n` |
 * | txtp      | `<HEX40>:<S>:<L>:<D>\n` |
 * | bin       | 20 hash bytes, u32be S, u32be L (counts above 2^32 - 1 are clamped) |
 * | url       | the hash percent-encoded (lowercase `%xx`, `A-Z a-z 0-9 - . _ ~` literal), `:<S>:<L>\n` |
 * | statedump | `<HEX40>:<base minute>:<D>\n` (./state-dump.ts) |
 *
 * HEX40 is uppercase. S, L and D are whole numbers below 2^53, as everywhere in the writers.
 */
import { writeDecimal } from './http/bytes.js'
import { SCRAPE_ENTRY_BOUND, writeScrapeEntry } from './http/responses.js'
import { STATE_DUMP_LINE_BOUND, writeHexUpper, writeStateDumpLine } from './state-dump.js'

export const SCRAPE_FORMAT_BEN = 0
export const SCRAPE_FORMAT_TXT = 1
export const SCRAPE_FORMAT_TXTP = 2
export const SCRAPE_FORMAT_BIN = 3
export const SCRAPE_FORMAT_URL = 4
export const SCRAPE_FORMAT_STATEDUMP = 5

/** Most bytes any record takes (the bencoded one, with three 16-digit counts). */
export const FULL_SCRAPE_RECORD_BOUND = Math.max(SCRAPE_ENTRY_BOUND, STATE_DUMP_LINE_BOUND, 60 + 3 * 17)

const HEAD_BEN = Buffer.from('d5:filesd', 'latin1')
const TAIL_BEN = Buffer.from('ee', 'latin1')
const EMPTY = Buffer.alloc(0)
const LOWER_HEX = Buffer.from('0123456789abcdef', 'latin1')

/**
 * The format named by `/stats?…&format=<name>`: `ben`, `txt`, `txtp`, `bin` or `url` (exact,
 * lowercase, as opentracker). Returns -1 for any other name; statedump is a mode, not a format.
 */
export function parseScrapeFormat (name: string): number {
  switch (name) {
    case 'ben': return SCRAPE_FORMAT_BEN
    case 'txt': return SCRAPE_FORMAT_TXT
    case 'txtp': return SCRAPE_FORMAT_TXTP
    case 'bin': return SCRAPE_FORMAT_BIN
    case 'url': return SCRAPE_FORMAT_URL
    default: return -1
  }
}

/** What goes before the first record: `d5:filesd` for ben, nothing otherwise. Do not modify. */
export function fullScrapeHead (format: number): Buffer {
  return format === SCRAPE_FORMAT_BEN ? HEAD_BEN : EMPTY
}

/** What goes after the last record: `ee` for ben, nothing otherwise. Do not modify. */
export function fullScrapeTail (format: number): Buffer {
  return format === SCRAPE_FORMAT_BEN ? TAIL_BEN : EMPTY
}

/** Whether a byte is RFC 3986 unreserved: `A-Z a-z 0-9 - . _ ~`. */
function isUnreserved (c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ||
    c === 45 || c === 46 || c === 95 || c === 126
}

function clampU32 (n: number): number {
  if (!(n > 0)) return 0
  return n >= 0xffffffff ? 0xffffffff : Math.floor(n)
}

/**
 * Writes one torrent's record in `format` into `out` at `off` (room for
 * {@link FULL_SCRAPE_RECORD_BOUND} bytes) for the hash at `hash[hashOff, hashOff + 20)`; returns the
 * offset after it. `baseMinute` is used by statedump only. An unknown format writes nothing.
 */
export function writeFullScrapeRecord (format: number, out: Buffer, off: number, hash: Buffer, hashOff: number, complete: number, incomplete: number, downloaded: number, baseMinute: number): number {
  switch (format) {
    case SCRAPE_FORMAT_BEN:
      return writeScrapeEntry(out, off, hash, hashOff, complete, downloaded, incomplete)
    case SCRAPE_FORMAT_TXT:
    case SCRAPE_FORMAT_TXTP:
      off = writeHexUpper(out, off, hash, hashOff)
      out[off++] = 58
      off = writeDecimal(out, off, complete)
      out[off++] = 58
      off = writeDecimal(out, off, incomplete)
      if (format === SCRAPE_FORMAT_TXTP) {
        out[off++] = 58
        off = writeDecimal(out, off, downloaded)
      }
      out[off] = 10
      return off + 1
    case SCRAPE_FORMAT_BIN:
      hash.copy(out, off, hashOff, hashOff + 20)
      off = out.writeUInt32BE(clampU32(complete), off + 20)
      return out.writeUInt32BE(clampU32(incomplete), off)
    case SCRAPE_FORMAT_URL:
      for (let i = 0; i < 20; i++) {
        const b = hash[hashOff + i] ?? 0
        if (isUnreserved(b)) {
          out[off++] = b
        } else {
          out[off++] = 37
          out[off++] = LOWER_HEX[b >>> 4]!
          out[off++] = LOWER_HEX[b & 15]!
        }
      }
      out[off++] = 58
      off = writeDecimal(out, off, complete)
      out[off++] = 58
      off = writeDecimal(out, off, incomplete)
      out[off] = 10
      return off + 1
    case SCRAPE_FORMAT_STATEDUMP:
      return writeStateDumpLine(out, off, hash, hashOff, baseMinute, downloaded)
    default:
      return off
  }
}
