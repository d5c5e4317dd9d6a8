/**
 * HTTP/1.x request framing and routing for a tracker (reference opentracker-behaviour.md §3.1–3.2).
 *
 * A tracker needs the request line, and of the headers only `Connection`, `X-Forwarded-For` and
 * `Accept-Encoding`; everything else is skipped. Routing follows opentracker: the decoded path
 * starting with `a` is an announce, `sc` a scrape, the exact stats path the stats page, an empty
 * path the redirect. Functions fill a caller-owned {@link HttpRequestHead}; they never throw.
 */
import { equalsLowerAscii, hexDigit } from './bytes.js'

export const ROUTE_BAD_REQUEST = 0
export const ROUTE_ANNOUNCE = 1
export const ROUTE_SCRAPE = 2
export const ROUTE_FULL_SCRAPE = 3
export const ROUTE_STATS = 4
/** Empty path (`GET / HTTP/1.x`): the redirect if one is configured, else 404. */
export const ROUTE_ROOT = 5
export const ROUTE_NOT_FOUND = 6
/** otd's admin endpoint: a decoded path of `otd` or starting with `otd/` (GET or POST). */
export const ROUTE_ADMIN = 7
/** Prometheus metrics: the exact path `metrics`. */
export const ROUTE_METRICS = 8
/** Cluster changesets: the exact path `sync` (GET or POST). */
export const ROUTE_SYNC = 9

export const METHOD_GET = 0
export const METHOD_POST = 1

/** Parsed request head. Offsets point into the buffer given to {@link parseRequestHead}. */
export class HttpRequestHead {
  route = ROUTE_BAD_REQUEST
  /** {@link METHOD_GET} or {@link METHOD_POST} (POST only reaches the admin and sync routes). */
  method = METHOD_GET
  /** Raw (undecoded) path bounds after the leading slashes, up to `?` or the end of the path. */
  pathStart = -1
  pathEnd = -1
  /** `Content-Length` value; -1 when absent, -2 when malformed. */
  contentLength = -1
  /** Value bounds of the `Accept-Encoding` header; -1 when absent. */
  acceptEncodingStart = -1
  acceptEncodingEnd = -1
  /** Query string bounds (without `?`); -1 when there is none. */
  queryStart = -1
  queryEnd = -1
  /** HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0 or a missing/other version token. */
  versionMinor = 0
  /** Whether the connection may stay open after the reply (HTTP/1.1 without `close`, or 1.0 with `keep-alive`). */
  keepAlive = false
  /** Value bounds of the first `X-Forwarded-For` header; -1 when absent. */
  forwardedStart = -1
  forwardedEnd = -1
  /** The `Accept-Encoding` header mentions gzip / zstd (opentracker matches anywhere in the request; otd only trusts the header). */
  acceptsGzip = false
  acceptsZstd = false
}

const GET_SLASH = Buffer.from('GET /')
const POST_SLASH = Buffer.from('POST /')
const H_CONTENT_LENGTH = Buffer.from('content-length:')
const HTTP_1_1 = Buffer.from('HTTP/1.1')
const SCRAPE_SP_HTTP = Buffer.from('scrape HTTP/')
const H_CONNECTION = Buffer.from('connection:')
const H_XFF = Buffer.from('x-forwarded-for:')
const H_ACCEPT_ENCODING = Buffer.from('accept-encoding:')
const T_CLOSE = Buffer.from('close')
const T_KEEP_ALIVE = Buffer.from('keep-alive')
const T_GZIP = Buffer.from('gzip')
const T_ZSTD = Buffer.from('zstd')

const pathScratch = Buffer.alloc(64)

/**
 * Finds the end of the request head in `buf[start, end)`: the first `\n\n`, `\r\n\r\n` or
 * `\r\n\n` (opentracker's rule; a single `\r\n` never completes a request). Returns the offset
 * just past the terminator, or -1 when the head is incomplete.
 */
export function findHeadEnd (buf: Buffer, start: number, end: number): number {
  let i = buf.indexOf(10, start)
  while (i >= 0 && i < end) {
    const n = i + 1
    if (n < end) {
      const c = buf[n]
      if (c === 10) return n + 1
      if (c === 13 && n + 1 < end && buf[n + 1] === 10) return n + 2
    }
    i = buf.indexOf(10, n)
  }
  return -1
}

function isTerminator (c: number): boolean {
  return c === 32 || c === 13 || c === 10 || c === 0
}

/** Bounds of a lowercase token in a header value, ignoring case. */
function containsToken (buf: Buffer, start: number, end: number, token: Buffer): boolean {
  const first = token[0]!
  for (let i = start; i + token.length <= end; i++) {
    let c = buf[i]!
    if (c >= 65 && c <= 90) c += 32
    if (c === first && equalsLowerAscii(buf, i, end, token)) return true
  }
  return false
}

/** A Content-Length value: digits between optional blanks, at most 15 of them; -2 when malformed. */
function parseContentLength (buf: Buffer, start: number, end: number): number {
  while (start < end && (buf[start] === 32 || buf[start] === 9)) start++
  while (end > start && (buf[end - 1] === 32 || buf[end - 1] === 9)) end--
  if (end === start || end - start > 15) return -2
  let n = 0
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 48
    if (d < 0 || d > 9) return -2
    n = n * 10 + d
  }
  return n
}

/**
 * Parses the request head `buf[start, headEnd)`. `statsPath` is the decoded stats path without
 * its leading slash (at most 64 bytes). Returns the route, also stored in `out.route`.
 */
export function parseRequestHead (buf: Buffer, start: number, headEnd: number, statsPath: Buffer, out: HttpRequestHead): number {
  out.queryStart = -1
  out.queryEnd = -1
  out.versionMinor = 0
  out.keepAlive = false
  out.forwardedStart = -1
  out.forwardedEnd = -1
  out.acceptsGzip = false
  out.acceptsZstd = false
  out.route = ROUTE_BAD_REQUEST
  out.method = METHOD_GET
  out.pathStart = -1
  out.pathEnd = -1
  out.contentLength = -1
  out.acceptEncodingStart = -1
  out.acceptEncodingEnd = -1

  let methodLength = 4
  if (headEnd - start < GET_SLASH.length || buf.compare(GET_SLASH, 0, GET_SLASH.length, start, start + GET_SLASH.length) !== 0) {
    if (headEnd - start < POST_SLASH.length || buf.compare(POST_SLASH, 0, POST_SLASH.length, start, start + POST_SLASH.length) !== 0) {
      return ROUTE_BAD_REQUEST
    }
    out.method = METHOD_POST
    methodLength = 5
  }
  // End of the request line.
  let lineEnd = buf.indexOf(10, start)
  if (lineEnd < 0 || lineEnd > headEnd) lineEnd = headEnd
  let lineStop = lineEnd
  if (lineStop > start && buf[lineStop - 1] === 13) lineStop--

  // Version token: the last space-separated word of the request line. The scans here stay inside
  // the request line: a native (last)indexOf would run on through the other pipelined requests in
  // `buf` whenever the byte is missing, which made parsing a buffer of them quadratic.
  let lastSpace = lineStop - 1
  while (lastSpace > start + 4 && buf[lastSpace] !== 32) lastSpace--
  if (lastSpace > start + 4 && lineStop - (lastSpace + 1) === HTTP_1_1.length &&
      buf.compare(HTTP_1_1, 0, HTTP_1_1.length, lastSpace + 1, lineStop) === 0) {
    out.versionMinor = 1
  }

  // Path: skip every leading '/', then percent-decode up to '?' or a terminator.
  let i = start + methodLength
  while (i < lineStop && buf[i] === 47) i++
  const pathStart = i
  let decodedLen = 0
  let decodeFailed = false
  while (i < lineStop) {
    let c = buf[i]!
    if (c === 63 || isTerminator(c)) break
    if (c === 37) {
      const h = i + 2 < lineStop ? hexDigit(buf[i + 1]!) : -1
      const l = h >= 0 ? hexDigit(buf[i + 2]!) : -1
      if (l < 0) { decodeFailed = true; break }
      c = h * 16 + l
      i += 2
    }
    if (decodedLen < pathScratch.length) pathScratch[decodedLen] = c
    decodedLen++
    i++
  }
  const endedAtQuery = i < lineStop && buf[i] === 63
  out.pathStart = pathStart
  out.pathEnd = i
  let route: number
  if (decodeFailed) {
    route = ROUTE_NOT_FOUND
  } else if (decodedLen === 0) {
    route = endedAtQuery ? ROUTE_NOT_FOUND : ROUTE_ROOT
  } else if (pathScratch[0] === 97) { // 'a'
    route = ROUTE_ANNOUNCE
  } else if (lineStop - pathStart >= SCRAPE_SP_HTTP.length &&
             buf.compare(SCRAPE_SP_HTTP, 0, SCRAPE_SP_HTTP.length, pathStart, pathStart + SCRAPE_SP_HTTP.length) === 0) {
    route = ROUTE_FULL_SCRAPE
  } else if (decodedLen >= 2 && pathScratch[0] === 115 && pathScratch[1] === 99) { // 'sc'
    route = ROUTE_SCRAPE
  } else if (decodedLen === statsPath.length && decodedLen <= pathScratch.length &&
             pathScratch.compare(statsPath, 0, decodedLen, 0, decodedLen) === 0) {
    route = ROUTE_STATS
  } else if (decodedLen >= 3 && pathScratch[0] === 111 && pathScratch[1] === 116 && pathScratch[2] === 100 &&
             (decodedLen === 3 || pathScratch[3] === 47)) { // 'otd' or 'otd/...'
    route = ROUTE_ADMIN
  } else if (decodedLen === 7 && pathScratch.toString('latin1', 0, 7) === 'metrics') {
    route = ROUTE_METRICS
  } else if (decodedLen === 4 && pathScratch.toString('latin1', 0, 4) === 'sync') {
    route = ROUTE_SYNC
  } else {
    route = ROUTE_NOT_FOUND
  }
  // POST is for the admin and sync routes only (opentracker answers anything but GET with 400).
  if (out.method === METHOD_POST && route !== ROUTE_ADMIN && route !== ROUTE_SYNC) return ROUTE_BAD_REQUEST

  if (route === ROUTE_ANNOUNCE || route === ROUTE_SCRAPE || route === ROUTE_STATS ||
      route === ROUTE_ADMIN || route === ROUTE_METRICS || route === ROUTE_SYNC) {
    // The query starts after the first '?' of the request line (opentracker also accepts a '?'
    // after a space, a hack for broken clients) and ends at a terminator.
    let q = i
    if (!endedAtQuery) while (q < lineStop && buf[q] !== 63) q++
    if (q >= lineStop) {
      if (route === ROUTE_ANNOUNCE || route === ROUTE_SCRAPE) { out.route = ROUTE_BAD_REQUEST; return ROUTE_BAD_REQUEST }
      q = -1
    }
    if (q >= 0) {
      let e = q + 1
      while (e < lineStop && !isTerminator(buf[e]!)) e++
      out.queryStart = q + 1
      out.queryEnd = e
    }
  }

  // Headers: one per line after the request line.
  let explicitClose = false
  let explicitKeepAlive = false
  let ls = lineEnd + 1
  while (ls < headEnd) {
    let le = buf.indexOf(10, ls)
    if (le < 0 || le > headEnd) le = headEnd
    let stop = le
    if (stop > ls && buf[stop - 1] === 13) stop--
    if (stop > ls) {
      const c = buf[ls]! | 0x20
      if (c === 99 && equalsLowerAscii(buf, ls, stop, H_CONNECTION)) {
        const vs = ls + H_CONNECTION.length
        if (containsToken(buf, vs, stop, T_CLOSE)) explicitClose = true
        else if (containsToken(buf, vs, stop, T_KEEP_ALIVE)) explicitKeepAlive = true
      } else if (c === 120 && out.forwardedStart < 0 && equalsLowerAscii(buf, ls, stop, H_XFF)) {
        let vs = ls + H_XFF.length
        while (vs < stop && (buf[vs] === 32 || buf[vs] === 9)) vs++
        out.forwardedStart = vs
        out.forwardedEnd = stop
      } else if (c === 97 && equalsLowerAscii(buf, ls, stop, H_ACCEPT_ENCODING)) {
        const vs = ls + H_ACCEPT_ENCODING.length
        out.acceptEncodingStart = vs
        out.acceptEncodingEnd = stop
        if (containsToken(buf, vs, stop, T_GZIP)) out.acceptsGzip = true
        if (containsToken(buf, vs, stop, T_ZSTD)) out.acceptsZstd = true
      } else if (c === 99 && equalsLowerAscii(buf, ls, stop, H_CONTENT_LENGTH)) {
        out.contentLength = parseContentLength(buf, ls + H_CONTENT_LENGTH.length, stop)
      }
    }
    ls = le + 1
  }
  out.keepAlive = out.versionMinor === 1 ? !explicitClose : explicitKeepAlive && !explicitClose
  out.route = route
  return route
}
