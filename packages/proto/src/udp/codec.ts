/**
 * BEP 15 (UDP tracker protocol) requests and replies, https://www.bittorrent.org/beps/bep_0015.html
 * with opentracker's limits (reference opentracker-behaviour.md §5).
 *
 * Decoders read from a receive buffer and fill a caller-owned {@link UdpRequest}; they never throw
 * on any input. The returned kind says whether a reply is allowed at all: malformed packets are
 * dropped silently, as BEP 15 trackers do. Encoders write into caller-owned buffers and return
 * the offset after what they wrote.
 *
 * Packet layouts (all integers big-endian):
 *   connect   request  0 protocol_id(8)=0x41727101980  8 action(4)=0  12 transaction_id(4)            = 16
 *             reply    0 action(4)=0  4 transaction_id(4)  8 connection_id(8)                          = 16
 *   announce  request  0 connection_id(8)  8 action=1  12 txid  16 info_hash(20)  36 peer_id(20)
 *                      56 downloaded(8)  64 left(8)  72 uploaded(8)  80 event(4)  84 ip(4)  88 key(4)
 *                      92 num_want(4)  96 port(2)                                                     = 98
 *             reply    0 action=1  4 txid  8 interval  12 leechers  16 seeders  20 peers (6 or 18 bytes each)
 *   scrape    request  0 connection_id(8)  8 action=2  12 txid  16 info_hash(20) * n
 *             reply    0 action=2  4 txid  8 (seeders, completed, leechers)(4 each) * n
 *   error     reply    0 action=3  4 txid  8 message
 */

export const ACTION_CONNECT = 0
export const ACTION_ANNOUNCE = 1
export const ACTION_SCRAPE = 2
export const ACTION_ERROR = 3

/** The connect magic 0x41727101980, as two 32-bit halves. */
export const PROTOCOL_ID_HIGH = 0x417
export const PROTOCOL_ID_LOW = 0x27101980

export const CONNECT_REQUEST_BYTES = 16
export const CONNECT_REPLY_BYTES = 16
export const ANNOUNCE_REQUEST_BYTES = 98
export const ANNOUNCE_REPLY_HEAD_BYTES = 20
export const SCRAPE_REPLY_ENTRY_BYTES = 12
/** Most hashes answered in one UDP scrape (opentracker: 75, keeping replies under 1 KB). */
export const UDP_SCRAPE_MAX_HASHES = 75
/** Most peers in a UDP announce reply: 200 IPv4 (1220 bytes), 66 IPv6 (1208 bytes), as opentracker V2024. */
export const UDP_MAX_PEERS_V4 = 200
export const UDP_MAX_PEERS_V6 = 66

/** Kinds returned by {@link decodeUdpRequest}. */
export const UDP_DROP = 0
export const UDP_CONNECT = 1
export const UDP_ANNOUNCE = 2
export const UDP_SCRAPE = 3

/** BEP 15 announce events: 0 none, 1 completed, 2 started, 3 stopped (same codes as the HTTP parser's). */
export const UDP_EVENT_NONE = 0
export const UDP_EVENT_COMPLETED = 1
export const UDP_EVENT_STARTED = 2
export const UDP_EVENT_STOPPED = 3

/** A decoded request; fields beyond `kind`/`transactionId`/connection id depend on the kind. */
export class UdpRequest {
  kind = UDP_DROP
  connectionIdHigh = 0
  connectionIdLow = 0
  transactionId = 0
  /** Offset of the 20-byte info_hash (announce) or of the first hash (scrape) in the packet. */
  infoHashOffset = 16
  /** Offset of the 20-byte peer_id (announce). */
  peerIdOffset = 36
  /** The 64-bit `left` field is zero: the peer is a seeder. */
  leftIsZero = false
  event = UDP_EVENT_NONE
  /** Raw unsigned num_want; 0xFFFFFFFF (-1) means "as many as allowed". */
  numWant = 0
  port = 0
  key = 0
  /** Number of complete 20-byte hashes in a scrape, capped at {@link UDP_SCRAPE_MAX_HASHES}. */
  scrapeCount = 0
}

/**
 * Decodes `buf[0, length)`. Returns the kind (also stored in `out.kind`):
 * UDP_DROP for anything that must not be answered (shorter than its action's minimum, unknown
 * action, connect without the magic). For announce and scrape the caller still has to validate
 * the connection id before answering.
 */
export function decodeUdpRequest (buf: Buffer, length: number, out: UdpRequest): number {
  out.kind = UDP_DROP
  if (!(length >= 16) || length > buf.length) return UDP_DROP // !(>=) also drops a NaN length
  const high = buf.readUInt32BE(0)
  const low = buf.readUInt32BE(4)
  const action = buf.readUInt32BE(8)
  out.connectionIdHigh = high
  out.connectionIdLow = low
  out.transactionId = buf.readUInt32BE(12)
  switch (action) {
    case ACTION_CONNECT:
      if (high !== PROTOCOL_ID_HIGH || low !== PROTOCOL_ID_LOW) return UDP_DROP
      out.kind = UDP_CONNECT
      return UDP_CONNECT
    case ACTION_ANNOUNCE: {
      if (length < ANNOUNCE_REQUEST_BYTES) return UDP_DROP
      out.infoHashOffset = 16
      out.peerIdOffset = 36
      out.leftIsZero = buf.readUInt32BE(64) === 0 && buf.readUInt32BE(68) === 0
      const event = buf.readUInt32BE(80)
      out.event = event <= 3 ? event : UDP_EVENT_NONE
      out.key = buf.readUInt32BE(88)
      out.numWant = buf.readUInt32BE(92)
      out.port = buf.readUInt16BE(96)
      out.kind = UDP_ANNOUNCE
      return UDP_ANNOUNCE
    }
    case ACTION_SCRAPE: {
      const n = Math.floor((length - 16) / 20)
      out.infoHashOffset = 16
      out.scrapeCount = n > UDP_SCRAPE_MAX_HASHES ? UDP_SCRAPE_MAX_HASHES : n
      out.kind = UDP_SCRAPE
      return UDP_SCRAPE
    }
    default:
      return UDP_DROP
  }
}

/** Writes the 16-byte connect reply. */
export function writeConnectReply (out: Buffer, off: number, transactionId: number, idHigh: number, idLow: number): number {
  out.writeUInt32BE(ACTION_CONNECT, off)
  out.writeUInt32BE(transactionId, off + 4)
  out.writeUInt32BE(idHigh, off + 8)
  out.writeUInt32BE(idLow, off + 12)
  return off + 16
}

/** Writes the 20-byte head of an announce reply; compact peers follow. */
export function writeAnnounceReplyHead (out: Buffer, off: number, transactionId: number, interval: number, leechers: number, seeders: number): number {
  out.writeUInt32BE(ACTION_ANNOUNCE, off)
  out.writeUInt32BE(transactionId, off + 4)
  out.writeUInt32BE(interval, off + 8)
  out.writeUInt32BE(leechers > 0xffffffff ? 0xffffffff : leechers, off + 12)
  out.writeUInt32BE(seeders > 0xffffffff ? 0xffffffff : seeders, off + 16)
  return off + 20
}

/** Writes the 8-byte head of a scrape reply; entries follow ({@link writeScrapeReplyEntry}). */
export function writeScrapeReplyHead (out: Buffer, off: number, transactionId: number): number {
  out.writeUInt32BE(ACTION_SCRAPE, off)
  out.writeUInt32BE(transactionId, off + 4)
  return off + 8
}

/** Writes one 12-byte scrape entry: seeders, completed, leechers. */
export function writeScrapeReplyEntry (out: Buffer, off: number, seeders: number, completed: number, leechers: number): number {
  out.writeUInt32BE(Math.min(seeders, 0xffffffff), off)
  out.writeUInt32BE(Math.min(completed, 0xffffffff), off + 4)
  out.writeUInt32BE(Math.min(leechers, 0xffffffff), off + 8)
  return off + 12
}

/** Writes an error reply: action 3, transaction id, then the message bytes (pass a NUL-terminated one for opentracker's shape). */
export function writeErrorReply (out: Buffer, off: number, transactionId: number, message: Buffer): number {
  out.writeUInt32BE(ACTION_ERROR, off)
  out.writeUInt32BE(transactionId, off + 4)
  message.copy(out, off + 8)
  return off + 8 + message.length
}

/** opentracker's error text for a wrong connection id, NUL included (33-byte reply; its spelling kept for compatibility). */
export const ERROR_CONNECTION_ID = Buffer.from('Connection ID missmatch.\0', 'latin1')
/** Error text for an announce of a hash the access lists refuse (the HTTP failure reason's text). */
export const ERROR_NOT_AUTHORIZED = Buffer.from('Requested download is not authorized for use with this tracker.', 'latin1')

// Client-side encoders and reply decoders, for load generators and tests.

/** Writes a 16-byte connect request. */
export function writeConnectRequest (out: Buffer, off: number, transactionId: number): number {
  out.writeUInt32BE(PROTOCOL_ID_HIGH, off)
  out.writeUInt32BE(PROTOCOL_ID_LOW, off + 4)
  out.writeUInt32BE(ACTION_CONNECT, off + 8)
  out.writeUInt32BE(transactionId, off + 12)
  return off + 16
}

/** Fields of an announce request for {@link writeAnnounceRequest}. */
export interface AnnounceRequestFields {
  connectionIdHigh: number
  connectionIdLow: number
  transactionId: number
  infoHash: Buffer
  peerId: Buffer
  downloaded?: number
  left: number
  uploaded?: number
  event?: number
  ip?: number
  key?: number
  numWant?: number
  port: number
}

function writeU64 (out: Buffer, off: number, v: number): void {
  out.writeUInt32BE(Math.floor(v / 0x100000000) >>> 0, off)
  out.writeUInt32BE(v >>> 0, off + 4)
}

/** Writes a 98-byte announce request. */
export function writeAnnounceRequest (out: Buffer, off: number, r: AnnounceRequestFields): number {
  out.writeUInt32BE(r.connectionIdHigh, off)
  out.writeUInt32BE(r.connectionIdLow, off + 4)
  out.writeUInt32BE(ACTION_ANNOUNCE, off + 8)
  out.writeUInt32BE(r.transactionId, off + 12)
  r.infoHash.copy(out, off + 16, 0, 20)
  r.peerId.copy(out, off + 36, 0, 20)
  writeU64(out, off + 56, r.downloaded ?? 0)
  writeU64(out, off + 64, r.left)
  writeU64(out, off + 72, r.uploaded ?? 0)
  out.writeUInt32BE(r.event ?? 0, off + 80)
  out.writeUInt32BE(r.ip ?? 0, off + 84)
  out.writeUInt32BE(r.key ?? 0, off + 88)
  out.writeUInt32BE((r.numWant ?? -1) >>> 0, off + 92)
  out.writeUInt16BE(r.port, off + 96)
  return off + 98
}

/** Writes a scrape request for the hashes packed in `hashes[0, 20n)`. */
export function writeScrapeRequest (out: Buffer, off: number, connectionIdHigh: number, connectionIdLow: number, transactionId: number, hashes: Buffer): number {
  out.writeUInt32BE(connectionIdHigh, off)
  out.writeUInt32BE(connectionIdLow, off + 4)
  out.writeUInt32BE(ACTION_SCRAPE, off + 8)
  out.writeUInt32BE(transactionId, off + 12)
  hashes.copy(out, off + 16)
  return off + 16 + hashes.length
}
