/**
 * Query-string parsing for tracker requests, byte for byte as opentracker does it
 * (reference opentracker-behaviour.md §3.3–3.4), with its two weak spots fixed: `left` must be a
 * decimal number (no 32-bit wrap, no "garbage means seeder"), and `compact=0` asks for the BEP 3
 * dictionary model instead of being an error.
 *
 * Grammar: items `name[=value]` separated by `&`. Names are percent-decoded and compared exactly.
 * `+` is a literal byte, never a space. Values of unknown parameters are skipped undecoded.
 * Parsers fill a caller-owned result object and return {@link QUERY_OK} or an error code; they
 * never throw and never allocate.
 */
import { hexDigit } from './bytes.js'

/** Parse succeeded. */
export const QUERY_OK = 0
/** Malformed query or parameter: HTTP 400 Invalid Request. */
export const QUERY_ERR_PARAM = 1

/** BEP 3 / BEP 15 event codes, shared with the UDP codec. */
export const EVENT_NONE = 0
export const EVENT_COMPLETED = 1
export const EVENT_STARTED = 2
export const EVENT_STOPPED = 3

// Byte classes. Names: alphanumerics and -_.!~*'()%+,/;:<>? ; values additionally = and @.
const NAME = 1
const VALUE = 2
const FATAL = 4 // in a skipped value: the next name scan fails (opentracker answers 400)
const cls = new Uint8Array(256)
for (let c = 48; c <= 57; c++) cls[c] = NAME | VALUE
for (let c = 65; c <= 90; c++) cls[c] = NAME | VALUE
for (let c = 97; c <= 122; c++) cls[c] = NAME | VALUE
for (const ch of "-_.!~*'()%+,/;:<>?") cls[ch.charCodeAt(0)] = NAME | VALUE
cls[61] = VALUE // =
cls[64] = VALUE // @
for (const ch of '#"$[\\]^`{|}') cls[ch.charCodeAt(0)] = FATAL

// Parameter name ids.
const P_UNKNOWN = 0
const P_INFO_HASH = 1
const P_PEER_ID = 2
const P_PORT = 3
const P_LEFT = 4
const P_EVENT = 5
const P_NUMWANT = 6
const P_COMPACT = 7
const P_COMPACT6 = 8
const P_NO_PEER_ID = 9

const NAMES: Array<[string, number]> = [
  ['info_hash', P_INFO_HASH], ['peer_id', P_PEER_ID], ['port', P_PORT], ['left', P_LEFT],
  ['event', P_EVENT], ['numwant', P_NUMWANT], ['compact', P_COMPACT], ['compact6', P_COMPACT6],
  ['no_peer_id', P_NO_PEER_ID]
]
const NAME_BYTES = NAMES.map(([n, id]) => [Buffer.from(n, 'latin1'), id] as const)
const MAX_NAME = 16
const nameScratch = Buffer.alloc(MAX_NAME)
const valueScratch = Buffer.alloc(16)

/** Fields of an announce request. Reuse one instance; {@link parseAnnounceQuery} resets it. */
export class AnnounceQuery {
  /** Decoded info_hash (valid when `hasInfoHash`). */
  readonly infoHash = Buffer.alloc(20)
  hasInfoHash = false
  /** Decoded peer_id (valid when `hasPeerId`). */
  readonly peerId = Buffer.alloc(20)
  hasPeerId = false
  /** Peer port; 0 when absent, as opentracker. */
  port = 0
  /** True when `left` was absent or exactly zero (a seeder). */
  leftIsZero = true
  /** One of the EVENT_* codes. */
  event = EVENT_NONE
  /** Requested peers; -1 when absent or negative (use the default). */
  numwant = -1
  /** False when `compact=0` asked for the BEP 3 dictionary model. */
  compact = true
  /** BEP 23 `no_peer_id`: leave `peer id` out of dictionary peers. */
  noPeerId = false

  reset (): void {
    this.hasInfoHash = false
    this.hasPeerId = false
    this.port = 0
    this.leftIsZero = true
    this.event = EVENT_NONE
    this.numwant = -1
    this.compact = true
    this.noPeerId = false
  }
}

/** Up to `maxHashes` info_hashes of a scrape, packed 20 bytes each in `hashes`. */
export class ScrapeQuery {
  readonly hashes: Buffer
  count = 0
  /** How many valid info_hash parameters the request carried (may exceed `count`). */
  seen = 0
  constructor (readonly maxHashes: number) {
    this.hashes = Buffer.alloc(maxHashes * 20)
  }
}

/** Offset after the byte decoded by the last {@link decodeByteAt}. */
let decodedNext = 0

/**
 * Decodes one byte at `buf[i]`: a `%XX` escape (either case) or a literal byte (`+` stays `+`).
 * Returns the byte, or -1 for a bad or truncated escape; the next offset is left in `decodedNext`.
 */
function decodeByteAt (buf: Buffer, i: number, end: number): number {
  const c = buf[i]!
  if (c !== 37) { decodedNext = i + 1; return c }
  if (i + 2 >= end) return -1
  const h = hexDigit(buf[i + 1]!)
  const l = hexDigit(buf[i + 2]!)
  if (h < 0 || l < 0) return -1
  decodedNext = i + 3
  return h * 16 + l
}

/**
 * Percent-decodes `buf[start, end)` into `out` at `outOff`, writing at most `max` bytes.
 * Returns the decoded length (which may exceed `max`; the excess is not written), or -1 on a bad escape.
 */
export function percentDecode (buf: Buffer, start: number, end: number, out: Buffer, outOff: number, max: number): number {
  let n = 0
  for (let i = start; i < end; i = decodedNext) {
    const c = decodeByteAt(buf, i, end)
    if (c < 0) return -1
    if (n < max) out[outOff + n] = c
    n++
  }
  return n
}

function nameId (buf: Buffer, start: number, end: number): number {
  let simple = true
  for (let i = start; i < end; i++) if (buf[i] === 37) { simple = false; break }
  let src = buf
  let s = start
  let len = end - start
  if (!simple) {
    len = percentDecode(buf, start, end, nameScratch, 0, MAX_NAME)
    if (len < 0) return -1
    src = nameScratch
    s = 0
  }
  if (len > MAX_NAME) return P_UNKNOWN
  for (let k = 0; k < NAME_BYTES.length; k++) {
    const [bytes, id] = NAME_BYTES[k]!
    if (bytes.length !== len) continue
    let eq = true
    for (let i = 0; i < len; i++) if (src[s + i] !== bytes[i]) { eq = false; break }
    if (eq) return id
  }
  return P_UNKNOWN
}

/**
 * Parses a decimal integer value (optionally negative, at most 15 digits, no `+`, no garbage).
 * Returns NaN on malformed input. Percent-escapes are decoded first.
 */
function parseInteger (buf: Buffer, start: number, end: number): number {
  const len = percentDecode(buf, start, end, valueScratch, 0, valueScratch.length)
  if (len <= 0 || len > valueScratch.length) return NaN
  let i = 0
  let neg = false
  if (valueScratch[0] === 45) { neg = true; i = 1; if (len === 1) return NaN }
  if (len - i > 15) return NaN
  let v = 0
  for (; i < len; i++) {
    const d = valueScratch[i]! - 48
    if (d < 0 || d > 9) return NaN
    v = v * 10 + d
  }
  return neg ? -v : v
}

/** `left`: decimal digits of any length (optionally signed); returns 0 for zero, 1 for non-zero, -1 if malformed. */
function parseLeft (buf: Buffer, start: number, end: number): number {
  let nonZero = 0
  let digits = 0
  for (let i = start; i < end; i = decodedNext) {
    const c = decodeByteAt(buf, i, end)
    if (c === 45 && i === start) continue
    if (c < 48 || c > 57) return -1
    if (c !== 48) nonZero = 1
    digits++
  }
  return digits === 0 ? -1 : nonZero
}

const EV_COMPLETED = Buffer.from('completed')
const EV_STOPPED = Buffer.from('stopped')
const EV_STARTED = Buffer.from('started')

function parseEvent (buf: Buffer, start: number, end: number): number {
  const len = percentDecode(buf, start, end, valueScratch, 0, valueScratch.length)
  if (len < 0) return -1
  if (len === EV_COMPLETED.length && valueScratch.compare(EV_COMPLETED, 0, len, 0, len) === 0) return EVENT_COMPLETED
  if (len === EV_STOPPED.length && valueScratch.compare(EV_STOPPED, 0, len, 0, len) === 0) return EVENT_STOPPED
  if (len === EV_STARTED.length && valueScratch.compare(EV_STARTED, 0, len, 0, len) === 0) return EVENT_STARTED
  return EVENT_NONE
}

/**
 * Walks the items of `buf[start, end)`, calling `onItem(id, valueStart, valueEnd)` for known names
 * (valueStart = -1 when the item has no `=`). Returns QUERY_OK or QUERY_ERR_PARAM.
 */
function walkQuery (buf: Buffer, start: number, end: number, known: number, visit: (id: number, vs: number, ve: number) => number): number {
  let i = start
  while (i < end) {
    const c0 = buf[i]!
    if (c0 === 38) { i++; continue } // empty item
    const ns = i
    while (i < end) {
      const c = buf[i]!
      if (c === 61 || c === 38) break
      if ((cls[c]! & NAME) === 0) return QUERY_ERR_PARAM
      i++
    }
    let id = nameId(buf, ns, i)
    if (id < 0) return QUERY_ERR_PARAM
    if (((1 << id) & known) === 0) id = P_UNKNOWN
    if (i === end || buf[i] === 38) {
      // Valueless item: fine for unknown names, an error for known ones.
      if (id !== P_UNKNOWN) {
        const r = visit(id, -1, -1)
        if (r !== QUERY_OK) return r
      }
      continue
    }
    i++ // '='
    const vs = i
    if (id === P_UNKNOWN) {
      // Skip without decoding up to the first byte that is not allowed in a value.
      while (i < end && (cls[buf[i]!]! & VALUE) !== 0) i++
      if (i < end) {
        const c = buf[i]!
        if ((cls[c]! & FATAL) !== 0) return QUERY_ERR_PARAM
        i++ // '&', a control byte or a byte >= 0x80 is consumed; the next name follows
      }
      continue
    }
    while (i < end && buf[i] !== 38) {
      if ((cls[buf[i]!]! & VALUE) === 0) return QUERY_ERR_PARAM
      i++
    }
    const r = visit(id, vs, i)
    if (r !== QUERY_OK) return r
  }
  return QUERY_OK
}

const ANNOUNCE_KNOWN = (1 << P_INFO_HASH) | (1 << P_PEER_ID) | (1 << P_PORT) | (1 << P_LEFT) | (1 << P_EVENT) |
  (1 << P_NUMWANT) | (1 << P_COMPACT) | (1 << P_COMPACT6) | (1 << P_NO_PEER_ID)

let aq: AnnounceQuery
let abuf: Buffer
function visitAnnounce (id: number, vs: number, ve: number): number {
  if (vs < 0) {
    if (id === P_NO_PEER_ID) { aq.noPeerId = true; return QUERY_OK }
    return QUERY_ERR_PARAM
  }
  switch (id) {
    case P_INFO_HASH: {
      if (aq.hasInfoHash) return QUERY_ERR_PARAM
      if (percentDecode(abuf, vs, ve, aq.infoHash, 0, 20) !== 20) return QUERY_ERR_PARAM
      aq.hasInfoHash = true
      return QUERY_OK
    }
    case P_PEER_ID: {
      if (percentDecode(abuf, vs, ve, aq.peerId, 0, 20) !== 20) return QUERY_ERR_PARAM
      aq.hasPeerId = true
      return QUERY_OK
    }
    case P_PORT: {
      const v = parseInteger(abuf, vs, ve)
      if (Number.isNaN(v) || v > 65535 || v < -65535) return QUERY_ERR_PARAM
      aq.port = (v + 65536) & 0xffff // negative ports wrap as in opentracker (-1 -> 65535); -0 -> 0
      return QUERY_OK
    }
    case P_LEFT: {
      const v = parseLeft(abuf, vs, ve)
      if (v < 0) return QUERY_ERR_PARAM
      aq.leftIsZero = v === 0
      return QUERY_OK
    }
    case P_EVENT: {
      const v = parseEvent(abuf, vs, ve)
      if (v < 0) return QUERY_ERR_PARAM
      aq.event = v
      return QUERY_OK
    }
    case P_NUMWANT: {
      const v = parseInteger(abuf, vs, ve)
      if (Number.isNaN(v)) return QUERY_ERR_PARAM
      aq.numwant = v < 0 ? -1 : v === 0 ? 0 : v // -0 is 0
      return QUERY_OK
    }
    case P_COMPACT: {
      const v = parseInteger(abuf, vs, ve)
      if (Number.isNaN(v)) return QUERY_ERR_PARAM
      aq.compact = v !== 0
      return QUERY_OK
    }
    case P_COMPACT6: {
      const v = parseInteger(abuf, vs, ve)
      if (Number.isNaN(v) || v === 0) return QUERY_ERR_PARAM
      return QUERY_OK
    }
    case P_NO_PEER_ID: {
      const v = parseInteger(abuf, vs, ve)
      aq.noPeerId = Number.isNaN(v) || v !== 0
      return QUERY_OK
    }
  }
  return QUERY_OK
}

/**
 * Parses an announce query string `buf[start, end)` (without the `?`) into `out`.
 * A missing info_hash is not a parse error: check `out.hasInfoHash` (opentracker answers it with a
 * failure reason, not a 400).
 */
export function parseAnnounceQuery (buf: Buffer, start: number, end: number, out: AnnounceQuery): number {
  out.reset()
  aq = out
  abuf = buf
  return walkQuery(buf, start, end, ANNOUNCE_KNOWN, visitAnnounce)
}

let sq: ScrapeQuery
let sbuf: Buffer
function visitScrape (_id: number, vs: number, ve: number): number {
  if (vs < 0) return QUERY_ERR_PARAM
  const off = sq.count < sq.maxHashes ? sq.count * 20 : -1
  const n = off >= 0
    ? percentDecode(sbuf, vs, ve, sq.hashes, off, 20)
    : percentDecode(sbuf, vs, ve, valueScratch, 0, 0)
  if (n !== 20) return QUERY_ERR_PARAM
  sq.seen++
  if (off >= 0) sq.count++
  return QUERY_OK
}

/**
 * Parses a scrape query: every `info_hash` must decode to 20 bytes (else 400); the first
 * `out.maxHashes` are kept. No info_hash at all is an error too.
 */
export function parseScrapeQuery (buf: Buffer, start: number, end: number, out: ScrapeQuery): number {
  out.count = 0
  out.seen = 0
  sq = out
  sbuf = buf
  const r = walkQuery(buf, start, end, 1 << P_INFO_HASH, visitScrape)
  if (r !== QUERY_OK) return r
  return out.seen === 0 ? QUERY_ERR_PARAM : QUERY_OK
}
