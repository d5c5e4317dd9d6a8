// Full scrapes through real sockets (reference §7, checklist §13.5 items 41-44): `GET /scrape`
// and `/stats?mode=tpbs|statedump`, every format, chunked and close-delimited framing,
// Accept-Encoding negotiation with q-values (gzip, zstd, identity), and the per-address rate limit.

import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { MAY_FULLSCRAPE, MAY_STAT } from '../../src/config.js'
import { CLOCK_START, trackerPool } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { assertSortedUnique, hdr, parseBenFullScrape, parseOpsReply, request, sendRaw } from '../helpers/ops-http.js'
import type { OpsReply } from '../helpers/ops-http.js'
import { announce, scrape, testHash } from '../helpers/tracker-client.js'

const fresh = trackerPool()

interface Counts { hash: Buffer, s: number, l: number, d: number }

/**
 * Fills the store directly (fast, exact): torrent i gets i % 4 seeders (the first one completed
 * when i is odd), i % 3 IPv4 leechers and an IPv6 leecher when i % 5 == 0; at least one peer each.
 */
function populate (f: Fixture, hashes: Buffer[]): Counts[] {
  const store = f.tracker.store
  const out: Counts[] = []
  for (const [i, hash] of hashes.entries()) {
    const seeds = i % 4
    let leech = i % 3 + (i % 5 === 0 ? 1 : 0)
    if (seeds + leech === 0) leech = 1
    let d = 0
    for (let k = 0; k < seeds; k++) {
      const completed = k === 0 && i % 2 === 1
      store.announce(hash, 0, 4, new Uint32Array([0x0a000000 + k]), 1000 + k, true, completed)
      if (completed) d++
    }
    let l4 = leech - (i % 5 === 0 ? 1 : 0)
    if (l4 < 0) l4 = 0
    for (let k = 0; k < l4; k++) store.announce(hash, 0, 4, new Uint32Array([0x0b000000 + k]), 2000 + k, false, false)
    if (i % 5 === 0) store.announce(hash, 0, 6, new Uint32Array([0x20010db8, 0, 0, i]), 3000, false, false)
    out.push({ hash, s: seeds, l: leech, d })
  }
  return out.sort((a, b) => Buffer.compare(a.hash, b.hash))
}

/** Hashes spanning the byte range, including all-0x00, all-0xff and ones that are URL-safe text. */
function interestingHashes (n: number, base: number): Buffer[] {
  const hs: Buffer[] = [Buffer.alloc(20, 0), Buffer.alloc(20, 0xff), Buffer.from('0123456789abcdefghij', 'latin1'),
    Buffer.from('-._~ABCxyz%+/ ?&=#:!', 'latin1'), Buffer.from([0, 1, 2, 0xff, 0x80, ...Array<number>(15).fill(0x41)])]
  for (let i = hs.length; i < n; i++) hs.push(testHash(base + i))
  return hs
}

const UNRESERVED = /[A-Za-z0-9\-._~]/
function urlEncode (h: Buffer): string {
  let s = ''
  for (const b of h) {
    const c = String.fromCharCode(b)
    s += UNRESERVED.test(c) ? c : '%' + b.toString(16).padStart(2, '0')
  }
  return s
}
const HEX = (h: Buffer): string => h.toString('hex').toUpperCase()

function expectedBen (rows: Counts[]): Buffer {
  return Buffer.concat([Buffer.from('d5:filesd'), ...rows.map((r) => Buffer.concat([Buffer.from('20:'), r.hash,
    Buffer.from(`d8:completei${r.s}e10:downloadedi${r.d}e10:incompletei${r.l}ee`)])), Buffer.from('ee')])
}
function expectedBin (rows: Counts[]): Buffer {
  return Buffer.concat(rows.map((r) => {
    const b = Buffer.alloc(28)
    r.hash.copy(b, 0)
    b.writeUInt32BE(r.s, 20)
    b.writeUInt32BE(r.l, 24)
    return b
  }))
}

async function fullScrape (ep: Endpoint, target: string, o: { http11?: boolean, encoding?: string, localAddress?: string } = {}): Promise<OpsReply> {
  const http11 = o.http11 ?? true
  const headers = o.encoding === undefined ? '' : `Accept-Encoding: ${o.encoding}\r\n`
  const raw = await sendRaw(ep, `GET ${target} HTTP/1.${http11 ? 1 : 0}\r\nHost: x\r\n${headers}\r\n`, { timeoutMs: 10_000, ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }) })
  return parseOpsReply(raw)
}

function assertChunkedOk (r: OpsReply, contentType: string): void {
  assert.equal(r.statusLine, 'HTTP/1.1 200 OK')
  assert.equal(hdr(r, 'content-type'), contentType)
  assert.equal(hdr(r, 'transfer-encoding'), 'chunked')
  assert.equal(hdr(r, 'content-length'), undefined)
  assert.ok(r.chunks !== null)
}

describe('41: GET /scrape HTTP/1.1 on an empty tracker', () => {
  test('→ 200, application/octet-stream, chunked, body d5:filesdee, then close', async () => {
    const f = await fresh()
    const r = await fullScrape(f.http4, '/scrape')
    assertChunkedOk(r, 'application/octet-stream')
    assert.equal(r.body.toString('latin1'), 'd5:filesdee')
    assert.equal(hdr(r, 'content-encoding'), undefined)
  })

  test('empty non-bencoded dumps are one terminating chunk, not opentracker\'s doubled 0\\r\\n\\r\\n', async () => {
    const f = await fresh()
    for (const q of ['/stats?mode=tpbs&format=txt', '/stats?mode=tpbs&format=bin', '/stats?mode=statedump']) {
      const r = await fullScrape(f.http4, q)
      assert.equal(r.wireBody.toString('latin1'), '0\r\n\r\n', q)
    }
  })

  test('both families, /scrape with a trailing slash variant is a normal scrape (400 without info_hash)', async () => {
    const f = await fresh()
    assert.equal((await fullScrape(f.http6, '/scrape')).body.toString(), 'd5:filesdee')
    assert.equal((await request(f.http4, '/scrape?')).status, 400)
  })
})

describe('41-44: formats of a populated tracker', () => {
  let f: Fixture
  let rows: Counts[]
  before(async () => {
    f = await fresh({}, true)
    rows = populate(f, interestingHashes(300, 9000))
  })

  test('41: /scrape → every torrent, sorted by hash, counts as in a normal scrape', async () => {
    const r = await fullScrape(f.http4, '/scrape')
    assertChunkedOk(r, 'application/octet-stream')
    assert.deepEqual(r.body, expectedBen(rows))
    const parsed = parseBenFullScrape(r.body)
    assertSortedUnique(parsed.map((p) => p.hash))
    // cross-check some against the per-torrent scrape
    const some = rows.filter((_r, i) => i % 37 === 0).map((x) => x.hash)
    const normal = await scrape(f.http4, some)
    for (const h of some) {
      const p = parsed.find((x) => x.hash.equals(h))!
      assert.deepEqual(normal.get(h.toString('latin1')), { complete: p.complete, downloaded: p.downloaded, incomplete: p.incomplete })
    }
  })

  test('43: tpbs format=ben, and tpbs without format (answered, ben) → same as /scrape', async () => {
    const expected = expectedBen(rows)
    for (const q of ['/stats?mode=tpbs&format=ben', '/stats?mode=tpbs']) {
      const r = await fullScrape(f.http4, q)
      assertChunkedOk(r, 'application/octet-stream')
      assert.deepEqual(r.body, expected, q)
    }
  })

  test('43: format=txt → HEX40:S:L lines in uppercase', async () => {
    const r = await fullScrape(f.http4, '/stats?mode=tpbs&format=txt')
    assertChunkedOk(r, 'text/plain')
    assert.equal(r.body.toString('latin1'), rows.map((x) => `${HEX(x.hash)}:${x.s}:${x.l}\n`).join(''))
  })

  test('43: format=txtp → HEX40:S:L:D lines', async () => {
    const r = await fullScrape(f.http4, '/stats?mode=tpbs&format=txtp')
    assert.equal(r.body.toString('latin1'), rows.map((x) => `${HEX(x.hash)}:${x.s}:${x.l}:${x.d}\n`).join(''))
  })

  test('43: format=bin → 28-byte records, hash + u32be S + u32be L', async () => {
    const r = await fullScrape(f.http4, '/stats?mode=tpbs&format=bin')
    assertChunkedOk(r, 'application/octet-stream')
    assert.equal(r.body.length, rows.length * 28)
    assert.deepEqual(r.body, expectedBin(rows))
  })

  test('43: format=url → lowercase %xx, unreserved literal, :S:L', async () => {
    const r = await fullScrape(f.http4, '/stats?mode=tpbs&format=url')
    assert.equal(r.body.toString('latin1'), rows.map((x) => `${urlEncode(x.hash)}:${x.s}:${x.l}\n`).join(''))
    assert.ok(r.body.toString('latin1').includes('0123456789abcdefghij:'), 'unreserved bytes stay literal')
    assert.ok(r.body.toString('latin1').startsWith('%00%00%00'), 'others are %xx')
  })

  test('44: statedump → HEX40:<minutes since epoch>:<downloaded>', async () => {
    const r = await fullScrape(f.http4, '/stats?mode=statedump')
    assertChunkedOk(r, 'text/plain')
    const minute = Math.floor(CLOCK_START / 60)
    assert.equal(r.body.toString('latin1'), rows.map((x) => `${HEX(x.hash)}:${minute}:${x.d}\n`).join(''))
  })

  test('42: Accept-Encoding gzip → Content-Encoding gzip; the data gunzips to the same body', async () => {
    const plain = expectedBen(rows)
    const r = await fullScrape(f.http4, '/scrape', { encoding: 'gzip' })
    assertChunkedOk(r, 'application/octet-stream')
    assert.equal(hdr(r, 'content-encoding'), 'gzip')
    assert.deepEqual(r.body, plain) // parseOpsReply gunzipped it
    assert.ok(r.wireBody.length < plain.length, 'compressed on the wire')
    assert.equal(hdr(r, 'vary'), 'Accept-Encoding')
  })

  test('Accept-Encoding zstd → Content-Encoding zstd', async () => {
    const r = await fullScrape(f.http4, '/scrape', { encoding: 'zstd' })
    assert.equal(hdr(r, 'content-encoding'), 'zstd')
    assert.deepEqual(r.body, expectedBen(rows))
  })

  test('q-values are honoured; zstd preferred on ties, then gzip, then identity', async () => {
    const cases: Array<[string, string | undefined]> = [
      ['gzip, zstd', 'zstd'],
      ['gzip, deflate, br, zstd', 'zstd'],
      ['zstd;q=0, gzip', 'gzip'],
      ['gzip;q=0.1, zstd;q=0.9', 'zstd'],
      ['gzip;q=0.9, zstd;q=0.1', 'gzip'],
      ['GZIP', 'gzip'],
      ['x-gzip', 'gzip'],
      ['identity', undefined],
      ['identity;q=1, gzip;q=0.5', undefined],
      ['gzip;q=0', undefined],
      ['deflate, br', undefined],
      ['*', 'zstd'],
      ['*;q=0, gzip;q=0.2', 'gzip'],
      ['', undefined],
      ['gzip;q=2', undefined] // an invalid weight: the element is ignored
    ]
    const plain = expectedBen(rows)
    for (const [accept, want] of cases) {
      const r = await fullScrape(f.http4, '/scrape', { encoding: accept })
      assert.equal(hdr(r, 'content-encoding'), want, `Accept-Encoding: ${accept}`)
      assert.deepEqual(r.body, plain, `Accept-Encoding: ${accept}`)
    }
  })

  test('compression applies to tpbs and statedump too', async () => {
    const r = await fullScrape(f.http4, '/stats?mode=tpbs&format=txt', { encoding: 'gzip' })
    assert.equal(hdr(r, 'content-encoding'), 'gzip')
    assert.equal(r.body.toString('latin1'), rows.map((x) => `${HEX(x.hash)}:${x.s}:${x.l}\n`).join(''))
    const z = await fullScrape(f.http4, '/stats?mode=statedump', { encoding: 'zstd;q=1' })
    assert.equal(hdr(z, 'content-encoding'), 'zstd')
    assert.equal(z.body.toString('latin1').split('\n').length, rows.length + 1)
  })

  test('gzip in the query string does not select gzip (opentracker\'s substring rule is not copied)', async () => {
    const r = await fullScrape(f.http4, '/stats?mode=tpbs&format=txt&x=gzip')
    assert.equal(hdr(r, 'content-encoding'), undefined)
  })

  test('HTTP/1.0 client → HTTP/1.0 200, close-delimited body without chunk framing', async () => {
    for (const encoding of [undefined, 'gzip', 'zstd']) {
      const r = await fullScrape(f.http4, '/scrape', { http11: false, ...(encoding === undefined ? {} : { encoding }) })
      assert.equal(r.statusLine, 'HTTP/1.0 200 OK')
      assert.equal(hdr(r, 'transfer-encoding'), undefined)
      assert.equal(hdr(r, 'content-length'), undefined)
      assert.equal(hdr(r, 'content-encoding'), encoding)
      assert.deepEqual(r.body, expectedBen(rows), `HTTP/1.0 with ${encoding ?? 'identity'}`)
    }
    const t = await fullScrape(f.http4, '/stats?mode=tpbs&format=txt', { http11: false })
    assert.equal(t.wireBody.toString('latin1'), rows.map((x) => `${HEX(x.hash)}:${x.s}:${x.l}\n`).join(''))
  })

  test('announces change what the next full scrape reports', async () => {
    const h = testHash(9999_000)
    await announce(f.http4, { infoHash: h, port: 7, left: 0, event: 'completed' })
    const r = await fullScrape(f.http4, '/scrape')
    const got = parseBenFullScrape(r.body)
    assert.equal(got.length, rows.length + 1)
    assert.deepEqual(got.find((x) => x.hash.equals(h)), { hash: h, complete: 1, downloaded: 1, incomplete: 0 })
    assertSortedUnique(got.map((x) => x.hash))
  })
})

describe('a larger full scrape', () => {
  test('20 000 torrents: many chunks, all sorted, each chunk at most 64 KiB', async () => {
    const f = await fresh()
    const rows = populate(f, Array.from({ length: 20_000 }, (_v, i) => testHash(100_000 + i)))
    const r = await fullScrape(f.http4, '/scrape')
    assert.ok(r.chunks!.length > 10, `${r.chunks!.length} chunks`)
    assert.ok(r.chunks!.every((n) => n > 0 && n <= 65536))
    assert.deepEqual(r.body, expectedBen(rows))
    const g = await fullScrape(f.http4, '/scrape', { encoding: 'gzip' })
    assert.deepEqual(g.body, r.body)
  })
})

describe('modest full scrapes: fullScrapeIntervalSeconds', () => {
  test('a second full scrape from one address → 429 with Retry-After; another address is served', async () => {
    const f = await fresh({ fullScrapeIntervalSeconds: 300, blessed: [{ net: '127.0.0.9', perms: MAY_FULLSCRAPE }, { net: '127.0.0.10', perms: MAY_STAT }] }, true)
    const ok = await fullScrape(f.http4, '/scrape', { localAddress: '127.0.0.1' })
    assert.equal(ok.status, 200)
    const limited = parseOpsReply(await sendRaw(f.http4, 'GET /scrape HTTP/1.1\r\n\r\n', { localAddress: '127.0.0.1' }))
    assert.equal(limited.statusLine, 'HTTP/1.1 429 Too Many Requests')
    assert.equal(hdr(limited, 'retry-after'), '300')
    assert.match(limited.body.toString(), /300/)
    // tpbs counts as a full scrape too
    const tpbs = await fullScrape(f.http4, '/stats?mode=tpbs&format=txt', { localAddress: '127.0.0.1' })
    assert.equal(tpbs.status, 429)
    // other addresses (IPv4 and IPv6) are not affected
    assert.equal((await fullScrape(f.http4, '/scrape', { localAddress: '127.0.0.2' })).status, 200)
    assert.equal((await fullScrape(f.http6, '/scrape')).status, 200)
    assert.equal((await fullScrape(f.http6, '/scrape')).status, 429)
    // ordinary requests are not limited
    assert.equal((await request(f.http4, '/stats?mode=torr', { localAddress: '127.0.0.1' })).status, 200)
    await announce(f.http4, { infoHash: testHash(42), port: 1 })
    // time passes: Retry-After shrinks, then the address may scrape again
    f.clock!.advance(100)
    const later = await fullScrape(f.http4, '/scrape', { localAddress: '127.0.0.1' })
    assert.equal(later.status, 429)
    assert.equal(hdr(later, 'retry-after'), '200')
    f.clock!.advance(200)
    assert.equal((await fullScrape(f.http4, '/scrape', { localAddress: '127.0.0.1' })).status, 200)
    assert.equal((await fullScrape(f.http4, '/scrape', { localAddress: '127.0.0.1' })).status, 429)
    // MAY_FULLSCRAPE is exempt; MAY_STAT alone is not
    for (let i = 0; i < 3; i++) assert.equal((await fullScrape(f.http4, '/scrape', { localAddress: '127.0.0.9' })).status, 200)
    assert.equal((await fullScrape(f.http4, '/scrape', { localAddress: '127.0.0.10' })).status, 200)
    assert.equal((await fullScrape(f.http4, '/scrape', { localAddress: '127.0.0.10' })).status, 429)
    const stats = await request(f.http4, '/stats?mode=fscr&format=json')
    const j = JSON.parse(stats.body.toString()) as { fullscrapes: number, limited: number }
    assert.equal(j.limited, 6)
    const herr = JSON.parse((await request(f.http4, '/stats?mode=herr&format=json')).body.toString()) as { errors: Record<string, number> }
    assert.equal(herr.errors['429'], 6, '429 replies counted once each')
  })

  test('without the option, full scrapes are unlimited', async () => {
    const f = await fresh()
    for (let i = 0; i < 5; i++) assert.equal((await fullScrape(f.http4, '/scrape')).status, 200)
  })
})
