/**
 * Hot HTTP replies written straight into caller-owned buffers from precomputed fragments
 * (reference opentracker-behaviour.md §3.5–3.7). Bodies are bencoded by hand here; general
 * bencoding goes through the `bencode` package (see ../bencode.ts).
 */
import { decimalLength, writeBytes, writeDecimal } from './bytes.js'

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')

/** Room reserved in front of a body for the 200 status line and headers (see {@link writeOkHead}). */
export const HTTP_HEAD_RESERVE = 128

const OK_PREFIX = latin1('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ')
const OK_PREFIX_KEEP_ALIVE_10 = latin1('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\nContent-Length: ')
const CRLF_CRLF = latin1('\r\n\r\n')

/**
 * Writes `HTTP/1.1 200 OK` headers so that they end exactly at `bodyStart` (the caller wrote the
 * body first, leaving {@link HTTP_HEAD_RESERVE} bytes in front of it). Returns the offset where the
 * reply starts. `keepAlive10` adds `Connection: keep-alive` for HTTP/1.0 clients that asked for it;
 * otherwise the headers are exactly opentracker's two.
 */
export function writeOkHead (out: Buffer, bodyStart: number, bodyLength: number, keepAlive10: boolean): number {
  const prefix = keepAlive10 ? OK_PREFIX_KEEP_ALIVE_10 : OK_PREFIX
  const start = bodyStart - prefix.length - decimalLength(bodyLength) - CRLF_CRLF.length
  let o = writeBytes(out, start, prefix)
  o = writeDecimal(out, o, bodyLength)
  writeBytes(out, o, CRLF_CRLF)
  return start
}

/** A complete HTTP/1.0 error reply in opentracker's format: `<title>Reason</title>\n`. */
function errorReply (code: number, reason: string): Buffer {
  const body = `<title>${reason}</title>\n`
  return latin1(`HTTP/1.0 ${code} ${reason}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
}

export const REPLY_400 = errorReply(400, 'Invalid Request')
export const REPLY_402 = errorReply(402, 'Payment Required')
export const REPLY_403 = errorReply(403, 'Access Denied')
export const REPLY_404 = errorReply(404, 'Not Found')
export const REPLY_500 = errorReply(500, 'Internal Server Error')
export const REPLY_503 = errorReply(503, 'Service Unavailable')

/** The `302 Found` reply for the empty path, exactly as opentracker sends it. */
export function redirectReply (url: string): Buffer {
  return latin1(`HTTP/1.0 302 Found\r\nContent-Length: 0\r\nLocation: ${url}\r\n\r\n`)
}

/** A bencoded `failure reason` body. */
export function failureBody (message: string): Buffer {
  const m = Buffer.from(message, 'utf8')
  return Buffer.concat([latin1(`d14:failure reason${m.length}:`), m, latin1('e')])
}

export const FAILURE_NO_INFO_HASH = failureBody("Your client forgot to send your torrent's info_hash. Please upgrade your client.")
export const FAILURE_NOT_AUTHORIZED = failureBody('Requested download is not authorized for use with this tracker.')

const B_COMPLETE = latin1('d8:completei')
const B_DOWNLOADED = latin1('e10:downloadedi')
const B_INCOMPLETE = latin1('e10:incompletei')
const B_INCOMPLETE_AFTER_STRING = latin1('10:incompletei')
const B_EXTERNAL_IP4 = latin1('e11:external ip4:')
const B_EXTERNAL_IP16 = latin1('e11:external ip16:')
const B_INTERVAL = latin1('e8:intervali')
const B_MIN_INTERVAL = latin1('e12:min intervali')
const B_E = latin1('e')
const B_PEERS = latin1('5:peers')
const B_PEERS6 = latin1('6:peers6')
const B_PEERS_EMPTY = latin1('5:peers0:')
const B_PEERS6_EMPTY = latin1('6:peers60:')
const B_PEERS_LIST = latin1('5:peersl')
const B_DICT_IP = latin1('d2:ip')
const B_DICT_PEER_ID = latin1('7:peer id20:')
const B_DICT_PORT = latin1('4:porti')
const B_EE = latin1('ee')

/**
 * Writes the head of an announce body, up to and including `min interval`:
 * `d8:completei<S>e10:downloadedi<D>e10:incompletei<L>e8:intervali<I>e12:min intervali<M>e`.
 * A negative `downloaded` leaves that key out (the stopped reply). Follow with peer keys and a
 * closing `e` ({@link writeDictEnd}).
 */
export function writeAnnounceHead (out: Buffer, off: number, complete: number, downloaded: number, incomplete: number, interval: number, minInterval: number,
  externalIp: Buffer | null = null): number {
  off = writeCounts(out, off, complete, downloaded, incomplete, externalIp)
  off = writeBytes(out, off, B_INTERVAL)
  off = writeDecimal(out, off, interval)
  off = writeBytes(out, off, B_MIN_INTERVAL)
  off = writeDecimal(out, off, minInterval)
  return writeBytes(out, off, B_E)
}

/**
 * `d8:completei<S>e[10:downloadedi<D>e]10:incompletei<L>` — the counts shared by announce and
 * scrape dictionaries (the caller closes the last integer). A negative `downloaded` is left out.
 */
function writeCounts (out: Buffer, off: number, complete: number, downloaded: number, incomplete: number, externalIp: Buffer | null = null): number {
  off = writeBytes(out, off, B_COMPLETE)
  off = writeDecimal(out, off, complete)
  if (downloaded >= 0) {
    off = writeBytes(out, off, B_DOWNLOADED)
    off = writeDecimal(out, off, downloaded)
  }
  if (externalIp !== null) {
    // BEP 24: the requester's address in network order, 4 or 16 bytes (sorted between downloaded and incomplete).
    off = writeBytes(out, off, externalIp.length === 4 ? B_EXTERNAL_IP4 : B_EXTERNAL_IP16)
    off = writeBytes(out, off, externalIp)
    off = writeBytes(out, off, B_INCOMPLETE_AFTER_STRING)
    return writeDecimal(out, off, incomplete)
  }
  off = writeBytes(out, off, B_INCOMPLETE)
  return writeDecimal(out, off, incomplete)
}

/**
 * The whole reply body to `event=stopped` (no `downloaded` key, an empty peer string of the
 * requester's family), as opentracker V2024.
 */
export function writeStoppedBody (out: Buffer, off: number, complete: number, incomplete: number, interval: number, minInterval: number, v6: boolean): number {
  off = writeAnnounceHead(out, off, complete, -1, incomplete, interval, minInterval)
  off = writeBytes(out, off, v6 ? B_PEERS6_EMPTY : B_PEERS_EMPTY)
  return writeBytes(out, off, B_E)
}

/** `5:peers<6n>:` — the key and length prefix of `n` compact IPv4 peers (BEP 23). */
export function writePeersKey (out: Buffer, off: number, n: number): number {
  off = writeBytes(out, off, B_PEERS)
  off = writeDecimal(out, off, n * 6)
  out[off] = 58
  return off + 1
}

/** `6:peers6<18n>:` — the key and length prefix of `n` compact IPv6 peers (BEP 7). */
export function writePeers6Key (out: Buffer, off: number, n: number): number {
  off = writeBytes(out, off, B_PEERS6)
  off = writeDecimal(out, off, n * 18)
  out[off] = 58
  return off + 1
}

/** `5:peersl` — opens the BEP 3 dictionary peer list; close it with {@link writeDictEnd}. */
export function writePeersListStart (out: Buffer, off: number): number {
  return writeBytes(out, off, B_PEERS_LIST)
}

/**
 * One BEP 3 dictionary peer: `d2:ip<len>:<ip>[7:peer id20:<id>]4:porti<port>ee`.
 * `peerId` may be null (unknown, or `no_peer_id`).
 */
export function writeDictPeer (out: Buffer, off: number, ip: string, port: number, peerId: Buffer | null, peerIdOffset: number): number {
  off = writeBytes(out, off, B_DICT_IP)
  off = writeDecimal(out, off, ip.length)
  out[off++] = 58
  off += out.write(ip, off, 'latin1')
  if (peerId !== null) {
    off = writeBytes(out, off, B_DICT_PEER_ID)
    peerId.copy(out, off, peerIdOffset, peerIdOffset + 20)
    off += 20
  }
  off = writeBytes(out, off, B_DICT_PORT)
  off = writeDecimal(out, off, port)
  return writeBytes(out, off, B_EE)
}

/** Closes a dictionary or list: `e`. */
export function writeDictEnd (out: Buffer, off: number): number {
  out[off] = 101
  return off + 1
}

/** Upper bound of an announce body with `n4` IPv4 and `n6` IPv6 compact peers. */
export function announceBodyBound (n4: number, n6: number): number {
  return 200 + 20 + n4 * 6 + 20 + n6 * 18
}

/** Upper bound of an announce body with `n` dictionary peers. */
export function dictAnnounceBodyBound (n: number): number {
  return 200 + n * 110
}

const S_FILES = latin1('d5:filesd')
const S_KEY = latin1('20:')

/** `d5:filesd` — opens a scrape body; close it with `ee` ({@link writeScrapeEnd}). */
export function writeScrapeStart (out: Buffer, off: number): number {
  return writeBytes(out, off, S_FILES)
}

/** One scrape entry: `20:<hash>d8:completei<S>e10:downloadedi<D>e10:incompletei<L>ee`. */
export function writeScrapeEntry (out: Buffer, off: number, hash: Buffer, hashOffset: number, complete: number, downloaded: number, incomplete: number): number {
  off = writeBytes(out, off, S_KEY)
  hash.copy(out, off, hashOffset, hashOffset + 20)
  off += 20
  off = writeCounts(out, off, complete, downloaded, incomplete)
  return writeBytes(out, off, B_EE)
}

/** Closes a scrape body: `ee`. */
export function writeScrapeEnd (out: Buffer, off: number): number {
  return writeBytes(out, off, B_EE)
}

/** Upper bound of one scrape entry. */
export const SCRAPE_ENTRY_BOUND = 23 + 12 + 16 + 15 + 16 + 15 + 16 + 2
