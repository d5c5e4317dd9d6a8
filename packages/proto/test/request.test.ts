import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  HttpRequestHead, METHOD_GET, METHOD_POST, ROUTE_ADMIN, ROUTE_ANNOUNCE, ROUTE_BAD_REQUEST, ROUTE_FULL_SCRAPE, ROUTE_METRICS,
  ROUTE_NOT_FOUND, ROUTE_ROOT, ROUTE_SCRAPE, ROUTE_STATS, ROUTE_SYNC, findHeadEnd, parseRequestHead
} from '../src/index.js'

const STATS = Buffer.from('stats')

function head (text: string, statsPath = STATS): { route: number, h: HttpRequestHead, buf: Buffer } {
  const buf = Buffer.from(text, 'latin1')
  const end = findHeadEnd(buf, 0, buf.length)
  const h = new HttpRequestHead()
  const route = parseRequestHead(buf, 0, end < 0 ? buf.length : end, statsPath, h)
  assert.equal(h.route, route)
  return { route, h, buf }
}
const route = (line: string, statsPath = STATS): number => head(`${line}\r\n\r\n`, statsPath).route
const query = (text: string): string | null => {
  const { h, buf } = head(text)
  if (h.queryStart < 0) { assert.equal(h.queryEnd, -1); return null }
  return buf.toString('latin1', h.queryStart, h.queryEnd)
}
const forwarded = (text: string): string | null => {
  const { h, buf } = head(text)
  if (h.forwardedStart < 0) { assert.equal(h.forwardedEnd, -1); return null }
  return buf.toString('latin1', h.forwardedStart, h.forwardedEnd)
}

describe('findHeadEnd', () => {
  const fe = (s: string, start = 0, end?: number): number => {
    const b = Buffer.from(s, 'latin1')
    return findHeadEnd(b, start, end ?? b.length)
  }
  it('completes on \\n\\n, \\r\\n\\r\\n and \\r\\n\\n', () => {
    assert.equal(fe('GET / HTTP/1.0\n\n'), 16)
    assert.equal(fe('GET / HTTP/1.0\r\n\r\n'), 18)
    assert.equal(fe('GET / HTTP/1.0\r\n\n'), 17)
    assert.equal(fe('GET / HTTP/1.0\r\nHost: x\r\n\r\n'), 27)
    assert.equal(fe('GET / HTTP/1.0\nHost: x\n\n'), 24)
  })
  it('points just past the first terminator, ignoring what follows', () => {
    assert.equal(fe('GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n'), 19)
    assert.equal(fe('GET / HTTP/1.0\n\nbody\n\n'), 16)
    assert.equal(fe('\n\n'), 2)
    assert.equal(fe('\r\n\r\n'), 4)
  })
  it('a single \\r\\n (or lone \\n, or \\r\\n\\r) is incomplete', () => {
    assert.equal(fe(''), -1)
    assert.equal(fe('GET / HTTP/1.0'), -1)
    assert.equal(fe('GET / HTTP/1.0\r\n'), -1)
    assert.equal(fe('GET / HTTP/1.0\n'), -1)
    assert.equal(fe('GET / HTTP/1.0\r\nHost: x\r\n'), -1)
    assert.equal(fe('GET / HTTP/1.0\r\n\r'), -1)
    assert.equal(fe('GET / HTTP/1.0\r\r'), -1)
    assert.equal(fe('GET / HTTP/1.0\r\n \r\n'), -1)
  })
  it('honours start and end', () => {
    const s = 'xx\n\nGET / HTTP/1.0\r\n\r\n'
    assert.equal(fe(s, 0), 4)
    assert.equal(fe(s, 4), s.length)
    assert.equal(fe(s, 4, s.length - 1), -1) // the final \n is beyond end
    assert.equal(fe(s, 0, 3), -1)
    assert.equal(fe(s, 3), s.length) // starting on the second \n of the first pair skips that pair
    assert.equal(fe('a\r\n\r\n', 0, 4), -1)
    assert.equal(fe('a\r\n\n', 0, 3), -1)
  })
})

describe('parseRequestHead: method and request line', () => {
  for (const line of ['POST /announce?x HTTP/1.1', 'HEAD /announce?x HTTP/1.1', 'get /announce?x HTTP/1.1',
    'GET announce?x HTTP/1.1', ' GET /announce?x HTTP/1.1', 'GET  /announce?x HTTP/1.1', 'GET', 'GET ', '',
    'PUT / HTTP/1.1', 'OPTIONS * HTTP/1.1', 'GeT / HTTP/1.1']) {
    it(`${JSON.stringify(line)} → bad request`, () => assert.equal(route(line), ROUTE_BAD_REQUEST))
  }
  it('"GET /" needs nothing else', () => {
    const h = new HttpRequestHead()
    assert.equal(parseRequestHead(Buffer.from('GET /'), 0, 5, STATS, h), ROUTE_ROOT)
    assert.equal(parseRequestHead(Buffer.from('GET '), 0, 4, STATS, h), ROUTE_BAD_REQUEST)
  })
})

describe('parseRequestHead: routing', () => {
  for (const p of ['/announce?x', '/a?x', '/announce.php?x', '/%61nnounce?x', '/abc/def?x', '//announce?x',
    '///a?x', '/%61?x', '/a%3Fb?x', '/announce/%41?x']) {
    it(`GET ${p} → announce`, () => assert.equal(route(`GET ${p} HTTP/1.0`), ROUTE_ANNOUNCE))
  }
  for (const p of ['/scrape?x', '/sc?x', '/scrape.php?x', '/scrapeXYZ?x', '/%73c?x', '/s%63rape?x', '//scrape?x']) {
    it(`GET ${p} → scrape`, () => assert.equal(route(`GET ${p} HTTP/1.0`), ROUTE_SCRAPE))
  }
  it('GET /scrape HTTP/1.x (no query) → full scrape', () => {
    assert.equal(route('GET /scrape HTTP/1.1'), ROUTE_FULL_SCRAPE)
    assert.equal(route('GET /scrape HTTP/1.0'), ROUTE_FULL_SCRAPE)
    assert.equal(route('GET //scrape HTTP/1.1'), ROUTE_FULL_SCRAPE)
    assert.equal(route('GET /scrape HTTP/'), ROUTE_FULL_SCRAPE)
  })
  it('full scrape needs the literal bytes "scrape HTTP/"', () => {
    assert.equal(route('GET /%73crape HTTP/1.1'), ROUTE_BAD_REQUEST) // a scrape without '?'
    assert.equal(route('GET /scrapex HTTP/1.1'), ROUTE_BAD_REQUEST)
    assert.equal(route('GET /scrape'), ROUTE_BAD_REQUEST)
    assert.equal(route('GET /scrape  HTTP/1.1'), ROUTE_BAD_REQUEST)
    assert.equal(route('GET /scrape http/1.1'), ROUTE_BAD_REQUEST)
    assert.equal(route('GET /scrape?info_hash=x HTTP/1.1'), ROUTE_SCRAPE)
  })
  it('stats path is an exact match of the decoded path', () => {
    assert.equal(route('GET /stats HTTP/1.0'), ROUTE_STATS)
    assert.equal(route('GET /stats?mode=torr HTTP/1.0'), ROUTE_STATS)
    assert.equal(route('GET /%73tats?mode=torr HTTP/1.0'), ROUTE_STATS)
    assert.equal(route('GET //stats HTTP/1.0'), ROUTE_STATS)
    assert.equal(route('GET /stats/x HTTP/1.0'), ROUTE_NOT_FOUND)
    assert.equal(route('GET /statsx HTTP/1.0'), ROUTE_NOT_FOUND)
    assert.equal(route('GET /stat HTTP/1.0'), ROUTE_NOT_FOUND)
    assert.equal(route('GET /Stats HTTP/1.0'), ROUTE_NOT_FOUND)
  })
  it('a configured stats path replaces /stats', () => {
    const my = Buffer.from('mystats')
    assert.equal(route('GET /mystats?mode=torr HTTP/1.0', my), ROUTE_STATS)
    assert.equal(route('GET /stats?mode=torr HTTP/1.0', my), ROUTE_NOT_FOUND)
    const deep = Buffer.from('x/y z')
    assert.equal(route('GET /x/y%20z HTTP/1.0', deep), ROUTE_STATS)
    const long = Buffer.from('p'.repeat(64))
    assert.equal(route(`GET /${'p'.repeat(64)} HTTP/1.0`, long), ROUTE_STATS)
    assert.equal(route(`GET /${'p'.repeat(65)} HTTP/1.0`, long), ROUTE_NOT_FOUND)
  })
  it('a stats path starting with a or sc is unreachable', () => {
    assert.equal(route('GET /admin HTTP/1.0', Buffer.from('admin')), ROUTE_BAD_REQUEST) // announce without '?'
    assert.equal(route('GET /admin?x HTTP/1.0', Buffer.from('admin')), ROUTE_ANNOUNCE)
    assert.equal(route('GET /scstats?x HTTP/1.0', Buffer.from('scstats')), ROUTE_SCRAPE)
  })
  it('empty path: root on a terminator, not found before ?', () => {
    assert.equal(route('GET / HTTP/1.0'), ROUTE_ROOT)
    assert.equal(route('GET // HTTP/1.0'), ROUTE_ROOT)
    assert.equal(route('GET /'), ROUTE_ROOT)
    assert.equal(route('GET /?x HTTP/1.0'), ROUTE_NOT_FOUND)
    assert.equal(route('GET /?info_hash=x HTTP/1.0'), ROUTE_NOT_FOUND)
    assert.equal(route('GET //?x HTTP/1.0'), ROUTE_NOT_FOUND)
  })
  for (const p of ['/foo', '/index.html', '/s?x', '/s', '/synced', '/x?y', '/Announce?x', '/Scrape?x', '/%41nnounce?x']) {
    it(`GET ${p} → not found`, () => assert.equal(route(`GET ${p} HTTP/1.0`), ROUTE_NOT_FOUND))
  }
  for (const p of ['/%zz', '/%zzannounce?x', '/a%zz?x', '/sc%g0?x', '/%4', '/%', '/stats%', '/%4?x']) {
    it(`bad escape in ${p} → not found`, () => assert.equal(route(`GET ${p} HTTP/1.0`), ROUTE_NOT_FOUND))
  }
  it('announce/scrape without ? in the request line → bad request', () => {
    assert.equal(route('GET /announce HTTP/1.0'), ROUTE_BAD_REQUEST)
    assert.equal(route('GET /announce'), ROUTE_BAD_REQUEST)
    assert.equal(route('GET /sc HTTP/1.0'), ROUTE_BAD_REQUEST)
    assert.equal(head('GET /announce HTTP/1.0\r\nX: ?a=b\r\n\r\n').route, ROUTE_BAD_REQUEST)
  })
  it('a ? after a space in the request line is accepted (broken-client hack)', () => {
    const text = 'GET /announce ?info_hash=abc&port=1 HTTP/1.0\r\n\r\n'
    assert.equal(head(text).route, ROUTE_ANNOUNCE)
    assert.equal(query(text), 'info_hash=abc&port=1')
    assert.equal(query('GET /scrape ?info_hash=abc HTTP/1.0\r\n\r\n'), 'info_hash=abc')
    assert.equal(query('GET /announce HTTP/1.0?x=1\r\n\r\n'), 'x=1')
  })
})

describe('parseRequestHead: query bounds', () => {
  it('from after ? to the first terminator', () => {
    assert.equal(query('GET /announce?info_hash=x&port=1 HTTP/1.1\r\n\r\n'), 'info_hash=x&port=1')
    assert.equal(query('GET /announce?a=1\r\n\r\n'), 'a=1')
    assert.equal(query('GET /announce?a=1\n\n'), 'a=1')
    assert.equal(query('GET /announce?a=1\0junk HTTP/1.1\r\n\r\n'), 'a=1')
    assert.equal(query('GET /announce?a=1\rjunk HTTP/1.1\r\n\r\n'), 'a=1')
    assert.equal(query('GET /announce? HTTP/1.1\r\n\r\n'), '')
    assert.equal(query('GET /announce?a=?b HTTP/1.1\r\n\r\n'), 'a=?b')
    assert.equal(query('GET /stats?mode=everything HTTP/1.1\r\n\r\n'), 'mode=everything')
  })
  it('stats without a query, root, not found and full scrape have no query', () => {
    assert.equal(query('GET /stats HTTP/1.1\r\n\r\n'), null)
    assert.equal(query('GET / HTTP/1.1\r\n\r\n'), null)
    assert.equal(query('GET /foo?x HTTP/1.1\r\n\r\n'), null)
    assert.equal(query('GET /scrape HTTP/1.1\r\n\r\n'), null)
  })
  it('honours a non-zero start', () => {
    const prev = 'GET /a?old HTTP/1.0\r\n\r\n'
    const buf = Buffer.from(prev + 'GET /announce?new=1 HTTP/1.1\r\nConnection: close\r\n\r\n', 'latin1')
    const start = prev.length
    const end = findHeadEnd(buf, start, buf.length)
    assert.equal(end, buf.length)
    const h = new HttpRequestHead()
    assert.equal(parseRequestHead(buf, start, end, STATS, h), ROUTE_ANNOUNCE)
    assert.equal(buf.toString('latin1', h.queryStart, h.queryEnd), 'new=1')
    assert.equal(h.versionMinor, 1)
    assert.equal(h.keepAlive, false)
  })
  it('ignores bytes after headEnd', () => {
    const buf = Buffer.from('GET /announce HTTP/1.0\r\n\r\n?x=1\r\n', 'latin1')
    const h = new HttpRequestHead()
    assert.equal(parseRequestHead(buf, 0, findHeadEnd(buf, 0, buf.length), STATS, h), ROUTE_BAD_REQUEST)
  })
})

describe('parseRequestHead: version and keep-alive', () => {
  const ka = (text: string): [number, boolean] => {
    const { h } = head(text)
    return [h.versionMinor, h.keepAlive]
  }
  it('HTTP/1.1 defaults to keep-alive', () => {
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\r\n\r\n'), [1, true])
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\r\nConnection: keep-alive\r\n\r\n'), [1, true])
    assert.deepEqual(ka('GET / HTTP/1.1\n\n'), [1, true])
  })
  it('HTTP/1.1 with Connection: close does not', () => {
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\r\nConnection: close\r\n\r\n'), [1, false])
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\r\nconnection:CLOSE\r\n\r\n'), [1, false])
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\r\nHost: a\r\nCONNECTION: Close\r\nX: y\r\n\r\n'), [1, false])
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n'), [1, false])
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\nConnection: close\n\n'), [1, false])
  })
  it('HTTP/1.0 defaults to close; keep-alive only when asked', () => {
    assert.deepEqual(ka('GET /announce?x HTTP/1.0\r\n\r\n'), [0, false])
    assert.deepEqual(ka('GET /announce?x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'), [0, true])
    assert.deepEqual(ka('GET /announce?x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'), [0, true])
    assert.deepEqual(ka('GET /announce?x HTTP/1.0\r\nConnection: close\r\n\r\n'), [0, false])
  })
  it('a missing or unknown version is treated as 1.0', () => {
    assert.deepEqual(ka('GET /announce?x\r\n\r\n'), [0, false])
    assert.deepEqual(ka('GET /announce?x HTTP/2.0\r\n\r\n'), [0, false])
    assert.deepEqual(ka('GET /announce?x http/1.1\r\n\r\n'), [0, false])
    assert.deepEqual(ka('GET /announce?x HTTP/1.11\r\n\r\n'), [0, false])
    assert.deepEqual(ka('GET /announce?x HTTP/1.1 \r\n\r\n'), [0, false])
    assert.deepEqual(ka('GET /announce?x xHTTP/1.1\r\n\r\n'), [0, false])
    assert.deepEqual(ka('GET /HTTP/1.1\r\n\r\n'), [0, false])
  })
  it('a Connection token in another header is ignored', () => {
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\r\nX-Connection: close\r\n\r\n'), [1, true])
    assert.deepEqual(ka('GET /announce?x HTTP/1.1\r\nProxy-Connection: close\r\n\r\n'), [1, true])
    assert.deepEqual(ka('GET /announce?close HTTP/1.1\r\n\r\n'), [1, true])
  })
  it('a bad request still reports version/keep-alive fields as defaults', () => {
    const { h } = head('POST / HTTP/1.1\r\n\r\n')
    assert.equal(h.route, ROUTE_BAD_REQUEST)
    assert.equal(h.keepAlive, false)
    assert.equal(h.queryStart, -1)
  })
})

describe('parseRequestHead: X-Forwarded-For', () => {
  it('absent → -1', () => assert.equal(forwarded('GET /a?x HTTP/1.1\r\nHost: h\r\n\r\n'), null))
  it('value bounds skip leading spaces/tabs and stop before CR', () => {
    assert.equal(forwarded('GET /a?x HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n'), '1.2.3.4')
    assert.equal(forwarded('GET /a?x HTTP/1.1\r\nx-forwarded-for:1.2.3.4\r\n\r\n'), '1.2.3.4')
    assert.equal(forwarded('GET /a?x HTTP/1.1\r\nX-FORWARDED-FOR: \t 1.2.3.4, 5.6.7.8\r\n\r\n'), '1.2.3.4, 5.6.7.8')
    assert.equal(forwarded('GET /a?x HTTP/1.1\nX-Forwarded-For: ::1\n\n'), '::1')
    assert.equal(forwarded('GET /a?x HTTP/1.1\r\nX-Forwarded-For:\r\n\r\n'), '')
  })
  it('the first header wins', () => {
    assert.equal(forwarded('GET /a?x HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n'), '1.1.1.1')
  })
  it('the colon must follow the name immediately; the name must start the line', () => {
    assert.equal(forwarded('GET /a?x HTTP/1.1\r\nX-Forwarded-For : 1.2.3.4\r\n\r\n'), null)
    assert.equal(forwarded('GET /a?x HTTP/1.1\r\n X-Forwarded-For: 1.2.3.4\r\n\r\n'), null)
    assert.equal(forwarded('GET /a?x HTTP/1.1\r\nX-Forwarded-Forx: 1.2.3.4\r\n\r\n'), null)
    assert.equal(forwarded('GET /a?X-Forwarded-For:1.2.3.4 HTTP/1.1\r\n\r\n'), null)
  })
  it('is reported for any route (the daemon decides when to use it)', () => {
    assert.equal(forwarded('GET /scrape?x HTTP/1.1\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n'), '9.9.9.9')
  })
})

describe('parseRequestHead: Accept-Encoding', () => {
  const enc = (text: string): [boolean, boolean] => {
    const { h } = head(text)
    return [h.acceptsGzip, h.acceptsZstd]
  }
  it('detects gzip and zstd tokens, case-insensitively', () => {
    assert.deepEqual(enc('GET /scrape HTTP/1.1\r\n\r\n'), [false, false])
    assert.deepEqual(enc('GET /scrape HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n'), [true, false])
    assert.deepEqual(enc('GET /scrape HTTP/1.1\r\naccept-encoding: deflate, GZIP;q=0.5\r\n\r\n'), [true, false])
    assert.deepEqual(enc('GET /scrape HTTP/1.1\r\nAccept-Encoding: zstd\r\n\r\n'), [false, true])
    assert.deepEqual(enc('GET /scrape HTTP/1.1\r\nAccept-Encoding:zstd,gzip\r\n\r\n'), [true, true])
    assert.deepEqual(enc('GET /scrape HTTP/1.1\nAccept-Encoding: x-gzip\n\n'), [true, false])
    assert.deepEqual(enc('GET /scrape HTTP/1.1\r\nAccept-Encoding: deflate, br\r\n\r\n'), [false, false])
    assert.deepEqual(enc('GET /scrape HTTP/1.1\r\nAccept-Encoding: gzi\r\n\r\n'), [false, false])
  })
  it('flags accumulate over repeated headers', () => {
    assert.deepEqual(enc('GET /scrape HTTP/1.1\r\nAccept-Encoding: gzip\r\nAccept-Encoding: zstd\r\n\r\n'), [true, true])
  })
})

describe('parseRequestHead: result object is reset', () => {
  it('between calls', () => {
    const h = new HttpRequestHead()
    const a = Buffer.from('GET /announce?x=1 HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\nAccept-Encoding: gzip, zstd\r\n\r\n')
    parseRequestHead(a, 0, a.length, STATS, h)
    assert.equal(h.acceptsGzip && h.acceptsZstd && h.keepAlive && h.forwardedStart > 0 && h.queryStart > 0, true)
    const b = Buffer.from('GET / HTTP/1.0\r\n\r\n')
    assert.equal(parseRequestHead(b, 0, b.length, STATS, h), ROUTE_ROOT)
    assert.deepEqual([h.acceptsGzip, h.acceptsZstd, h.keepAlive, h.forwardedStart, h.forwardedEnd, h.queryStart, h.queryEnd, h.versionMinor],
      [false, false, false, -1, -1, -1, -1, 0])
  })
})

describe('operator routes: admin, metrics, sync, POST bodies', () => {
  it('routes otd/..., metrics and sync exactly', () => {
    assert.equal(route('GET /otd HTTP/1.1'), ROUTE_ADMIN)
    assert.equal(route('GET /otd/status HTTP/1.1'), ROUTE_ADMIN)
    assert.equal(route('GET //otd/access/white?format=txt HTTP/1.1'), ROUTE_ADMIN)
    assert.equal(route('GET /otdx HTTP/1.1'), ROUTE_NOT_FOUND)
    assert.equal(route('GET /metrics HTTP/1.1'), ROUTE_METRICS)
    assert.equal(route('GET /metricsx HTTP/1.1'), ROUTE_NOT_FOUND)
    assert.equal(route('GET /sync HTTP/1.1'), ROUTE_SYNC)
    assert.equal(route('GET /sync?changeset=x HTTP/1.1'), ROUTE_SYNC)
    assert.equal(route('GET /synced HTTP/1.1'), ROUTE_NOT_FOUND)
  })
  it('POST reaches only the admin and sync routes; everything else stays 400 like opentracker', () => {
    const { h } = head('POST /otd/access/white/add HTTP/1.1\r\nContent-Length: 41\r\n\r\n')
    assert.equal(h.route, ROUTE_ADMIN)
    assert.equal(h.method, METHOD_POST)
    assert.equal(h.contentLength, 41)
    assert.equal(route('POST /sync HTTP/1.1'), ROUTE_SYNC)
    assert.equal(route('POST /announce?info_hash=x HTTP/1.1'), ROUTE_BAD_REQUEST)
    assert.equal(route('POST /stats HTTP/1.1'), ROUTE_BAD_REQUEST)
    assert.equal(route('PUT /otd/status HTTP/1.1'), ROUTE_BAD_REQUEST)
    assert.equal(head('GET /otd/status HTTP/1.1\r\n\r\n').h.method, METHOD_GET)
  })
  it('path bounds and query of admin routes', () => {
    const { h, buf } = head('GET ///otd/access/check?info_hash=ab HTTP/1.1\r\n\r\n')
    assert.equal(buf.toString('latin1', h.pathStart, h.pathEnd), 'otd/access/check')
    assert.equal(buf.toString('latin1', h.queryStart, h.queryEnd), 'info_hash=ab')
  })
  it('Content-Length: absent -1, malformed -2, blanks allowed', () => {
    assert.equal(head('POST /otd/reload HTTP/1.1\r\n\r\n').h.contentLength, -1)
    assert.equal(head('POST /otd/reload HTTP/1.1\r\ncontent-length:  12 \r\n\r\n').h.contentLength, 12)
    for (const v of ['', 'x', '-1', '1e3', '12 34', '9'.repeat(16)]) {
      assert.equal(head(`POST /otd/reload HTTP/1.1\r\nContent-Length: ${v}\r\n\r\n`).h.contentLength, -2, v)
    }
  })
  it('Accept-Encoding value bounds are kept for q-value parsing', () => {
    const { h, buf } = head('GET /scrape HTTP/1.1\r\nAccept-Encoding: gzip;q=0.5, zstd\r\n\r\n')
    assert.equal(buf.toString('latin1', h.acceptEncodingStart, h.acceptEncodingEnd).trim(), 'gzip;q=0.5, zstd')
    assert.equal(head('GET /scrape HTTP/1.1\r\n\r\n').h.acceptEncodingStart, -1)
  })
})
