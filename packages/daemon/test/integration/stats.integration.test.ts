// /stats through real sockets (reference §6, checklist §13.6 items 45-52, §13.1 item 12):
// exact text bodies of every mode after known traffic, format=json for every mode, errors,
// access.stats_path and access.stats (restricted to blessed addresses).

import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { MAY_ADMIN, MAY_STAT } from '../../src/config.js'
import { STATS_MODES } from '../../src/stats/stats.js'
import { trackerPool } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { REPLY_404, exchange, pctAll } from '../helpers/http-raw.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { getText, hdr, parseBenFullScrape, request, sendRaw } from '../helpers/ops-http.js'
import { announce, scrape, testHash } from '../helpers/tracker-client.js'
import { UdpClient } from '../helpers/udp-raw.js'

const REPLY_403 = 'HTTP/1.0 403 Access Denied\r\nContent-Type: text/html\r\nContent-Length: 29\r\n\r\n<title>Access Denied</title>\n'

const fresh = trackerPool()

const hex = (h: Buffer): string => h.toString('hex').toUpperCase()

/** Splits an MRTG body into its numbers and uptime; asserts the `<t> seconds (<h> hours)` line. */
function uptimeOf (body: string): number {
  const m = /^[^\n]*\n[^\n]*\n(\d+) seconds \((\d+) hours\)\n/.exec(body)
  assert.ok(m, `MRTG body shape: ${JSON.stringify(body)}`)
  const t = Number(m[1])
  assert.equal(Number(m[2]), Math.floor(t / 3600))
  assert.ok(t < 600, `uptime ${t} s of a tracker started by this test`)
  return t
}

const rate = (n: number, t: number): number => t > 0 ? Math.floor(n / t) : n
const mrtg = (a: number, b: number, t: number, label: string): string => `${a}\n${b}\n${t} seconds (${Math.floor(t / 3600)} hours)\n${label}`

async function stat (ep: Endpoint, query: string): Promise<string> {
  const r = await request(ep, `/stats${query}`)
  assert.equal(r.status, 200, `/stats${query}: ${r.raw.subarray(0, 200).toString('latin1')}`)
  assert.equal(hdr(r, 'content-type'), 'text/plain')
  return r.body.toString('utf8')
}

describe('§6 text modes after known traffic (exact bodies)', () => {
  let f: Fixture
  const hA = testHash(7001)
  const hB = testHash(7002)
  /** TCP connections made to the tracker so far (each is one accept). */
  let accepts = 0
  before(async () => {
    f = await fresh()
    await announce(f.http4, { infoHash: hA, port: 1, left: 0, event: 'completed' }) // seeder, downloaded 1
    await announce(f.http4, { infoHash: hA, port: 2 })
    await announce(f.http6, { infoHash: hB, port: 3 })
    const u = await UdpClient.open(f.udp4)
    const id = await u.connect()
    await u.announce({ connId: id, infoHash: hB, port: 4 })
    await u.scrape([hA], id)
    u.close()
    await scrape(f.http4, [hA])
    accepts = 4
  })

  const counted = async (query: string): Promise<string> => { accepts++; return await stat(f.http4, query) }

  test('45: /stats (peer) → <peers>\\n<seeds>\\nopentracker serving <n> torrents\\nopentracker, no trailing newline', async () => {
    assert.equal(await counted(''), '4\n1\nopentracker serving 2 torrents\nopentracker')
    assert.equal(await counted('?mode=peer'), '4\n1\nopentracker serving 2 torrents\nopentracker')
  })

  test('46: torr → <n>\\n0\\nopentracker serving <n> torrents\\nopentracker', async () => {
    assert.equal(await counted('?mode=torr'), '2\n0\nopentracker serving 2 torrents\nopentracker')
  })

  test('conn: tcp accepts + udp packets, tcp announces + udp announces + udp connects', async () => {
    const body = await counted('?mode=conn')
    const t = uptimeOf(body)
    const a = accepts + 3
    const b = 3 + 1 + 1
    assert.equal(body, mrtg(a, b, t, `opentracker connections, ${rate(a, t)} conns/s :: ${rate(b, t)} success/s.`))
  })

  test('udp4: udp packets, udp announces + connects', async () => {
    const body = await counted('?mode=udp4')
    const t = uptimeOf(body)
    assert.equal(body, mrtg(3, 2, t, `opentracker udp4 stats, ${rate(3, t)} conns/s :: ${rate(2, t)} success/s.`))
  })

  test('tcp4: tcp accepts (counted once each), tcp announces', async () => {
    const body = await counted('?mode=tcp4')
    const t = uptimeOf(body)
    assert.equal(body, mrtg(accepts, 3, t, `opentracker tcp4 stats, ${rate(accepts, t)} conns/s :: ${rate(3, t)} success/s.`))
  })

  test('scrp: tcp scrapes, udp scrapes', async () => {
    const body = await counted('?mode=scrp')
    const t = uptimeOf(body)
    assert.equal(body, mrtg(1, 1, t, `opentracker scrape stats, ${rate(2, t)} scrape/s (tcp and udp)`))
  })

  test('completed: completed events', async () => {
    const body = await counted('?mode=completed')
    const t = uptimeOf(body)
    assert.equal(body, mrtg(1, 0, t, `opentracker, ${t > 0 ? Math.floor(3600 / t) : 1} completed/h.`))
  })

  test('syncs: nothing received', async () => {
    const body = await counted('?mode=syncs')
    const t = uptimeOf(body)
    assert.equal(body, mrtg(0, 0, t, 'opentracker connections, 0 conns/s :: 0 success/s.'))
  })

  test('fscr counts full scrapes ×1000 and their bytes (otd counts them; opentracker stopped in 2015)', async () => {
    const before = await counted('?mode=fscr')
    assert.equal(before, mrtg(0, 0, uptimeOf(before), 'opentracker full scrape stats, 0 conns/s :: 0 bytes/s.'))
    const r = await request(f.http4, '/scrape', { http11: true })
    accepts++
    assert.equal(r.status, 200)
    const size = r.body.length
    assert.equal(parseBenFullScrape(r.body).length, 2)
    const body = await counted('?mode=fscr')
    const t = uptimeOf(body)
    assert.equal(body, mrtg(1000, size, t, `opentracker full scrape stats, ${rate(1, t)} conns/s :: ${rate(size, t)} bytes/s.`))
  })

  test('version → a non-empty line naming otd', async () => {
    const body = await counted('?mode=version')
    assert.match(body, /^otd \S+\n$/)
  })

  test('busy → 200 with a load report (opentracker: 500)', async () => {
    const r = await request(f.http4, '/stats?mode=busy')
    accepts++
    assert.equal(r.statusLine, 'HTTP/1.1 200 OK')
    assert.match(r.body.toString(), /^\d+\n\d+\n\d+ seconds \(\d+ hours\)\notd event loop [\d.]+% busy, \d+ ms p99 delay$/)
  })
})

describe('§6 herr, renew, top10/top100, everything', () => {
  test('herr: 7 lines, labels aligned with their counts', async () => {
    const f = await fresh({ redirectUrl: 'http://example.com/' })
    await exchange(f.http4, 'GET / HTTP/1.0\r\n\r\n') // 302
    await exchange(f.http4, 'GET /foo HTTP/1.0\r\n\r\n') // 404
    await exchange(f.http4, 'GET /announce HTTP/1.0\r\n\r\n') // 400
    await exchange(f.http4, 'POST /announce?x HTTP/1.0\r\n\r\n') // 400
    assert.equal((await request(f.http4, '/stats?mode=bogus')).status, 400)
    assert.equal((await request(f.http4, '/sync')).status, 403) // unblessed
    const big = await sendRaw(f.http4, `GET /announce?info_hash=x HTTP/1.0\r\nX-Pad: ${'a'.repeat(9000)}\r\n\r\n`)
    assert.match(big.toString('latin1'), /^HTTP\/1\.0 500 /)
    assert.equal(await stat(f.http4, '?mode=herr'), '302 RED 1\n400 ... 3\n400 PAR 0\n400 COM 0\n403 IP  1\n404 INV 1\n500 SRV 1\n')
  })

  test('51: renew → 45 lines `NN n`, a histogram of minutes since the previous announce', async () => {
    const f = await fresh({}, true)
    const h = testHash(7100)
    await announce(f.http4, { infoHash: h, port: 10 })
    await announce(f.http4, { infoHash: h, port: 11 })
    f.clock!.advance(3 * 60 + 5)
    await announce(f.http4, { infoHash: h, port: 10 }) // 3 minutes
    await announce(f.http4, { infoHash: h, port: 10 }) // 0 minutes
    f.clock!.advance(44 * 60)
    await announce(f.http4, { infoHash: h, port: 10 }) // 44 minutes
    await announce(f.http4, { infoHash: h, port: 11 }) // 47 minutes: out of the histogram
    const expected = Array.from({ length: 45 }, (_, i) => `${String(i).padStart(2, '0')} ${i === 0 || i === 3 || i === 44 ? 1 : 0}\n`).join('')
    assert.equal(await stat(f.http4, '?mode=renew'), expected)
  })

  test('48: top10 / top100 → peers, seeds, leechers sections, uppercase hex, count 0 omitted', async () => {
    const f = await fresh()
    const [t1, t2, t3] = [testHash(7201), testHash(7202), testHash(7203)]
    for (let p = 0; p < 3; p++) await announce(f.http4, { infoHash: t1, port: 100 + p })
    await announce(f.http4, { infoHash: t1, port: 110, left: 0 })
    for (let p = 0; p < 3; p++) await announce(f.http4, { infoHash: t2, port: 200 + p, left: 0 })
    await announce(f.http4, { infoHash: t3, port: 300 })
    await announce(f.http6, { infoHash: t3, port: 301 })
    for (const n of [10, 100]) {
      assert.equal(await stat(f.http4, `?mode=top${n}`),
        `Top ${n} torrents by peers:\n\t4\t${hex(t1)}\n\t3\t${hex(t2)}\n\t2\t${hex(t3)}\n` +
        `Top ${n} torrents by seeds:\n\t3\t${hex(t2)}\n\t1\t${hex(t1)}\n` +
        `Top ${n} torrents by leechers:\n\t3\t${hex(t1)}\n\t2\t${hex(t3)}\n`)
    }
  })

  test('top10 keeps the ten largest of more than ten torrents', async () => {
    const f = await fresh()
    const u = await UdpClient.open(f.udp4)
    const id = await u.connect()
    const hashes = Array.from({ length: 12 }, (_, i) => testHash(7300 + i))
    for (const [i, h] of hashes.entries()) {
      for (let p = 0; p <= i; p++) await u.announce({ connId: id, infoHash: h, port: 1000 + p, left: 0n })
    }
    u.close()
    const body = await stat(f.http4, '?mode=top10')
    const peers = body.split('Top 10 torrents by seeds:\n')[0]!
    assert.equal(peers, 'Top 10 torrents by peers:\n' + hashes.slice(2).reverse().map((h, k) => `\t${12 - k}\t${hex(h)}\n`).join(''))
    assert.ok(body.endsWith('Top 10 torrents by leechers:\n'), 'no leechers: an empty section')
  })

  test('49: everything → XML per §6.2: declaration, 2-space indentation, no trailing newline', async () => {
    const f = await fresh()
    await announce(f.http4, { infoHash: testHash(7400), port: 1, left: 0 })
    await announce(f.http6, { infoHash: testHash(7400), port: 2 })
    const xml = await stat(f.http4, '?mode=everything')
    assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<stats>\n'), xml.slice(0, 80))
    assert.ok(xml.endsWith('</stats>'), 'ends with </stats>, no trailing newline')
    assert.ok(xml.includes('<peers>\n    <count>2</count>'))
    assert.ok(xml.includes('<seeds>\n    <count>1</count>'))
    const paths = checkXml(xml)
    for (const p of ['stats/tracker_id', 'stats/version', 'stats/uptime', 'stats/torrents/count_mutex', 'stats/torrents/count_iterator',
      'stats/peers/count', 'stats/seeds/count', 'stats/completed/count',
      'stats/connections/tcp/accept', 'stats/connections/tcp/announce', 'stats/connections/tcp/scrape',
      'stats/connections/udp/overall', 'stats/connections/udp/connect', 'stats/connections/udp/announce', 'stats/connections/udp/scrape',
      'stats/connections/udp/missmatch', 'stats/connections/livesync/count',
      'stats/debug/renew/count', 'stats/debug/http_error/count', 'stats/debug/mutex_stall/count']) {
      assert.ok(paths.has(p), `element ${p} present`)
    }
    assert.equal(paths.get('stats/debug/renew/count'), 45)
    assert.match(xml, /<torrents>\n {4}<count_mutex>1<\/count_mutex>\n {4}<count_iterator>1<\/count_iterator>\n {2}<\/torrents>/)
    assert.match(xml, /<tcp>\n {6}<accept>3<\/accept>\n {6}<announce>2<\/announce>\n/)
    assert.match(xml, /<version>\n[^<\n]+\n {2}<\/version>/)
  })
})

/**
 * A small checker for the XML opentracker writes: one element per line (opening, closing or
 * `<x>value</x>`), or a raw text line; nesting balanced; indentation 2 spaces per level.
 * Returns element paths with their counts.
 */
function checkXml (xml: string): Map<string, number> {
  const lines = xml.split('\n')
  assert.equal(lines.shift(), '<?xml version="1.0" encoding="UTF-8"?>')
  const stack: string[] = []
  const paths = new Map<string, number>()
  const seen = (name: string): void => {
    const p = [...stack, name].join('/')
    paths.set(p, (paths.get(p) ?? 0) + 1)
  }
  for (const line of lines) {
    const indent = /^ */.exec(line)![0].length
    const s = line.slice(indent)
    let m: RegExpExecArray | null
    if ((m = /^<\/([a-z_]+)>$/.exec(s)) !== null) {
      assert.equal(stack.pop(), m[1], `closing tag ${m[1]} matches`)
      assert.equal(indent, stack.length * 2, `indentation of ${JSON.stringify(line)}`)
    } else if ((m = /^<([a-z_]+)(?: [a-z]+="[^"]*")?>[^<]*<\/([a-z_]+)>$/.exec(s)) !== null) {
      assert.equal(m[1], m[2], `element ${line}`)
      assert.equal(indent, stack.length * 2, `indentation of ${JSON.stringify(line)}`)
      seen(m[1]!)
    } else if ((m = /^<([a-z_]+)>$/.exec(s)) !== null) {
      assert.equal(indent, stack.length * 2, `indentation of ${JSON.stringify(line)}`)
      seen(m[1]!)
      stack.push(m[1]!)
    } else {
      assert.ok(!s.includes('<'), `raw text line ${JSON.stringify(line)}`)
      assert.equal(stack[stack.length - 1], 'version', 'raw text only inside <version>')
    }
  }
  assert.deepEqual(stack, [], 'every element closed')
  return paths
}

describe('format=json, errors', () => {
  let f: Fixture
  before(async () => {
    f = await fresh()
    await announce(f.http4, { infoHash: testHash(7500), port: 1, left: 0, event: 'completed' })
    await announce(f.http6, { infoHash: testHash(7500), port: 2 })
    await announce(f.http4, { infoHash: testHash(7501), port: 3 })
  })

  test('every mode answers valid JSON with format=json', async () => {
    assert.ok(STATS_MODES.length >= 18)
    for (const mode of STATS_MODES) {
      const r = await request(f.http4, `/stats?mode=${mode}&format=json`, { http11: true })
      assert.equal(r.status, 200, `mode ${mode}`)
      assert.equal(hdr(r, 'content-type'), 'application/json', `mode ${mode}`)
      const v = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>
      assert.equal(typeof v, 'object', `mode ${mode}`)
    }
  })

  test('json values match the tracker', async () => {
    const peer = JSON.parse(await getText(f.http4, '/stats?format=json')) as Record<string, number>
    assert.deepEqual({ ...peer }, { mode: 'peer', peers: 3, peers_ipv4: 2, peers_ipv6: 1, seeds: 1, leechers: 2, torrents: 2 })
    const top = JSON.parse(await getText(f.http4, '/stats?mode=top10&format=json')) as { peers: Array<{ hash: string, count: number }> }
    assert.deepEqual(top.peers, [{ hash: hex(testHash(7500)), count: 2 }, { hash: hex(testHash(7501)), count: 1 }])
    const r = await request(f.http4, '/stats?mode=tpbs&format=json', { http11: true })
    const files = (JSON.parse(r.body.toString()) as { files: Record<string, unknown> }).files
    assert.deepEqual(files[testHash(7500).toString('hex')], { complete: 1, downloaded: 1, incomplete: 1 })
    assert.deepEqual(Object.keys(files), [testHash(7500), testHash(7501)].sort(Buffer.compare).map((h) => h.toString('hex')))
    const sd = JSON.parse((await request(f.http4, '/stats?mode=statedump&format=json')).body.toString()) as { torrents: Array<{ info_hash: string, downloaded: number }> }
    assert.equal(sd.torrents.length, 2)
  })

  test('47: unknown mode → 400; a format outside tpbs → 400; unknown tpbs format → 400', async () => {
    for (const q of ['?mode=bogus', '?mode=', '?mode=PEER', '?mode=peer&format=txt', '?mode=tpbs&format=xml', '?mode=statedump&format=txt']) {
      const r = await request(f.http4, `/stats${q}`)
      assert.equal(r.status, 400, q)
      assert.match(r.statusLine, /^HTTP\/1\.[01] 400 /)
    }
  })

  test('47: an info_hash on the stats path → 400 (a torrent using the stats URL as announce URL)', async () => {
    for (const q of ['?info_hash=x', `?info_hash=${pctAll(testHash(1))}&port=1`, '?mode=torr&info_hash=', '?mode=tpbs&format=txt&info_hash=1']) {
      assert.equal((await request(f.http4, `/stats${q}`)).status, 400, q)
    }
  })

  test('other parameters are skipped', async () => {
    assert.equal(await getText(f.http4, '/stats?mode=torr&foo=bar&&x'), '2\n0\nopentracker serving 2 torrents\nopentracker')
  })

  test('HTTP/1.1 keep-alive: stats replies keep the connection usable', async () => {
    const raw = await sendRaw(f.http4, 'GET /stats?mode=torr HTTP/1.1\r\n\r\nGET /stats HTTP/1.1\r\nConnection: close\r\n\r\n')
    const text = raw.toString('latin1')
    assert.equal(text.split('HTTP/1.1 200 OK').length - 1, 2, text)
    assert.ok(text.endsWith('3\n1\nopentracker serving 2 torrents\nopentracker'))
  })
})

describe('12: access.stats_path moves the stats page', () => {
  test('statsPath mystats: /mystats answers, /stats is 404', async () => {
    const f = await fresh({ statsPath: 'mystats' })
    await announce(f.http4, { infoHash: testHash(7600), port: 1 })
    assert.equal(await getText(f.http4, '/mystats?mode=torr'), '1\n0\nopentracker serving 1 torrents\nopentracker')
    assert.equal(await getText(f.http4, '/mystats'), '1\n0\nopentracker serving 1 torrents\nopentracker')
    const old = await exchange(f.http4, 'GET /stats?mode=torr HTTP/1.0\r\n\r\n')
    assert.equal(old.raw.toString('latin1'), REPLY_404)
    const tpbs = await request(f.http4, '/mystats?mode=tpbs&format=txt', { http11: true })
    assert.equal(tpbs.body.toString(), `${hex(testHash(7600))}:0:1\n`)
    assert.equal((await request(f.http4, '/mystats?info_hash=x')).status, 400)
  })

  test('a nested stats path', async () => {
    const f = await fresh({ statsPath: 'ops/s' })
    assert.equal(await getText(f.http4, '/ops/s?mode=torr'), '0\n0\nopentracker serving 0 torrents\nopentracker')
    assert.equal((await request(f.http4, '/stats?mode=torr')).status, 404)
  })
})

describe('52: access.stats restricts stats to blessed addresses', () => {
  let f: Fixture
  before(async () => {
    f = await fresh({
      statsRestricted: true,
      blessed: [{ net: '127.0.0.2', perms: MAY_STAT }, { net: '127.0.0.3', perms: MAY_ADMIN }, { net: '127.0.0.16/28', perms: MAY_STAT }, { net: '::1', perms: MAY_STAT }]
    })
    await announce(f.http4, { infoHash: testHash(7700), port: 1 })
  })

  test('unblessed → exactly HTTP/1.0 403 Access Denied, for every mode', async () => {
    for (const mode of STATS_MODES) {
      for (const from of ['127.0.0.1', '127.0.0.3', '127.0.0.32']) {
        const raw = await sendRaw(f.http4, `GET /stats?mode=${mode} HTTP/1.0\r\n\r\n`, { localAddress: from })
        assert.equal(raw.toString('latin1'), REPLY_403, `mode ${mode} from ${from}`)
      }
    }
  })

  test('blessed (address, network, IPv6) → 200', async () => {
    for (const from of ['127.0.0.2', '127.0.0.17', '127.0.0.31']) {
      assert.equal(await getText(f.http4, '/stats?mode=torr', { localAddress: from }), '1\n0\nopentracker serving 1 torrents\nopentracker')
    }
    assert.equal(await getText(f.http6, '/stats?mode=torr'), '1\n0\nopentracker serving 1 torrents\nopentracker')
    const r = await request(f.http4, '/stats?mode=tpbs&format=txt', { localAddress: '127.0.0.2', http11: true })
    assert.equal(r.body.toString(), `${hex(testHash(7700))}:0:1\n`)
  })

  test('the plain /scrape full scrape stays public; announces are unaffected', async () => {
    const r = await request(f.http4, '/scrape', { http11: true })
    assert.equal(r.status, 200)
    assert.equal(parseBenFullScrape(r.body).length, 1)
    await announce(f.http4, { infoHash: testHash(7700), port: 2 })
  })
})
