/**
 * /sync changesets: opentracker's batch-sync format (reference §10.1) plus otd's IPv6 extension.
 *
 *   d
 *     4:sync  d  20:<info_hash> <8*N>:<N IPv4 records>  ...  e
 *     5:sync6 d  20:<info_hash> <20*N>:<N IPv6 records> ...  e     (optional: otd's extension)
 *   e
 *
 *   IPv4 record, 8 bytes:  [ ip 4 | port 2 | flags 1 | age 1 ]
 *   IPv6 record, 20 bytes: [ ip 16 | port 2 | flags 1 | age 1 ]
 *
 * The two bytes after the port are opentracker's `ot_peer` tail, copied raw by its sync code:
 * byte 6 is the flags byte ({@link SYNC_FLAG_SEEDING}, {@link SYNC_FLAG_COMPLETED},
 * {@link SYNC_FLAG_STOPPED}; {@link SYNC_FLAG_FROM_SYNC} is ignored on input) and byte 7 the
 * minutes since the peer last announced (or stopped), saturating at 255. A producer that does not
 * know the age writes 0. IPv6 records are the same with a 16-byte address, as in opentracker's
 * V2024 peer record, so one record layout serves changesets and live sync.
 *
 * `sync6` sorts after `sync` (bencode dictionaries are sorted), so a changeset without IPv6
 * peers is byte for byte what opentracker produced and accepted: `d4:syncd…ee`.
 *
 * Decoding is strict and never throws: a changeset is either entirely valid, with every torrent
 * located, or rejected with a reason naming the byte offset. The decoder allocates one small
 * object per torrent and nothing per peer: records stay in the caller's buffer.
 */

/** Peer flags (reference §4.1). */
export const SYNC_FLAG_SEEDING = 0x80
export const SYNC_FLAG_COMPLETED = 0x40
export const SYNC_FLAG_STOPPED = 0x20
export const SYNC_FLAG_FROM_SYNC = 0x10

export const CHANGESET_RECORD4_BYTES = 8
export const CHANGESET_RECORD6_BYTES = 20
/** The shortest changeset, `d4:syncdee`. */
export const CHANGESET_MIN_BYTES = 10

const HEAD = Buffer.from('d4:syncd', 'latin1')
const KEY6 = Buffer.from('5:sync6d', 'latin1')
const CLOSE_SECTION_OPEN6 = Buffer.from('e5:sync6d', 'latin1')
const HASH_PREFIX = Buffer.from('20:', 'latin1')

/** One torrent of a decoded changeset: where its hash and records are in the input. */
export interface ChangesetTorrent {
  /** 4 (from `sync`) or 6 (from `sync6`). */
  family: 4 | 6
  /** Offset of the 20 info_hash bytes. */
  hashOffset: number
  /** Offset of the first record; records are 8 (IPv4) or 20 (IPv6) bytes. */
  recordsOffset: number
  /** Number of records (at least 1). */
  count: number
}

export type ChangesetResult =
  | { ok: true, torrents: ChangesetTorrent[], peers: number, end: number }
  | { ok: false, error: string }

/** Bytes of one record of `family`. */
export function changesetRecordBytes (family: number): number {
  return family === 4 ? CHANGESET_RECORD4_BYTES : CHANGESET_RECORD6_BYTES
}

/** Reads a bencode string length at `at`; returns [length, offset after ':'] or null. */
function readLength (buf: Uint8Array, at: number, end: number): [number, number] | null {
  let i = at
  let n = 0
  while (i < end && buf[i]! >= 48 && buf[i]! <= 57) {
    n = n * 10 + buf[i]! - 48
    if (n > 0x7fffffff) return null
    i++
  }
  if (i === at || i >= end || buf[i] !== 58) return null
  if (buf[at] === 48 && i - at > 1) return null // leading zero
  return [n, i + 1]
}

function matches (buf: Uint8Array, at: number, end: number, lit: Buffer): boolean {
  if (end - at < lit.length) return false
  for (let i = 0; i < lit.length; i++) if (buf[at + i] !== lit[i]) return false
  return true
}

function hashKey (buf: Uint8Array, at: number): string {
  let s = ''
  for (let i = 0; i < 20; i++) s += String.fromCharCode(buf[at + i]!)
  return s
}

/**
 * Parses one section's dictionary body (after its `d`), up to and including its `e`. Appends the
 * torrents and returns the offset after the `e`, or an error string.
 */
function parseSection (buf: Uint8Array, at: number, end: number, family: 4 | 6, out: ChangesetTorrent[]): number | string {
  const size = changesetRecordBytes(family)
  const name = family === 4 ? 'sync' : 'sync6'
  const seen = new Set<string>()
  let i = at
  for (;;) {
    if (i >= end) return `${name}: dictionary not terminated (input ends at offset ${i})`
    if (buf[i] === 101) return i + 1 // 'e'
    const key = readLength(buf, i, end)
    if (key === null) return `${name}: expected an info_hash key or 'e' at offset ${i}`
    if (key[0] !== 20) return `${name}: key at offset ${i} is ${key[0]} bytes, not a 20-byte info_hash`
    const hashOffset = key[1]
    if (hashOffset + 20 > end) return `${name}: info_hash at offset ${hashOffset} runs past the end`
    const k = hashKey(buf, hashOffset)
    if (seen.has(k)) return `${name}: info_hash at offset ${hashOffset} appears twice`
    seen.add(k)
    i = hashOffset + 20
    const val = readLength(buf, i, end)
    if (val === null) return `${name}: expected a peer string after the info_hash at offset ${i}`
    const [len, recordsOffset] = val
    if (len === 0 || len % size !== 0) return `${name}: peer string at offset ${i} is ${len} bytes, not a non-zero multiple of ${size}`
    if (recordsOffset + len > end) return `${name}: peer string at offset ${i} (${len} bytes) runs past the end`
    out.push({ family, hashOffset, recordsOffset, count: len / size })
    i = recordsOffset + len
  }
}

/**
 * Decodes exactly one changeset starting at `buf[offset]` and ending before `end`; bytes after it
 * are left alone (see `end` in the result). Never throws.
 */
export function decodeChangeset (buf: Uint8Array, offset = 0, end = buf.length): ChangesetResult {
  if (offset < 0 || end > buf.length || end - offset < CHANGESET_MIN_BYTES) {
    return { ok: false, error: `a changeset is at least ${CHANGESET_MIN_BYTES} bytes ("d4:syncdee"); got ${Math.max(0, end - offset)}` }
  }
  if (!matches(buf, offset, end, HEAD)) return { ok: false, error: `a changeset starts with "d4:syncd" (offset ${offset})` }
  const torrents: ChangesetTorrent[] = []
  let r = parseSection(buf, offset + HEAD.length, end, 4, torrents)
  if (typeof r === 'string') return { ok: false, error: r }
  if (matches(buf, r, end, KEY6)) {
    r = parseSection(buf, r + KEY6.length, end, 6, torrents)
    if (typeof r === 'string') return { ok: false, error: r }
  }
  if (r >= end) return { ok: false, error: `changeset not terminated: expected 'e' at offset ${r}` }
  if (buf[r] !== 101) return { ok: false, error: `unexpected key or byte at offset ${r}: only "sync" and "sync6" are allowed` }
  let peers = 0
  for (const t of torrents) peers += t.count
  return { ok: true, torrents, peers, end: r + 1 }
}

/** A decoded sequence of changesets: one entry per changeset, in order. */
export type ChangesetsResult =
  | { ok: true, changesets: Array<{ start: number, end: number, torrents: ChangesetTorrent[], peers: number }>, peers: number }
  | { ok: false, error: string }

function isSpace (c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13
}

/**
 * Decodes one or more changesets written back to back in `buf[offset, end)` (a `POST /sync`
 * body); ASCII whitespace between them is allowed. All or nothing: the first malformed changeset
 * makes the whole input invalid, with its number in the reason. Never throws.
 */
export function decodeChangesets (buf: Uint8Array, offset = 0, end = buf.length): ChangesetsResult {
  const changesets: Array<{ start: number, end: number, torrents: ChangesetTorrent[], peers: number }> = []
  let peers = 0
  let i = offset
  for (;;) {
    while (i < end && isSpace(buf[i]!)) i++
    if (i >= end) break
    const r = decodeChangeset(buf, i, end)
    if (!r.ok) return { ok: false, error: `changeset ${changesets.length + 1}: ${r.error}` }
    changesets.push({ start: i, end: r.end, torrents: r.torrents, peers: r.peers })
    peers += r.peers
    i = r.end
  }
  if (changesets.length === 0) return { ok: false, error: 'no changeset given' }
  return { ok: true, changesets, peers }
}

/** Writes `d4:syncd`; returns the offset after it. */
export function writeChangesetStart (out: Buffer, off: number): number {
  HEAD.copy(out, off)
  return off + HEAD.length
}

/** Closes the `sync` dictionary and opens `sync6`: `e5:sync6d`. */
export function writeChangesetSection6 (out: Buffer, off: number): number {
  CLOSE_SECTION_OPEN6.copy(out, off)
  return off + CLOSE_SECTION_OPEN6.length
}

/** Closes the open section and the changeset: `ee`. */
export function writeChangesetEnd (out: Buffer, off: number): number {
  out[off] = 101
  out[off + 1] = 101
  return off + 2
}

function writeDecimal (out: Buffer, off: number, n: number): number {
  const s = String(n)
  out.write(s, off, 'latin1')
  return off + s.length
}

/**
 * Writes one torrent entry: `20:<hash><len>:` followed by `recordBytes` bytes of records copied
 * from `records[recordsStart, recordsStart + recordBytes)`. The hash is 20 bytes at
 * `hash[hashOffset]`, or a 20-character latin1 string (the store's key form).
 */
export function writeChangesetTorrent (out: Buffer, off: number, hash: Uint8Array | string, hashOffset: number,
  records: Uint8Array, recordsStart: number, recordBytes: number): number {
  HASH_PREFIX.copy(out, off)
  off += 3
  if (typeof hash === 'string') out.write(hash, off, 20, 'latin1')
  else out.set(hash.subarray(hashOffset, hashOffset + 20), off)
  off = writeDecimal(out, off + 20, recordBytes)
  out[off++] = 58
  out.set(records.subarray(recordsStart, recordsStart + recordBytes), off)
  return off + recordBytes
}

/** Upper bound of the bytes of one torrent entry holding `recordBytes` bytes of records. */
export function changesetTorrentBound (recordBytes: number): number {
  return 3 + 20 + 11 + 1 + recordBytes
}

/** Writes an IPv4 record (`ip` as an unsigned 32-bit number); returns the offset after it. */
export function writeChangesetRecord4 (out: Buffer, off: number, ip: number, port: number, flags: number, ageMinutes: number): number {
  out.writeUInt32BE(ip >>> 0, off)
  out.writeUInt16BE(port & 0xffff, off + 4)
  out[off + 6] = flags & 0xff
  out[off + 7] = ageMinutes > 255 ? 255 : ageMinutes < 0 ? 0 : ageMinutes
  return off + 8
}

/** Writes an IPv6 record (`ip` as four 32-bit words, most significant first). */
export function writeChangesetRecord6 (out: Buffer, off: number, ip: ArrayLike<number>, port: number, flags: number, ageMinutes: number): number {
  for (let k = 0; k < 4; k++) out.writeUInt32BE(ip[k]! >>> 0, off + 4 * k)
  out.writeUInt16BE(port & 0xffff, off + 16)
  out[off + 18] = flags & 0xff
  out[off + 19] = ageMinutes > 255 ? 255 : ageMinutes < 0 ? 0 : ageMinutes
  return off + 20
}

/** One torrent's peers of one family, for {@link encodeChangeset}. */
export interface ChangesetEntry {
  /** The 20-byte info_hash. */
  infoHash: Uint8Array
  family: 4 | 6
  /** Whole records: 8 bytes each (IPv4) or 20 (IPv6). */
  records: Uint8Array
}

/**
 * Encodes entries as one changeset: hashes sorted within each section (valid bencode), entries of
 * the same hash and family concatenated, empty entries left out, `sync6` only when there are IPv6
 * records. Throws (a programmer error) on a hash that is not 20 bytes or records that are not
 * whole.
 */
export function encodeChangeset (entries: readonly ChangesetEntry[]): Buffer {
  const groups = [new Map<string, Uint8Array[]>(), new Map<string, Uint8Array[]>()]
  let bound = CHANGESET_MIN_BYTES + KEY6.length
  for (const e of entries) {
    if (e.infoHash.length !== 20) throw new Error('info_hash must be 20 bytes')
    if (e.records.length % changesetRecordBytes(e.family) !== 0) throw new Error('records must be whole')
    if (e.records.length === 0) continue
    const g = groups[e.family === 4 ? 0 : 1]!
    const k = hashKey(e.infoHash, 0)
    const list = g.get(k)
    if (list === undefined) { g.set(k, [e.records]); bound += changesetTorrentBound(0) } else list.push(e.records)
    bound += e.records.length
  }
  const out = Buffer.allocUnsafe(bound)
  let off = writeChangesetStart(out, 0)
  for (let s = 0; s < 2; s++) {
    const g = groups[s]!
    if (s === 1) {
      if (g.size === 0) break
      off = writeChangesetSection6(out, off)
    }
    for (const k of [...g.keys()].sort()) {
      const parts = g.get(k)!
      const records = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
      off = writeChangesetTorrent(out, off, k, 0, records, 0, records.length)
    }
  }
  off = writeChangesetEnd(out, off)
  return out.subarray(0, off)
}
