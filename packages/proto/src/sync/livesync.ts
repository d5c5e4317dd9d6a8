/**
 * Live-sync packets: opentracker's multicast format (reference §10.2) and otd's authenticated
 * unicast variant of it. Framing only: the MAC itself is computed by the caller (the daemon has
 * node:crypto; proto does no I/O and imports nothing but node:buffer).
 *
 *   opentracker (types 0 and 1):
 *     [ tracker id 4 | type u32be 4 ] ( [ info_hash 20 | record 8 or 20 ] )+
 *
 *   otd authenticated (types 0x6f740000 and 0x6f740001, "ot\0\0" + family):
 *     [ tracker id 4 | type u32be 4 ] ( [ info_hash 20 | record ] )+ [ seconds u32be | counter u32be | MAC 16 ]
 *
 *   IPv4 record, 8 bytes:  [ ip 4 | port 2 | flags 1 | age 1 ]
 *   IPv6 record, 20 bytes: [ ip 16 | port 2 | flags 1 | age 1 ]
 *
 * The tracker id is the sender's random id, raw. Flags are the §4.1 bits: STOPPED (0x20) marks a
 * removal. The trailer of an authenticated packet carries the sender's clock (Unix seconds) and a
 * per-sender packet counter, and a 16-byte MAC over every byte before the MAC (HMAC-SHA256
 * truncated to 128 bits in otd; see the daemon's sync/packet-auth.ts), so a receiver can reject
 * forged, stale and replayed packets. opentracker ignores packet types it does not know, so the
 * authenticated types never confuse it.
 */
import { SYNC_FLAG_STOPPED } from './changeset.js'

export const LIVESYNC_TYPE_PEER4 = 0
export const LIVESYNC_TYPE_PEER6 = 1
export const LIVESYNC_TYPE_AUTH_PEER4 = 0x6f740000
export const LIVESYNC_TYPE_AUTH_PEER6 = 0x6f740001

export const LIVESYNC_HEADER_BYTES = 8
/** info_hash + IPv4 record. */
export const LIVESYNC_ENTRY4_BYTES = 28
/** info_hash + IPv6 record. */
export const LIVESYNC_ENTRY6_BYTES = 40
export const LIVESYNC_MAC_BYTES = 16
/** seconds + counter + MAC. */
export const LIVESYNC_TRAILER_BYTES = 8 + LIVESYNC_MAC_BYTES
/** opentracker's packet buffer: one Ethernet MTU minus the IP and UDP headers, rounded down. */
export const LIVESYNC_MAX_PACKET_BYTES = 1480
/**
 * Most record bytes in one packet, the same for both variants so the same buffered records can
 * go out as either: 1480 − header − trailer, rounded down to whole entries by the sender.
 */
export const LIVESYNC_MAX_ENTRY_BYTES = LIVESYNC_MAX_PACKET_BYTES - LIVESYNC_HEADER_BYTES - LIVESYNC_TRAILER_BYTES

export { SYNC_FLAG_STOPPED as LIVESYNC_FLAG_STOPPED }

/** Results of {@link decodeLivesync}. */
export const LIVESYNC_OK = 0
export const LIVESYNC_ERR_SHORT = 1
export const LIVESYNC_ERR_TYPE = 2
export const LIVESYNC_ERR_LENGTH = 3

/** Why a packet was dropped, by result code. */
export const LIVESYNC_ERRORS: readonly string[] = [
  'ok',
  'packet of 8 bytes or less (reference §10.2)',
  'unknown packet type',
  'length is not a header plus whole records (plus the trailer, if authenticated)'
]

/** A decoded packet header; reused across packets (no allocation per packet). */
export class LivesyncPacket {
  /** The sender's tracker id, its 4 raw bytes read as a big-endian number. */
  trackerId = 0
  type = 0
  /** 4 or 6. */
  family = 4
  authenticated = false
  /** Offset of the first entry ([info_hash][record]). */
  entriesOffset = LIVESYNC_HEADER_BYTES
  /** Entries (each 28 or 40 bytes). */
  count = 0
  /** Authenticated packets: sender's clock and counter, and where the MAC starts (= bytes covered by it). */
  seconds = 0
  counter = 0
  macOffset = 0
}

/**
 * Decodes the framing of the packet `buf[0, length)` into `out`. Returns {@link LIVESYNC_OK} or an
 * error code ({@link LIVESYNC_ERRORS} says why). The MAC is not checked here. Never throws.
 */
export function decodeLivesync (buf: Uint8Array, length: number, out: LivesyncPacket): number {
  if (length > buf.length) length = buf.length
  if (length <= LIVESYNC_HEADER_BYTES) return LIVESYNC_ERR_SHORT
  out.trackerId = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!) >>> 0
  const type = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0
  out.type = type
  let entry: number
  let trailer = 0
  switch (type) {
    case LIVESYNC_TYPE_PEER4: out.family = 4; entry = LIVESYNC_ENTRY4_BYTES; break
    case LIVESYNC_TYPE_PEER6: out.family = 6; entry = LIVESYNC_ENTRY6_BYTES; break
    case LIVESYNC_TYPE_AUTH_PEER4: out.family = 4; entry = LIVESYNC_ENTRY4_BYTES; trailer = LIVESYNC_TRAILER_BYTES; break
    case LIVESYNC_TYPE_AUTH_PEER6: out.family = 6; entry = LIVESYNC_ENTRY6_BYTES; trailer = LIVESYNC_TRAILER_BYTES; break
    default: return LIVESYNC_ERR_TYPE
  }
  const body = length - LIVESYNC_HEADER_BYTES - trailer
  if (body <= 0 || body % entry !== 0) return LIVESYNC_ERR_LENGTH
  out.authenticated = trailer !== 0
  out.entriesOffset = LIVESYNC_HEADER_BYTES
  out.count = body / entry
  if (trailer !== 0) {
    const t = length - trailer
    out.seconds = ((buf[t]! << 24) | (buf[t + 1]! << 16) | (buf[t + 2]! << 8) | buf[t + 3]!) >>> 0
    out.counter = ((buf[t + 4]! << 24) | (buf[t + 5]! << 16) | (buf[t + 6]! << 8) | buf[t + 7]!) >>> 0
    out.macOffset = t + 8
  } else {
    out.seconds = 0
    out.counter = 0
    out.macOffset = length
  }
  return LIVESYNC_OK
}

/** Packet type for `family` (4 or 6), plain or authenticated. */
export function livesyncType (family: number, authenticated: boolean): number {
  if (authenticated) return family === 4 ? LIVESYNC_TYPE_AUTH_PEER4 : LIVESYNC_TYPE_AUTH_PEER6
  return family === 4 ? LIVESYNC_TYPE_PEER4 : LIVESYNC_TYPE_PEER6
}

/** Bytes of one entry (info_hash + record) of `family`. */
export function livesyncEntryBytes (family: number): number {
  return family === 4 ? LIVESYNC_ENTRY4_BYTES : LIVESYNC_ENTRY6_BYTES
}

/** Writes the 8-byte header; returns the offset after it. */
export function writeLivesyncHeader (out: Uint8Array, off: number, trackerId: number, type: number): number {
  out[off] = trackerId >>> 24; out[off + 1] = trackerId >>> 16; out[off + 2] = trackerId >>> 8; out[off + 3] = trackerId
  out[off + 4] = type >>> 24; out[off + 5] = type >>> 16; out[off + 6] = type >>> 8; out[off + 7] = type
  return off + LIVESYNC_HEADER_BYTES
}

/**
 * Writes an IPv4 entry: the info_hash (a 20-character latin1 string, the store's key form) and the
 * record. Returns the offset after it.
 */
export function writeLivesyncEntry4 (out: Buffer, off: number, hash: string, ip: number, port: number, flags: number, age: number): number {
  out.write(hash, off, 20, 'latin1')
  out[off + 20] = ip >>> 24; out[off + 21] = ip >>> 16; out[off + 22] = ip >>> 8; out[off + 23] = ip
  out[off + 24] = port >>> 8; out[off + 25] = port
  out[off + 26] = flags
  out[off + 27] = age
  return off + LIVESYNC_ENTRY4_BYTES
}

/** Writes an IPv6 entry (`ip` as four 32-bit words). */
export function writeLivesyncEntry6 (out: Buffer, off: number, hash: string, ip: ArrayLike<number>, port: number, flags: number, age: number): number {
  out.write(hash, off, 20, 'latin1')
  let o = off + 20
  for (let k = 0; k < 4; k++) {
    const w = ip[k]!
    out[o] = w >>> 24; out[o + 1] = w >>> 16; out[o + 2] = w >>> 8; out[o + 3] = w
    o += 4
  }
  out[o] = port >>> 8; out[o + 1] = port
  out[o + 2] = flags
  out[o + 3] = age
  return off + LIVESYNC_ENTRY6_BYTES
}

/**
 * Writes the seconds and counter of an authenticated packet's trailer. Returns the offset where
 * the 16-byte MAC goes, which is also the number of bytes the MAC covers.
 */
export function writeLivesyncSequence (out: Uint8Array, off: number, seconds: number, counter: number): number {
  out[off] = seconds >>> 24; out[off + 1] = seconds >>> 16; out[off + 2] = seconds >>> 8; out[off + 3] = seconds
  out[off + 4] = counter >>> 24; out[off + 5] = counter >>> 16; out[off + 6] = counter >>> 8; out[off + 7] = counter
  return off + 8
}
