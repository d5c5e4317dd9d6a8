import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { pino } from 'pino'
import {
  ENCODING_GZIP, ENCODING_IDENTITY, ENCODING_ZSTD, SCRAPE_FORMAT_BEN, SCRAPE_FORMAT_BIN, SCRAPE_FORMAT_STATEDUMP,
  SCRAPE_FORMAT_TXT, SCRAPE_FORMAT_TXTP, SCRAPE_FORMAT_URL, chooseEncodingText
} from '@otd/proto'
import { AccessLists } from '../../src/access/access-lists.js'
import { ManualClock } from '../../src/clock.js'
import { Counters } from '../../src/counters.js'
import { KIND_FULLSCRAPE, RateLimiter, perSecond } from '../../src/limits/rate-limit.js'
import { fullScrapeBody, fullScrapeResponseHead, scrapeRecords } from '../../src/fullscrape/stream.js'
import type { FullScrapeRequest } from '../../src/fullscrape/stream.js'
import { StatsContext } from '../../src/stats/context.js'
import { STATS_MODES, answerStats, parseStatsQuery, topTorrents } from '../../src/stats/stats.js'
import { SwarmStore } from '../../src/swarm/store.js'
import { announceKey, idOf, torrentOf } from '../helpers/store-view.js'

const limits = { peerTimeoutSeconds: 2700, torrentTimeoutSeconds: 86400 }
const key = (n: number): string => createHash('sha1').update(`u-${n}`).digest().toString('latin1')
const ip4 = (n: number): Uint32Array => new Uint32Array([0x0a000000 + n])

function ctx (): { store: SwarmStore, counters: Counters, stats: StatsContext } {
  const store = new SwarmStore(new ManualClock(), limits)
  const counters = new Counters()
  const access = new AccessLists('', '', pino({ level: 'silent' }))
  return { store, counters, stats: new StatsContext(store, counters, access, '9.9.9', () => 3) }
}

// ---- stats ----

test('parseStatsQuery: mode, format, info_hash; other parameters and bad escapes', () => {
  assert.deepEqual(parseStatsQuery(''), { mode: 'peer', format: '', hasInfoHash: false })
  assert.deepEqual(parseStatsQuery('mode=tpbs&format=txt&x=1'), { mode: 'tpbs', format: 'txt', hasInfoHash: false })
  assert.deepEqual(parseStatsQuery('info_hash'), { mode: 'peer', format: '', hasInfoHash: true })
  assert.deepEqual(parseStatsQuery('mode=%74orr'), { mode: 'torr', format: '', hasInfoHash: false })
  assert.equal(parseStatsQuery('mode=%zz').mode, '\u0000')
})

test('answerStats: every mode answers 200 (text and JSON); tpbs/statedump are full scrapes', () => {
  const { stats } = ctx()
  for (const mode of STATS_MODES) {
    for (const format of ['', 'json']) {
      const a = answerStats({ mode, format, hasInfoHash: false }, stats)
      if (mode === 'tpbs' || mode === 'statedump') {
        assert.equal(a.kind, 'fullscrape', mode)
        continue
      }
      assert.equal(a.kind, 'reply')
      if (a.kind !== 'reply') continue
      assert.equal(a.status, 200, `${mode} ${format}`)
      if (format === 'json') JSON.parse(a.body)
      else assert.ok(a.body.length > 0)
    }
  }
  const tp = answerStats({ mode: 'tpbs', format: '', hasInfoHash: false }, stats)
  assert.deepEqual(tp, { kind: 'fullscrape', format: SCRAPE_FORMAT_BEN, json: false })
  for (const [f, n] of [['txt', SCRAPE_FORMAT_TXT], ['txtp', SCRAPE_FORMAT_TXTP], ['bin', SCRAPE_FORMAT_BIN], ['url', SCRAPE_FORMAT_URL]] as const) {
    assert.deepEqual(answerStats({ mode: 'tpbs', format: f, hasInfoHash: false }, stats), { kind: 'fullscrape', format: n, json: false })
  }
  assert.deepEqual(answerStats({ mode: 'statedump', format: '', hasInfoHash: false }, stats), { kind: 'fullscrape', format: SCRAPE_FORMAT_STATEDUMP, json: false })
})

test('answerStats: 400 for unknown modes and formats and for info_hash', () => {
  const { stats } = ctx()
  const status = (mode: string, format = '', hasInfoHash = false): number => {
    const a = answerStats({ mode, format, hasInfoHash }, stats)
    return a.kind === 'reply' ? a.status : 200
  }
  assert.equal(status('bogus'), 400)
  assert.equal(status('peer', 'txt'), 400)
  assert.equal(status('tpbs', 'xml'), 400)
  assert.equal(status('statedump', 'ben'), 400)
  assert.equal(status('peer', '', true), 400)
  assert.equal(status('tpbs', 'txt', true), 400)
})

test('topTorrents: the n largest per kind, zero counts left out, ties in store order', () => {
  const { store, stats } = ctx()
  for (let i = 0; i < 15; i++) {
    for (let p = 0; p <= i; p++) announceKey(store, key(i), 4, ip4(p), 1, p % 2 === 0, false)
  }
  announceKey(store, key(100), 4, ip4(1), 1, false, false) // 1 leecher, 0 seeds
  const top = topTorrents(stats, 10)
  assert.deepEqual(top.peers.map((e) => e.count), [15, 14, 13, 12, 11, 10, 9, 8, 7, 6])
  assert.equal(top.peers[0]!.hash, Buffer.from(key(14), 'latin1').toString('hex').toUpperCase())
  assert.deepEqual(top.seeds.map((e) => e.count), [8, 7, 7, 6, 6, 5, 5, 4, 4, 3])
  assert.equal(top.seeds[1]!.hash, Buffer.from(key(12), 'latin1').toString('hex').toUpperCase(), 'ties keep store order')
  assert.deepEqual(top.leechers.map((e) => e.count), [7, 7, 6, 6, 5, 5, 4, 4, 3, 3])
  const small = topTorrents(stats, 100)
  assert.equal(small.peers.length, 16)
  assert.equal(small.seeds.length, 15, 'the torrent with no seeds is left out of seeds')
  assert.ok(small.seeds.every((e) => e.count > 0) && small.leechers.every((e) => e.count > 0))
  assert.equal(small.leechers.length, 15, 'key(0) has one seeder and no leecher')
})

test('renew histogram and herr rows', () => {
  const { store, counters, stats } = ctx()
  const clock = store.clock as ManualClock
  announceKey(store, key(1), 4, ip4(1), 1, false, false)
  clock.advance(60 * 7 + 3)
  announceKey(store, key(1), 4, ip4(1), 1, false, false)
  const r = answerStats({ mode: 'renew', format: '', hasInfoHash: false }, stats)
  assert.ok(r.kind === 'reply')
  const lines = r.body.split('\n')
  assert.equal(lines.length, 46)
  assert.equal(lines[7], '07 1')
  counters.httpError(403)
  counters.httpError(403)
  counters.httpError(500)
  const h = answerStats({ mode: 'herr', format: '', hasInfoHash: false }, stats)
  assert.ok(h.kind === 'reply')
  assert.equal(h.body, '302 RED 0\n400 ... 0\n400 PAR 0\n400 COM 0\n403 IP  2\n404 INV 0\n500 SRV 1\n')
})

// ---- full scrape limiter ----

test('full scrape limit: one per interval per address, Retry-After counts down, other addresses unaffected', () => {
  const none = perSecond(0, 1)
  const l = new RateLimiter({ announce: none, scrape: none, fullScrape: { secondsPerRequest: 300, burst: 1 }, slots: 1024, ipv6PrefixBits: 64 })
  const a = ip4(1)
  assert.equal(l.take(KIND_FULLSCRAPE, 4, a, 1000), 0)
  assert.equal(l.take(KIND_FULLSCRAPE, 4, a, 1000), 300)
  assert.equal(l.take(KIND_FULLSCRAPE, 4, a, 1100), 200)
  assert.equal(l.take(KIND_FULLSCRAPE, 4, a, 1299), 1)
  assert.equal(l.take(KIND_FULLSCRAPE, 4, a, 1300), 0)
  assert.equal(l.take(KIND_FULLSCRAPE, 4, ip4(2), 1301), 0)
  assert.equal(l.liveEntries(1301), 2)
  assert.equal(l.liveEntries(1600), 1)
  assert.equal(l.liveEntries(10_000), 0)
})

// ---- full scrape bodies ----

async function body (store: SwarmStore, format: number, json = false): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const b of fullScrapeBody(scrapeRecords(store), { format, json, encoding: ENCODING_IDENTITY, http11: true })) {
    assert.ok(b.length <= 64 * 1024)
    parts.push(Buffer.from(b))
  }
  return Buffer.concat(parts)
}

test('fullScrapeBody: sorted by raw bytes across buckets, every format', async () => {
  const { store } = ctx()
  const keys = [Buffer.alloc(20, 0xff), Buffer.alloc(20, 0), Buffer.from('a'.repeat(20)), Buffer.from('A'.repeat(20)), Buffer.from([0x80, ...Array<number>(19).fill(1)])]
  for (const [i, k] of keys.entries()) {
    announceKey(store, k.toString('latin1'), 4, ip4(1), 1, i % 2 === 0, i % 2 === 0)
    announceKey(store, k.toString('latin1'), 4, ip4(2), 2, false, false)
  }
  const sorted = [...keys].sort(Buffer.compare)
  const hex = (k: Buffer): string => k.toString('hex').toUpperCase()
  const counts = (k: Buffer): [number, number, number] => { const t = torrentOf(store, k.toString('latin1'))!; return [t.seeders, t.peers - t.seeders, t.downloaded] }
  assert.equal((await body(store, SCRAPE_FORMAT_TXTP)).toString(), sorted.map((k) => `${hex(k)}:${counts(k).join(':')}\n`).join(''))
  assert.equal((await body(store, SCRAPE_FORMAT_TXT)).toString(), sorted.map((k) => `${hex(k)}:${counts(k).slice(0, 2).join(':')}\n`).join(''))
  const bin = await body(store, SCRAPE_FORMAT_BIN)
  assert.equal(bin.length, 5 * 28)
  sorted.forEach((k, i) => assert.ok(bin.subarray(i * 28, i * 28 + 20).equals(k)))
  const ben = await body(store, SCRAPE_FORMAT_BEN)
  assert.ok(ben.subarray(0, 9).equals(Buffer.from('d5:filesd')))
  const j = JSON.parse((await body(store, SCRAPE_FORMAT_BEN, true)).toString()) as { files: Record<string, { complete: number }> }
  assert.deepEqual(Object.keys(j.files), sorted.map((k) => k.toString('hex')))
  const sd = JSON.parse((await body(store, SCRAPE_FORMAT_STATEDUMP, true)).toString()) as { torrents: Array<{ info_hash: string, base_minute: number }> }
  assert.equal(sd.torrents[0]!.base_minute, Math.floor(store.clock.seconds / 60))
  assert.deepEqual(JSON.parse((await body(new SwarmStore(new ManualClock(), limits), SCRAPE_FORMAT_BEN, true)).toString()), { files: {} })
})

test('fullScrapeBody: torrents removed while the scrape runs are skipped, never half-written', async () => {
  const { store } = ctx()
  const n = 20_000
  for (let i = 0; i < n; i++) announceKey(store, key(i), 4, ip4(1), 1, false, false)
  const parts: Buffer[] = []
  let removed = 0
  for await (const b of fullScrapeBody(scrapeRecords(store), { format: SCRAPE_FORMAT_TXT, json: false, encoding: ENCODING_IDENTITY, http11: true })) {
    parts.push(Buffer.from(b))
    if (removed === 0) {
      for (let i = 0; i < n; i += 2) { store.dropTorrent(idOf(store, key(i))); removed++ }
    }
  }
  const lines = Buffer.concat(parts).toString().split('\n').filter((x) => x !== '')
  assert.ok(lines.length < n && lines.length >= n - removed, `${lines.length} lines`)
  assert.ok(lines.every((x) => /^[0-9A-F]{40}:0:1$/.test(x)))
  const hashes = lines.map((x) => x.slice(0, 40))
  assert.deepEqual(hashes, [...hashes].sort(), 'still sorted')
  assert.equal(new Set(hashes).size, hashes.length)
})

test('fullScrapeResponseHead: framing per HTTP version, type per format, encoding header', () => {
  const head = (r: Partial<FullScrapeRequest>): string => fullScrapeResponseHead({ format: SCRAPE_FORMAT_BEN, json: false, encoding: ENCODING_IDENTITY, http11: true, ...r }).toString()
  assert.equal(head({}), 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nVary: Accept-Encoding\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n')
  assert.equal(head({ http11: false, encoding: ENCODING_GZIP, format: SCRAPE_FORMAT_TXT }), 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\nConnection: close\r\n\r\n')
  assert.match(head({ encoding: ENCODING_ZSTD, json: true }), /Content-Type: application\/json\r\nContent-Encoding: zstd\r\n/)
})

test('Accept-Encoding negotiation (as the full scrape uses it)', () => {
  const cases: Array<[string | undefined, number]> = [
    [undefined, ENCODING_IDENTITY], ['gzip', ENCODING_GZIP], ['zstd', ENCODING_ZSTD], ['gzip, zstd', ENCODING_ZSTD],
    ['zstd;q=0, gzip', ENCODING_GZIP], ['gzip;q=0.1, zstd;q=0.9', ENCODING_ZSTD], ['gzip;q=0.9, zstd;q=0.1', ENCODING_GZIP],
    ['identity', ENCODING_IDENTITY], ['gzip;q=0.5, identity', ENCODING_IDENTITY], ['*', ENCODING_ZSTD], ['identity;q=0', ENCODING_IDENTITY],
    ['gzip ; q=0.5', ENCODING_GZIP], ['gzip;q=1.0', ENCODING_GZIP], ['gzip;q=1.5', ENCODING_IDENTITY], ['gzip;q=0.0001', ENCODING_IDENTITY]
  ]
  for (const [value, want] of cases) assert.equal(chooseEncodingText(value), want, `Accept-Encoding: ${value}`)
  assert.equal(chooseEncodingText('zstd', false), ENCODING_IDENTITY)
})
