/** Never-throws fuzzing of the HTTP parsers on random and request-shaped bytes (seeded, bounded). */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  AnnounceQuery, HttpRequestHead, QUERY_ERR_PARAM, QUERY_OK, ROUTE_ANNOUNCE, ROUTE_BAD_REQUEST, ROUTE_NOT_FOUND,
  ROUTE_SCRAPE, ROUTE_STATS, ScrapeQuery, findHeadEnd, parseAnnounceQuery, parseRequestHead, parseScrapeQuery
} from '../src/index.js'
import { int, mulberry32, pick, randomBytes, randomFrom } from './prng.js'
import type { Rng } from './prng.js'

const QUERY_ALPHABET = 'info_hashpeer_idportleftevent=numwantcompact6no_peer_id&%0123456789abcdefABCDEF+-#"@\x80\x01 '
const HEAD_ALPHABET = 'GET /?&=%a0scr\r\n\n HTTP/1.1:XxCconnectiokeep-alivclosgzipzstdforwarded-Aept-ncoding\0\t'

/** Reference for findHeadEnd: first LF followed by LF or CR LF, within [start, end). */
function refHeadEnd (b: Buffer, start: number, end: number): number {
  for (let p = start; p < end; p++) {
    if (b[p] !== 10) continue
    if (p + 1 < end && b[p + 1] === 10) return p + 2
    if (p + 2 < end && b[p + 1] === 13 && b[p + 2] === 10) return p + 3
  }
  return -1
}

function requestShaped (rng: Rng): Buffer {
  const method = rng() < 0.85 ? 'GET /' : pick(rng, ['POST /', 'get /', 'GET', 'HEAD /', ''])
  const path = pick(rng, ['announce', 'a', 'scrape', 'sc', 'stats', '', '/', '%61', '%zz', 's', 'x/y', 'scrape HTTP/'])
  const q = rng() < 0.7 ? '?' + randomFrom(rng, int(rng, 0, 40), QUERY_ALPHABET).toString('latin1') : ''
  const version = pick(rng, [' HTTP/1.1', ' HTTP/1.0', '', ' HTTP/1.1 ', ' HTTP/2'])
  const eol = (): string => pick(rng, ['\r\n', '\n', '\r\n', '\r'])
  let s = method + path + q + version + eol()
  const n = int(rng, 0, 5)
  for (let k = 0; k < n; k++) {
    s += pick(rng, ['Connection: close', 'Connection: keep-alive', 'X-Forwarded-For: 1.2.3.4', 'x-forwarded-for:',
      'Accept-Encoding: gzip, zstd', 'Host: h', '', 'Connection', 'X', randomFrom(rng, int(rng, 0, 30), HEAD_ALPHABET).toString('latin1')]) + eol()
  }
  s += pick(rng, ['\r\n', '\n', '', '\r\n\r\n'])
  const b = Buffer.from(s, 'latin1')
  // occasionally corrupt a few bytes
  if (rng() < 0.3) for (let k = int(rng, 1, 3); k > 0 && b.length > 0; k--) b[int(rng, 0, b.length - 1)] = int(rng, 0, 255)
  return b
}

function checkHead (b: Buffer, start: number, headEnd: number, h: HttpRequestHead, stats: Buffer): void {
  const route = parseRequestHead(b, start, headEnd, stats, h)
  assert.equal(h.route, route)
  assert.ok(route >= ROUTE_BAD_REQUEST && route <= ROUTE_NOT_FOUND, `route ${route}`)
  assert.ok(h.versionMinor === 0 || h.versionMinor === 1)
  if (route !== ROUTE_BAD_REQUEST) assert.equal(b.toString('latin1', start, start + 5), 'GET /')
  if (route === ROUTE_ANNOUNCE || route === ROUTE_SCRAPE || (route === ROUTE_STATS && h.queryStart >= 0)) {
    assert.ok(h.queryStart > start && h.queryStart <= h.queryEnd && h.queryEnd <= headEnd, `query ${h.queryStart}..${h.queryEnd}`)
    assert.equal(b[h.queryStart - 1], 63)
    for (let i = h.queryStart; i < h.queryEnd; i++) assert.ok(![32, 13, 10, 0].includes(b[i]!), 'terminator inside query')
  } else {
    assert.equal(h.queryStart, -1)
    assert.equal(h.queryEnd, -1)
  }
  if (h.forwardedStart >= 0) {
    assert.ok(h.forwardedStart > start && h.forwardedStart <= h.forwardedEnd && h.forwardedEnd <= headEnd)
  } else {
    assert.equal(h.forwardedEnd, -1)
  }
}

describe('fuzz: never throws', () => {
  it('findHeadEnd agrees with a reference scan on random buffers', () => {
    const rng = mulberry32(1)
    for (let k = 0; k < 20000; k++) {
      const b = rng() < 0.5 ? randomFrom(rng, int(rng, 0, 64), '\r\n\nab') : randomBytes(rng, int(rng, 0, 64))
      const start = int(rng, 0, b.length)
      const end = int(rng, start, b.length)
      const r = findHeadEnd(b, start, end)
      assert.equal(r, refHeadEnd(b, start, end), JSON.stringify(b.toString('latin1')) + ` ${start} ${end}`)
    }
  })

  it('parseAnnounceQuery / parseScrapeQuery on random bytes', () => {
    const rng = mulberry32(2)
    const q = new AnnounceQuery()
    const s = new ScrapeQuery(3)
    for (let k = 0; k < 30000; k++) {
      const b = rng() < 0.7 ? randomFrom(rng, int(rng, 0, 120), QUERY_ALPHABET) : randomBytes(rng, int(rng, 0, 120))
      const start = int(rng, 0, b.length)
      const end = int(rng, start, b.length)
      const r = parseAnnounceQuery(b, start, end, q)
      assert.ok(r === QUERY_OK || r === QUERY_ERR_PARAM)
      if (r === QUERY_OK) {
        assert.ok(Number.isInteger(q.port) && q.port >= 0 && q.port <= 65535)
        assert.ok(q.numwant === -1 || (Number.isInteger(q.numwant) && q.numwant >= 0))
        assert.equal(q.infoHash.length, 20)
      }
      const rs = parseScrapeQuery(b, start, end, s)
      assert.ok(rs === QUERY_OK || rs === QUERY_ERR_PARAM)
      if (rs === QUERY_OK) assert.ok(s.count >= 1 && s.count <= 3 && s.seen >= s.count)
      // a sub-range never reads outside itself: same answer from a copy of just that range
      const copy = Buffer.from(b.subarray(start, end))
      assert.equal(parseAnnounceQuery(copy, 0, copy.length, new AnnounceQuery()), r)
      assert.equal(parseScrapeQuery(copy, 0, copy.length, new ScrapeQuery(3)), rs)
    }
  })

  it('parseRequestHead on random bytes and on request-shaped bytes', () => {
    const rng = mulberry32(3)
    const h = new HttpRequestHead()
    const stats = Buffer.from('stats')
    for (let k = 0; k < 30000; k++) {
      let b: Buffer
      const r = rng()
      if (r < 0.2) b = randomBytes(rng, int(rng, 0, 100))
      else if (r < 0.4) b = Buffer.concat([Buffer.from('GET /'), randomFrom(rng, int(rng, 0, 100), HEAD_ALPHABET)])
      else b = requestShaped(rng)
      const end = findHeadEnd(b, 0, b.length)
      checkHead(b, 0, end < 0 ? b.length : end, h, stats)
      // also at an offset, behind a previous request
      const pre = Buffer.from('GET /x HTTP/1.0\n\n')
      const both = Buffer.concat([pre, b])
      const end2 = findHeadEnd(both, pre.length, both.length)
      checkHead(both, pre.length, end2 < 0 ? both.length : end2, h, stats)
      if (end >= 0) assert.equal(end2, end + pre.length)
      // an arbitrary headEnd: the parser reads nothing outside [start, headEnd)
      const cut = int(rng, 0, b.length)
      const before = Buffer.from('\n\nGET /a? ', 'latin1')
      const framed = Buffer.concat([before, b.subarray(0, cut), Buffer.from('?\n\nHTTP/1.1 ', 'latin1')])
      const alone = Buffer.from(b.subarray(0, cut))
      const h2 = new HttpRequestHead()
      const ra = parseRequestHead(alone, 0, alone.length, stats, h2)
      const rf = parseRequestHead(framed, before.length, before.length + cut, stats, h)
      const rel = (x: HttpRequestHead, o: number): number[] => [x.queryStart, x.queryEnd, x.forwardedStart, x.forwardedEnd]
        .map((v) => v < 0 ? v : v - o).concat([x.versionMinor, Number(x.keepAlive), Number(x.acceptsGzip), Number(x.acceptsZstd)])
      assert.equal(rf, ra, JSON.stringify(alone.toString('latin1')))
      assert.deepEqual(rel(h, before.length), rel(h2, 0), JSON.stringify(alone.toString('latin1')))
    }
  })

  it('request-shaped heads: parsing the query of a routed request never throws', () => {
    const rng = mulberry32(4)
    const h = new HttpRequestHead()
    const q = new AnnounceQuery()
    const s = new ScrapeQuery(64)
    const stats = Buffer.from('stats')
    let routed = 0
    for (let k = 0; k < 20000; k++) {
      const b = requestShaped(rng)
      const end = findHeadEnd(b, 0, b.length)
      const route = parseRequestHead(b, 0, end < 0 ? b.length : end, stats, h)
      if (route === ROUTE_ANNOUNCE) { routed++; parseAnnounceQuery(b, h.queryStart, h.queryEnd, q) }
      if (route === ROUTE_SCRAPE) { routed++; parseScrapeQuery(b, h.queryStart, h.queryEnd, s) }
    }
    assert.ok(routed > 3000, `only ${routed} routed requests`)
  })
})
