/**
 * Property tests (fast-check) of the HTTP codecs: head framing (findHeadEnd, which fuzz.test.ts
 * also compares with a reference scan), the request-head parser, the announce/scrape query
 * parsers, percent-decoding, Accept-Encoding negotiation and the hand-written bencoded replies.
 * For arbitrary bytes and damaged valid requests: no throw, results inside their ranges, nothing
 * read outside the given range. For generated valid requests: the parse gives back what was
 * generated, one request or many pipelined.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  AnnounceQuery, ENCODING_GZIP, ENCODING_IDENTITY, ENCODING_ZSTD, EVENT_COMPLETED, EVENT_NONE, EVENT_STARTED, EVENT_STOPPED,
  HttpRequestHead, METHOD_GET, METHOD_POST, QUERY_ERR_PARAM, QUERY_OK, ROUTE_ADMIN, ROUTE_ANNOUNCE, ROUTE_BAD_REQUEST,
  ROUTE_FULL_SCRAPE, ROUTE_METRICS, ROUTE_NOT_FOUND, ROUTE_ROOT, ROUTE_SCRAPE, ROUTE_STATS, ROUTE_SYNC, SCRAPE_ENTRY_BOUND,
  ScrapeQuery, announceBodyBound, chooseEncoding, chooseEncodingText, decodeBencode, failureBody, findHeadEnd,
  parseAnnounceQuery, parseRequestHead, parseScrapeQuery, percentDecode, writeAnnounceHead, writeBytes, writeDictEnd,
  writePeers6Key, writePeersKey, writeScrapeEnd, writeScrapeEntry, writeScrapeStart, writeStoppedBody
} from '../src/index.js'
import { assertFast, bytes, bytesFrom, fixedBytes, mutated, params, propertySuite, rangeIn } from './fc-harness.js'
import type { Cases } from './fc-harness.js'

const STATS = Buffer.from('stats')

// ---------------------------------------------------------------------------------------------
// Generated valid request heads, with what the parser must report for them.

interface HeadModel {
  text: string
  route: number
  method: number
  /** The query text, or null when the parser must report none. */
  query: string | null
  versionMinor: number
  keepAlive: boolean
  forwarded: string | null
  acceptEncoding: string | null
  acceptsGzip: boolean
  acceptsZstd: boolean
  contentLength: number
}

/** Percent-encodes some characters of `s` (random case), as a client might. */
const escapeSome = (s: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).chain((flags) => fc.boolean().map((upper) =>
    [...s].map((ch, i) => {
      if (!flags[i]) return ch
      const h = ch.charCodeAt(0).toString(16).padStart(2, '0')
      return '%' + (upper ? h.toUpperCase() : h)
    }).join('')))

const PATHS: Array<[string, string]> = [
  // [decoded path, kind]
  ['announce', 'announce'], ['a', 'announce'], ['announce.php', 'announce'], ['a/b', 'announce'],
  ['scrape', 'scrape'], ['sc', 'scrape'], ['scrape.php', 'scrape'],
  ['stats', 'stats'], ['otd', 'admin'], ['otd/peers', 'admin'], ['metrics', 'metrics'], ['sync', 'sync'],
  ['', 'root'], ['x', 'none'], ['stat', 'none'], ['statss', 'none'], ['otdx', 'none'], ['s', 'none'], ['b/c', 'none']
]
/** Query bytes: anything but the request-line terminators (space, CR, LF, NUL). */
const queryText = fc.string({ unit: fc.constantFrom(...'abcXYZ019_-.~%&=+?/#@!*\'(),;:<>[]$\x7f\x80\xff'), maxLength: 60, size: 'medium' })
const headerValue = fc.string({ unit: fc.constantFrom(...'abc XYZ 01,;=./:-\t"\x80\xff'), maxLength: 30 })

const headerLine = fc.oneof(
  fc.tuple(fc.constantFrom('Connection', 'connection', 'CONNECTION'), fc.constantFrom('close', 'keep-alive', 'Keep-Alive', 'CLOSE', 'upgrade', '', 'keep-alive, close'))
    .map(([n, v]) => ({ kind: 'connection', name: n, value: v })),
  fc.tuple(fc.constantFrom('X-Forwarded-For', 'x-forwarded-for'), fc.constantFrom('', ' ', '\t'), fc.constantFrom('1.2.3.4', '::1', '1.2.3.4, 5.6.7.8', 'garbage'))
    .map(([n, pad, v]) => ({ kind: 'xff', name: n, value: pad + v })),
  fc.tuple(fc.constantFrom('Accept-Encoding', 'accept-encoding'), fc.constantFrom(' gzip', ' zstd;q=0.5, gzip', ' identity', '', ' GZIP', ' br'))
    .map(([n, v]) => ({ kind: 'ae', name: n, value: v })),
  fc.tuple(fc.constantFrom('Content-Length', 'content-length'), fc.constantFrom(' 0', ' 12', '12', ' 12 ', ' x', ' ', ' 1234567890123456', ' -1'))
    .map(([n, v]) => ({ kind: 'cl', name: n, value: v })),
  fc.tuple(fc.constantFrom('Host', 'User-Agent', 'X-Foo', 'Cookie'), headerValue).map(([n, v]) => ({ kind: 'other', name: n, value: v }))
)

function contentLengthOf (v: string): number {
  const t = v.replace(/^[ \t]+|[ \t]+$/g, '')
  return /^[0-9]{1,15}$/.test(t) ? Number(t) : -2
}

const headModel: fc.Arbitrary<HeadModel> = fc.record({
  post: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }),
  slashes: fc.integer({ min: 1, max: 3 }),
  path: fc.constantFrom(...PATHS).chain(([p, kind]) => escapeSome(p).map((raw) => ({ raw, decoded: p, kind }))),
  query: fc.option(queryText, { nil: null }),
  version: fc.constantFrom(' HTTP/1.1', ' HTTP/1.0', '', ' HTTP/2', ' HTTP/1.1 ', ' http/1.1'),
  headers: fc.array(headerLine, { maxLength: 6 }),
  eols: fc.array(fc.constantFrom('\r\n', '\n'), { minLength: 8, maxLength: 8 })
}).map((m): HeadModel => {
  let line = (m.post ? 'POST ' : 'GET ') + '/'.repeat(m.slashes) + m.path.raw
  if (m.query !== null) line += '?' + m.query
  line += m.version
  let text = line + m.eols[0]
  m.headers.forEach((h, k) => { text += `${h.name}:${h.value}${m.eols[(k + 1) % 8]}` })
  text += m.eols[7]
  const versionMinor = m.version === ' HTTP/1.1' ? 1 : 0
  let close = false
  let keep = false
  let forwarded: string | null = null
  let acceptEncoding: string | null = null
  let gzip = false
  let zstd = false
  let contentLength = -1
  for (const h of m.headers) {
    const v = h.value.toLowerCase()
    if (h.kind === 'connection') { if (v.includes('close')) close = true; else if (v.includes('keep-alive')) keep = true }
    if (h.kind === 'xff' && forwarded === null) forwarded = h.value.replace(/^[ \t]+/, '')
    if (h.kind === 'ae') { acceptEncoding = h.value; gzip ||= v.includes('gzip'); zstd ||= v.includes('zstd') }
    if (h.kind === 'cl') contentLength = contentLengthOf(h.value)
  }
  const kind = m.path.kind
  let route: number
  if (kind === 'root') route = m.query !== null ? ROUTE_NOT_FOUND : ROUTE_ROOT
  else if (kind === 'announce') route = ROUTE_ANNOUNCE
  else if (m.path.raw === 'scrape' && m.query === null && m.version.startsWith(' HTTP/')) route = ROUTE_FULL_SCRAPE
  else if (kind === 'scrape') route = ROUTE_SCRAPE
  else if (kind === 'stats') route = ROUTE_STATS
  else if (kind === 'admin') route = ROUTE_ADMIN
  else if (kind === 'metrics') route = ROUTE_METRICS
  else if (kind === 'sync') route = ROUTE_SYNC
  else route = ROUTE_NOT_FOUND
  if (m.post && route !== ROUTE_ADMIN && route !== ROUTE_SYNC) route = ROUTE_BAD_REQUEST
  if ((route === ROUTE_ANNOUNCE || route === ROUTE_SCRAPE) && m.query === null) route = ROUTE_BAD_REQUEST
  const hasQuery = route === ROUTE_ANNOUNCE || route === ROUTE_SCRAPE || route === ROUTE_STATS || route === ROUTE_ADMIN ||
    route === ROUTE_METRICS || route === ROUTE_SYNC
  if (route === ROUTE_BAD_REQUEST && m.post) {
    // An early return: everything after the method keeps its reset value.
    return { text, route, method: METHOD_POST, query: null, versionMinor: 0, keepAlive: false, forwarded: null, acceptEncoding: null, acceptsGzip: false, acceptsZstd: false, contentLength: -1 }
  }
  return {
    text,
    route,
    method: m.post ? METHOD_POST : METHOD_GET,
    query: hasQuery && route !== ROUTE_BAD_REQUEST ? m.query : null,
    versionMinor,
    keepAlive: route === ROUTE_BAD_REQUEST ? false : versionMinor === 1 ? !close : keep && !close,
    forwarded: route === ROUTE_BAD_REQUEST ? null : forwarded,
    acceptEncoding: route === ROUTE_BAD_REQUEST ? null : acceptEncoding,
    acceptsGzip: route === ROUTE_BAD_REQUEST ? false : gzip,
    acceptsZstd: route === ROUTE_BAD_REQUEST ? false : zstd,
    contentLength: route === ROUTE_BAD_REQUEST ? -1 : contentLength
  }
})

function checkAgainstModel (buf: Buffer, start: number, headEnd: number, m: HeadModel, h: HttpRequestHead): void {
  const route = parseRequestHead(buf, start, headEnd, STATS, h)
  const what = JSON.stringify(m.text)
  assert.equal(route, m.route, what)
  assert.equal(h.route, route)
  if (route === ROUTE_BAD_REQUEST) return // the other fields are only meaningful for routed requests
  assert.equal(h.method, m.method, what)
  const slice = (s: number, e: number): string | null => s < 0 ? null : buf.toString('latin1', s, e)
  assert.equal(slice(h.queryStart, h.queryEnd), m.query, what)
  assert.equal(h.versionMinor, m.versionMinor, what)
  assert.equal(h.keepAlive, m.keepAlive, what)
  assert.equal(slice(h.forwardedStart, h.forwardedEnd), m.forwarded, what)
  assert.equal(slice(h.acceptEncodingStart, h.acceptEncodingEnd), m.acceptEncoding, what)
  assert.equal(h.acceptsGzip, m.acceptsGzip, what)
  assert.equal(h.acceptsZstd, m.acceptsZstd, what)
  assert.equal(h.contentLength, m.contentLength, what)
}

/** Invariants of any parse of `buf[start, headEnd)`. */
function checkHeadInvariants (buf: Buffer, start: number, headEnd: number, h: HttpRequestHead): number {
  const route = parseRequestHead(buf, start, headEnd, STATS, h)
  assert.equal(h.route, route)
  assert.ok(Number.isInteger(route) && route >= ROUTE_BAD_REQUEST && route <= ROUTE_SYNC, `route ${route}`)
  assert.ok(h.method === METHOD_GET || h.method === METHOD_POST)
  assert.ok(h.versionMinor === 0 || h.versionMinor === 1)
  assert.ok(h.contentLength >= -2 && Number.isInteger(h.contentLength))
  const inside = (s: number, e: number, what: string): void => {
    if (s < 0) { assert.equal(e, -1, what); return }
    assert.ok(start <= s && s <= e && e <= headEnd, `${what} ${s}..${e} outside ${start}..${headEnd}`)
  }
  inside(h.queryStart, h.queryEnd, 'query')
  inside(h.forwardedStart, h.forwardedEnd, 'forwarded')
  inside(h.acceptEncodingStart, h.acceptEncodingEnd, 'accept-encoding')
  if (h.pathStart >= 0) inside(h.pathStart, h.pathEnd, 'path')
  if (h.queryStart >= 0) {
    assert.equal(buf[h.queryStart - 1], 63)
    for (let i = h.queryStart; i < h.queryEnd; i++) assert.ok(![32, 13, 10, 0].includes(buf[i]!), 'terminator inside the query')
  }
  if (route !== ROUTE_BAD_REQUEST) assert.ok(buf.toString('latin1', start, start + 5) === 'GET /' || buf.toString('latin1', start, start + 6) === 'POST /')
  return route
}

/** The parse of `b` alone and of `b` framed by other bytes agree (nothing outside the range is read). */
function checkContextFree (b: Buffer, h1: HttpRequestHead, h2: HttpRequestHead): void {
  const before = Buffer.from('GET /a?x HTTP/1.1\r\nConnection: close\n\nGET /announce? ', 'latin1')
  const after = Buffer.from('?\n\nHTTP/1.1 ?x\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n', 'latin1')
  const framed = Buffer.concat([before, b, after])
  const ra = parseRequestHead(b, 0, b.length, STATS, h1)
  const rf = parseRequestHead(framed, before.length, before.length + b.length, STATS, h2)
  assert.equal(rf, ra)
  const rel = (x: HttpRequestHead, o: number): number[] => [x.queryStart, x.queryEnd, x.forwardedStart, x.forwardedEnd,
    x.acceptEncodingStart, x.acceptEncodingEnd, x.pathStart, x.pathEnd].map((v) => v < 0 ? v : v - o)
    .concat([x.method, x.versionMinor, Number(x.keepAlive), Number(x.acceptsGzip), Number(x.acceptsZstd), x.contentLength])
  assert.deepEqual(rel(h2, before.length), rel(h1, 0), JSON.stringify(b.toString('latin1')))
}

const HEAD_ALPHABET = 'GET POST /?&=%a0scr\r\n\n HTTP/1.1:XxCconnectiokeep-alivclosgzipzstdforwarded-Aept-ncodingLh\0\t'
const validHeadBytes = headModel.map((m) => Buffer.from(m.text, 'latin1'))

// ---------------------------------------------------------------------------------------------
// Generated valid announce and scrape queries.

/** Bytes a query value may carry unescaped (and that the parser does not treat specially). */
const RAW_SAFE = new Set([...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*\'()+,/;:<>?=@'].map((c) => c.charCodeAt(0)))

/** Encodes bytes as a client might: safe bytes raw or escaped at random, others escaped (random case). */
function encodeBytes (b: Uint8Array, choices: boolean[]): string {
  let s = ''
  b.forEach((c, i) => {
    const pick = choices[i % choices.length] ?? false
    if (RAW_SAFE.has(c) && pick) s += String.fromCharCode(c)
    else s += '%' + (pick ? c.toString(16).padStart(2, '0') : c.toString(16).padStart(2, '0').toUpperCase())
  })
  return s
}

const choices = fc.array(fc.boolean(), { minLength: 1, maxLength: 20 })
const encodedHash = fc.tuple(fixedBytes(20), choices).map(([h, c]) => ({ bytes: h, text: encodeBytes(h, c) }))
/** A parameter name, maybe with one character escaped (names are percent-decoded). */
const nameOf = (n: string): fc.Arbitrary<string> => fc.oneof({ weight: 3, arbitrary: fc.constant(n) }, { weight: 1, arbitrary: escapeSome(n) })
const unknownParam = fc.tuple(fc.constantFrom('uploaded', 'downloaded', 'key', 'corrupt', 'supportcrypto', 'ip', 'x', 'trackerid'),
  fc.option(fc.string({ unit: fc.constantFrom(...'abc019-_.%zZ+=@~'), maxLength: 12 }), { nil: null }))
  .map(([n, v]) => v === null ? n : `${n}=${v}`)

interface AnnounceModel {
  text: string
  infoHash: Buffer | null
  peerId: Buffer | null
  port: number
  leftIsZero: boolean
  event: number
  numwant: number
  compact: boolean
  noPeerId: boolean
}

const announceModel: fc.Arbitrary<AnnounceModel> = fc.record({
  hash: fc.option(encodedHash, { nil: null }),
  peer: fc.option(encodedHash, { nil: null }),
  port: fc.option(fc.integer({ min: -65535, max: 65535 }), { nil: null }),
  portZeros: fc.integer({ min: 0, max: 3 }),
  left: fc.option(fc.oneof(fc.constantFrom('0', '000', '-0', '1', '-1'), fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 40 })), { nil: null }),
  event: fc.option(fc.constantFrom('started', 'stopped', 'completed', 'paused', '', 'st%61rted'), { nil: null }),
  numwant: fc.option(fc.integer({ min: -1000, max: 100000 }), { nil: null }),
  compact: fc.option(fc.constantFrom('0', '1', '-0', '00', '2'), { nil: null }),
  noPeerId: fc.option(fc.constantFrom('', '=0', '=1', '=x'), { nil: null }),
  unknown: fc.array(unknownParam, { maxLength: 4 }),
  names: fc.record({ ih: nameOf('info_hash'), pi: nameOf('peer_id'), po: nameOf('port') }),
  seps: fc.array(fc.constantFrom('&', '&&'), { minLength: 16, maxLength: 16 }),
  order: fc.array(fc.nat(), { minLength: 16, maxLength: 16 })
}).map((m): AnnounceModel => {
  const items: string[] = [...m.unknown]
  if (m.hash !== null) items.push(`${m.names.ih}=${m.hash.text}`)
  if (m.peer !== null) items.push(`${m.names.pi}=${m.peer.text}`)
  if (m.port !== null) items.push(`${m.names.po}=${m.port < 0 ? '-' : ''}${'0'.repeat(m.portZeros)}${Math.abs(m.port)}`)
  if (m.left !== null) items.push(`left=${m.left}`)
  if (m.event !== null) items.push(`event=${m.event}`)
  if (m.numwant !== null) items.push(`numwant=${m.numwant}`)
  if (m.compact !== null) items.push(`compact=${m.compact}`)
  if (m.noPeerId !== null) items.push(`no_peer_id${m.noPeerId}`)
  // shuffle by the generated keys
  const keyed = items.map((s, i) => [m.order[i % 16]! * 64 + i, s] as const).sort((a, b) => a[0] - b[0])
  const text = keyed.map(([, s], i) => (i === 0 ? '' : m.seps[i % 16]) + s).join('')
  const ev = m.event === 'started' || m.event === 'st%61rted' ? EVENT_STARTED : m.event === 'stopped' ? EVENT_STOPPED : m.event === 'completed' ? EVENT_COMPLETED : EVENT_NONE
  return {
    text,
    infoHash: m.hash?.bytes ?? null,
    peerId: m.peer?.bytes ?? null,
    port: m.port === null ? 0 : (m.port + 65536) & 0xffff,
    leftIsZero: m.left === null || /^-?0+$/.test(m.left),
    event: ev,
    numwant: m.numwant === null || m.numwant < 0 ? -1 : m.numwant,
    compact: m.compact === null || Number(m.compact) !== 0,
    noPeerId: m.noPeerId !== null && m.noPeerId !== '=0'
  }
})

// ---------------------------------------------------------------------------------------------

/** The key decodeBencode gives a dictionary key's bytes: their UTF-8 text, or hex if not valid UTF-8. */
function dictKeyOf (b: Buffer): string {
  const text = new TextDecoder().decode(b)
  return text.includes('\uFFFD') ? b.toString('hex') : text
}

const QUERY_ALPHABET = 'info_hashpeer_idportleftevent=numwantcompact6no_peer_id&%0123456789abcdefABCDEF+-#"@\x80\x01 '
const AE_ALPHABET = 'gzipx-zstdidentity*;q=0.15, \t"\\GZIPQbr'

export const cases: Cases = {
  'parseRequestHead: arbitrary bytes, request-shaped bytes and damaged requests, any range': () => {
    const h1 = new HttpRequestHead()
    const h2 = new HttpRequestHead()
    const input = fc.oneof(bytes(300), fc.tuple(fc.constantFrom('GET /', 'POST /'), bytesFrom(HEAD_ALPHABET, 200)).map(([p, b]) => Buffer.concat([Buffer.from(p), b])),
      mutated(validHeadBytes))
    fc.assert(fc.property(input, fc.nat(), fc.nat(), (b, x, y) => {
      const e = findHeadEnd(b, 0, b.length)
      checkHeadInvariants(b, 0, e < 0 ? b.length : e, h1)
      const [start, end] = rangeIn(b.length, x, y)
      checkHeadInvariants(b, start, end, h1)
      checkContextFree(b, h1, h2)
      checkContextFree(b.subarray(start, end), h1, h2)
    }), params(4000))
  },

  'parseRequestHead: generated requests parse to their route, query, version, keep-alive and headers': () => {
    const h = new HttpRequestHead()
    fc.assert(fc.property(headModel, (m) => {
      const b = Buffer.from(m.text, 'latin1')
      const e = findHeadEnd(b, 0, b.length)
      assert.equal(e, b.length, JSON.stringify(m.text))
      checkAgainstModel(b, 0, e, m, h)
    }), params(4000))
  },

  'pipelined requests: framed one by one and each parsed as if alone; a cut tail stays incomplete': () => {
    const h = new HttpRequestHead()
    fc.assert(fc.property(fc.array(headModel, { minLength: 1, maxLength: 12 }), fc.nat(), (models, cut) => {
      const parts = models.map((m) => Buffer.from(m.text, 'latin1'))
      const buf = Buffer.concat(parts)
      let s = 0
      models.forEach((m, k) => {
        const e = findHeadEnd(buf, s, buf.length)
        assert.equal(e, s + parts[k]!.length)
        checkAgainstModel(buf, s, e, m, h)
        s = e
      })
      assert.equal(findHeadEnd(buf, s, buf.length), -1)
      // the same stream cut short: everything before the cut frames the same, the cut request is incomplete
      const last = parts[parts.length - 1]!
      const cutAt = buf.length - last.length + cut % last.length
      assert.equal(findHeadEnd(buf.subarray(0, cutAt), buf.length - last.length, cutAt), -1)
    }), params(600))
  },

  'parseRequestHead is linear on MiBs of pipelined requests (was quadratic: a scan ran past the request line)': () => {
    const h = new HttpRequestHead()
    for (const unit of ['GET /stats\n\n', 'GET /stats HTTP/1.1\n\n', 'GET /metrics\r\n\r\n', 'GET /otd/x HTTP/1.0\n\n', 'GET /\n\n', 'POST /sync\n\n']) {
      const buf = Buffer.from(unit.repeat(Math.ceil((4 << 20) / unit.length)), 'latin1')
      assertFast(`4 MiB of ${JSON.stringify(unit)}`, 3000, () => {
        let s = 0
        while (s < buf.length) {
          const e = findHeadEnd(buf, s, buf.length)
          if (e < 0) break
          parseRequestHead(buf, s, e, STATS, h)
          s = e
        }
      })
    }
    // one huge head: a long request line, a long header block
    const long = Buffer.from('GET /' + 'a'.repeat(2 << 20) + '\n' + 'X: y\n'.repeat(400000) + '\n', 'latin1')
    assertFast('one 4 MiB head', 3000, () => parseRequestHead(long, 0, findHeadEnd(long, 0, long.length), STATS, h))
  },

  'parseAnnounceQuery / parseScrapeQuery: arbitrary and damaged queries, any range, nothing read outside it': () => {
    const q = new AnnounceQuery()
    const q2 = new AnnounceQuery()
    const s = new ScrapeQuery(4)
    const s2 = new ScrapeQuery(4)
    const valid = announceModel.map((m) => Buffer.from(m.text, 'latin1'))
    fc.assert(fc.property(fc.oneof(bytes(200), bytesFrom(QUERY_ALPHABET, 200), mutated(valid)), fc.nat(), fc.nat(), (b, x, y) => {
      const [start, end] = rangeIn(b.length, x, y)
      const r = parseAnnounceQuery(b, start, end, q)
      assert.ok(r === QUERY_OK || r === QUERY_ERR_PARAM)
      if (r === QUERY_OK) {
        assert.ok(Number.isInteger(q.port) && q.port >= 0 && q.port <= 65535)
        assert.ok(q.numwant === -1 || (Number.isInteger(q.numwant) && q.numwant >= 0 && q.numwant <= 999999999999999))
        assert.ok([EVENT_NONE, EVENT_COMPLETED, EVENT_STARTED, EVENT_STOPPED].includes(q.event))
      }
      const rs = parseScrapeQuery(b, start, end, s)
      assert.ok(rs === QUERY_OK || rs === QUERY_ERR_PARAM)
      if (rs === QUERY_OK) assert.ok(s.count >= 1 && s.count <= 4 && s.seen >= s.count)
      const copy = Buffer.from(b.subarray(start, end))
      assert.equal(parseAnnounceQuery(copy, 0, copy.length, q2), r)
      if (r === QUERY_OK) {
        assert.deepEqual([q2.hasInfoHash, q2.hasPeerId, q2.port, q2.leftIsZero, q2.event, q2.numwant, q2.compact, q2.noPeerId],
          [q.hasInfoHash, q.hasPeerId, q.port, q.leftIsZero, q.event, q.numwant, q.compact, q.noPeerId])
      }
      assert.equal(parseScrapeQuery(copy, 0, copy.length, s2), rs)
      if (rs === QUERY_OK) assert.ok(s2.hashes.subarray(0, s2.count * 20).equals(s.hashes.subarray(0, s.count * 20)))
    }), params(5000))
  },

  'parseAnnounceQuery: generated queries give back every field': () => {
    const q = new AnnounceQuery()
    fc.assert(fc.property(announceModel, (m) => {
      const b = Buffer.from(m.text, 'latin1')
      assert.equal(parseAnnounceQuery(b, 0, b.length, q), QUERY_OK, m.text)
      assert.equal(q.hasInfoHash, m.infoHash !== null)
      if (m.infoHash !== null) assert.ok(q.infoHash.equals(m.infoHash), m.text)
      assert.equal(q.hasPeerId, m.peerId !== null)
      if (m.peerId !== null) assert.ok(q.peerId.equals(m.peerId), m.text)
      assert.deepEqual([q.port, q.leftIsZero, q.event, q.numwant, q.compact, q.noPeerId],
        [m.port, m.leftIsZero, m.event, m.numwant, m.compact, m.noPeerId], m.text)
    }), params(4000))
  },

  'parseScrapeQuery: generated queries keep the first maxHashes hashes and count them all': () => {
    fc.assert(fc.property(fc.array(encodedHash, { minLength: 1, maxLength: 90, size: 'medium' }), fc.integer({ min: 1, max: 100 }),
      fc.array(unknownParam, { maxLength: 5 }), fc.nat(), (hashes, max, unknown, seed) => {
        const items = hashes.map((h) => `info_hash=${h.text}`)
        unknown.forEach((u, k) => items.splice((seed + k * 7) % (items.length + 1), 0, u))
        const b = Buffer.from(items.join('&'), 'latin1')
        const s = new ScrapeQuery(max)
        assert.equal(parseScrapeQuery(b, 0, b.length, s), QUERY_OK)
        assert.equal(s.seen, hashes.length)
        assert.equal(s.count, Math.min(max, hashes.length))
        for (let k = 0; k < s.count; k++) assert.ok(s.hashes.subarray(k * 20, k * 20 + 20).equals(hashes[k]!.bytes))
      }), params(1500))
  },

  'percentDecode: decodes any escaping of any bytes; writes at most max; bad escapes are -1': () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80, size: 'medium' }), choices, fc.integer({ min: 0, max: 100 }), (raw, c, max) => {
      const text = Buffer.from(encodeBytes(raw, c), 'latin1')
      const out = Buffer.alloc(max + 4, 0xa5)
      assert.equal(percentDecode(text, 0, text.length, out, 2, max), raw.length)
      const n = Math.min(max, raw.length)
      assert.ok(out.subarray(2, 2 + n).equals(Buffer.from(raw.subarray(0, n))))
      assert.ok(out.subarray(0, 2).equals(Buffer.from([0xa5, 0xa5])) && out.subarray(2 + n).every((v) => v === 0xa5))
    }), params(2000))
    fc.assert(fc.property(bytesFrom('%0aF9gz+', 60), (b) => {
      const out = Buffer.alloc(64)
      const r = percentDecode(b, 0, b.length, out, 0, 64)
      // -1 exactly when some '%' is not followed by two hex digits
      let bad = false
      for (let i = 0; i < b.length; i++) {
        if (b[i] !== 37) continue
        if (i + 2 >= b.length || !/[0-9a-f]{2}/i.test(b.toString('latin1', i + 1, i + 3))) { bad = true; break }
        i += 2
      }
      assert.equal(r < 0, bad, JSON.stringify(b.toString('latin1')))
    }), params(2000))
  },

  'chooseEncoding: arbitrary values and ranges; case, blanks and empty elements do not matter': () => {
    fc.assert(fc.property(fc.oneof(bytes(120), bytesFrom(AE_ALPHABET, 120)), fc.boolean(), fc.integer({ min: -1, max: 130 }), fc.nat(),
      (b, allowZstd, s, y) => {
        const start = Math.min(s, b.length)
        const end = start < 0 ? 0 : start + y % (b.length - start + 3) // may run past the buffer: clamped
        const e = chooseEncoding(b, start, end, allowZstd)
        assert.ok(e === ENCODING_IDENTITY || e === ENCODING_GZIP || (allowZstd && e === ENCODING_ZSTD))
        if (start >= 0) {
          const copy = Buffer.from(b.subarray(start, Math.min(end, b.length)))
          assert.equal(chooseEncoding(copy, 0, copy.length, allowZstd), e)
        }
      }), params(4000))
    const element = fc.tuple(fc.constantFrom('gzip', 'x-gzip', 'zstd', 'identity', '*', 'br', 'deflate'),
      fc.constantFrom('', ';q=0', ';q=0.5', ';q=1', ';q=1.000', ';q=0.001', ';q=0.999', ';q=2', ';q=0.1234', ';level=1', ';q="0.5"'))
    fc.assert(fc.property(fc.array(element, { maxLength: 6 }), fc.array(fc.constantFrom(',', ', ', ' ,\t', ',,', ' , '), { minLength: 6, maxLength: 6 }),
      fc.boolean(), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (els, seps, allowZstd, upper) => {
        const plain = els.map(([c, p]) => c + p).join(',')
        const fancy = els.map(([c, p], k) => (k === 0 ? '' : seps[k]) + [...c + p].map((ch, i) => upper[(k * 13 + i) % 64] ? ch.toUpperCase() : ch).join('')).join('')
        assert.equal(chooseEncodingText(fancy, allowZstd), chooseEncodingText(plain, allowZstd), `${plain} vs ${fancy}`)
      }), params(3000))
  },

  'announce and scrape bodies decode (strict bencode) to what was written, within their bounds': () => {
    const big = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.maxSafeNat())
    fc.assert(fc.property(big, fc.oneof(fc.constant(-1), big), big, big, big, fc.constantFrom(null, 4, 16), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 20 }),
      (S, D, L, I, M, ext, n4, n6) => {
        const extIp = ext === null ? null : Buffer.alloc(ext, 0x7f)
        const out = Buffer.alloc(announceBodyBound(n4, n6) + 64)
        let o = writeAnnounceHead(out, 0, S, D, L, I, M, extIp)
        if (n4 > 0) o = writeBytes(out, writePeersKey(out, o, n4), Buffer.alloc(n4 * 6, 4))
        if (n6 > 0) o = writeBytes(out, writePeers6Key(out, o, n6), Buffer.alloc(n6 * 18, 6))
        o = writeDictEnd(out, o)
        assert.ok(o <= announceBodyBound(n4, n6))
        const r = decodeBencode(out.subarray(0, o))
        assert.ok(r.ok, r.ok ? '' : r.error)
        const d = r.value as Record<string, unknown>
        assert.deepEqual([d.complete, d.downloaded, d.incomplete, d.interval, d['min interval']], [S, D < 0 ? undefined : D, L, I, M])
        assert.equal((d['external ip'] as Uint8Array | undefined)?.length, extIp?.length)
        assert.equal((d.peers as Uint8Array | undefined)?.length, n4 > 0 ? n4 * 6 : undefined)
        const stopped = Buffer.alloc(300)
        const so = writeStoppedBody(stopped, 0, S, L, I, M, n6 > 10)
        const rs = decodeBencode(stopped.subarray(0, so))
        assert.ok(rs.ok && (rs.value as Record<string, unknown>).downloaded === undefined)
      }), params(1500))
    fc.assert(fc.property(fc.array(fc.tuple(fixedBytes(20), big, big, big), { maxLength: 20 }), (entries) => {
      const out = Buffer.alloc(16 + entries.length * SCRAPE_ENTRY_BOUND)
      let o = writeScrapeStart(out, 0)
      for (const [h, s, d, l] of entries) {
        const before = o
        o = writeScrapeEntry(out, o, h, 0, s, d, l)
        assert.ok(o - before <= SCRAPE_ENTRY_BOUND)
      }
      o = writeScrapeEnd(out, o)
      const r = decodeBencode(out.subarray(0, o))
      assert.ok(r.ok)
      const files = (r.value as { files: Record<string, Record<string, number>> }).files
      // later duplicates win, as for any dictionary
      const want = new Map(entries.map(([h, s, d, l]) => [dictKeyOf(h), [s, d, l]]))
      assert.equal(Object.keys(files).length, want.size)
      for (const [key, [s, d, l]] of want) {
        const e = files[key]
        assert.deepEqual([e?.complete, e?.downloaded, e?.incomplete], [s, d, l])
      }
    }), params(800))
  },

  'failureBody: any message is one bencoded string of its UTF-8 bytes': () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (m) => {
      const r = decodeBencode(failureBody(m))
      assert.ok(r.ok)
      const v = (r.value as Record<string, Uint8Array>)['failure reason']!
      assert.ok(Buffer.from(v).equals(Buffer.from(m, 'utf8')))
    }), params(1000))
  }
}

propertySuite('HTTP codecs', import.meta.url, cases)
