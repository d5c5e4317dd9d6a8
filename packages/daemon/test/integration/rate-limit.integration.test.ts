// Per-address rate limits through real sockets: a flood from one address is limited while other
// addresses keep getting normal replies; limited requests never reach the store; UDP limited
// replies go only to proven sources and are never larger than the request; the counts show in
// /metrics and /stats; and with the defaults nothing is limited.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MAY_PROXY } from '../../src/config.js'
import { FAILURE_RATE_LIMITED } from '../../src/limits/rate-limit.js'
import { trackerPool } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { connectFrom } from '../helpers/http-from.js'
import type { Endpoint, RawConnection } from '../helpers/http-raw.js'
import { getText, request } from '../helpers/ops-http.js'
import { announceTarget, parseAnnounce, scrapeTarget, testHash } from '../helpers/tracker-client.js'
import {
  ACTION_ANNOUNCE, ACTION_ERROR, UdpClient, announcePacket, freshTxid, parseAnnounceReply, scrapePacket
} from '../helpers/udp-raw.js'

const fresh = trackerPool()
const LIMITED_TEXT = 'rate limited, retry later'

/** `name{labels} value` of the Prometheus text, or undefined. */
function sample (metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function metrics (f: Fixture): Promise<string> {
  return getText(f.http4, '/metrics')
}

function udpClient (ep: Endpoint, localAddress?: string): Promise<UdpClient> {
  return UdpClient.open(ep, localAddress)
}

/** One UDP announce with a fresh txid; resolves with the raw reply. */
async function udpAnnounceRaw (c: UdpClient, connId: Buffer, hash: Buffer, port = 6881): Promise<{ sent: Buffer, reply: Buffer }> {
  const sent = announcePacket({ connId, txid: freshTxid(), infoHash: hash, port })
  const reply = await c.request(sent)
  return { sent, reply }
}

function isLimitedError (reply: Buffer, sent: Buffer): boolean {
  if (reply.readUInt32BE(0) !== ACTION_ERROR) return false
  assert.equal(reply.readUInt32BE(4), sent.readUInt32BE(12), 'the error carries the request txid')
  assert.equal(reply.subarray(8).toString('latin1'), LIMITED_TEXT)
  assert.equal(reply.length, 33)
  assert.ok(reply.length <= sent.length, `a ${reply.length}-byte reply to a ${sent.length}-byte request`)
  return true
}

/** A keep-alive HTTP/1.1 GET on an open connection. */
async function get (conn: RawConnection, target: string, headers: string[] = []): Promise<Awaited<ReturnType<RawConnection['readResponse']>>> {
  await conn.write([`GET ${target} HTTP/1.1`, 'Host: otd.test', ...headers].join('\r\n') + '\r\n\r\n')
  return conn.readResponse()
}

describe('UDP', () => {
  test('a flood from one address is limited to burst + rate; another address keeps normal replies meanwhile', async () => {
    const f = await fresh({ announceRatePerSecond: 50, announceBurst: 100 })
    const flooder = await udpClient(f.udp4, '127.0.0.1')
    const other = await udpClient(f.udp4, '127.0.0.2')
    const v6 = await udpClient(f.udp6)
    try {
      const id = await flooder.connect()
      const otherId = await other.connect()
      const v6Id = await v6.connect()
      const started = Date.now()
      let ok = 0
      let limited = 0
      for (let i = 0; i < 2000; i++) {
        const { sent, reply } = await udpAnnounceRaw(flooder, id, testHash(810_000 + i))
        if (isLimitedError(reply, sent)) limited++
        else { assert.equal(reply.readUInt32BE(0), ACTION_ANNOUNCE); ok++ }
        if (i % 100 === 99) {
          // The other addresses are served normally in the middle of the flood.
          const r = await udpAnnounceRaw(other, otherId, testHash(819_000), 7000 + i)
          parseAnnounceReply(r.reply, 'IPv4')
          parseAnnounceReply((await udpAnnounceRaw(v6, v6Id, testHash(819_000), 7000 + i)).reply, 'IPv6')
          // Connects are never limited (their source is unproven).
          assert.equal((await flooder.connect()).length, 8)
        }
      }
      const seconds = Math.ceil((Date.now() - started) / 1000) + 1
      assert.ok(ok >= 100, `${ok} announces answered: at least the burst`)
      assert.ok(ok <= 100 + 50 * seconds, `${ok} announces answered in ${seconds} s: at most burst + rate × time`)
      assert.equal(ok + limited, 2000)
      // Limited announces never reached the store: one torrent per answered announce, plus the others' one.
      const s = JSON.parse((await request(f.http4, '/stats?mode=torr&format=json')).body.toString()) as { torrents: number }
      assert.equal(s.torrents, ok + 1)
      const m = await metrics(f)
      assert.equal(sample(m, 'otd_rate_limited_total{protocol="udp",kind="announce"}'), limited)
      assert.equal(sample(m, 'otd_rate_limited_total{protocol="udp",kind="scrape"}'), 0)
      assert.equal(sample(m, 'otd_rate_limited_total{protocol="http",kind="announce"}'), 0)
      assert.equal(sample(m, 'otd_rate_limit_table_evictions_total'), 0)
      assert.ok((sample(m, 'otd_rate_limit_table_entries') ?? 0) >= 1)
      const everything = JSON.parse((await request(f.http4, '/stats?mode=everything&format=json')).body.toString()) as { rate_limited: unknown }
      assert.deepEqual(everything.rate_limited, { http: { announce: 0, scrape: 0, fullscrape: 0 }, udp: { announce: limited, scrape: 0 } })
    } finally {
      flooder.close(); other.close(); v6.close()
    }
  })

  test('packets with a wrong connection id get only the id error and spend no tokens', async () => {
    const f = await fresh({ announceRatePerSecond: 1, announceBurst: 5, scrapeRatePerSecond: 1, scrapeBurst: 5 }, true)
    const c = await udpClient(f.udp4, '127.0.0.3')
    try {
      const forged = Buffer.from('0123456789abcdef', 'hex')
      for (let i = 0; i < 50; i++) {
        const sent = announcePacket({ connId: forged, txid: freshTxid(), infoHash: testHash(820_000), port: 1 })
        const reply = await c.request(sent)
        assert.equal(reply.readUInt32BE(0), ACTION_ERROR)
        assert.equal(reply.subarray(8).toString('latin1'), 'Connection ID missmatch.\0')
        assert.ok(reply.length <= sent.length)
      }
      // A forged-id scrape without hashes is 16 bytes: too short for any error, so nothing comes back.
      assert.deepEqual(await c.sendExpectNothing(scrapePacket(forged, freshTxid(), [])), [])
      const id = await c.connect()
      let ok = 0
      for (let i = 0; i < 5; i++) {
        const r = await udpAnnounceRaw(c, id, testHash(820_001))
        if (!isLimitedError(r.reply, r.sent)) ok++
      }
      assert.equal(ok, 5, 'the whole burst is still there')
      const { sent, reply } = await udpAnnounceRaw(c, id, testHash(820_001))
      assert.ok(isLimitedError(reply, sent))
      const m = await metrics(f)
      assert.equal(sample(m, 'otd_rate_limited_total{protocol="udp",kind="announce"}'), 1)
      assert.equal(sample(m, 'otd_udp_errors_total{kind="bad_connection_id"}'), 51)
    } finally {
      c.close()
    }
  })

  test('scrapes have their own bucket; a limited 16-byte scrape gets no reply at all', async () => {
    const f = await fresh({ scrapeRatePerSecond: 1, scrapeBurst: 2 }, true)
    const c = await udpClient(f.udp4)
    try {
      const id = await c.connect()
      for (let i = 0; i < 2; i++) assert.equal((await c.scrape([testHash(830_000)], id)).length, 1)
      const sent = scrapePacket(id, freshTxid(), [testHash(830_000)])
      assert.ok(isLimitedError(await c.request(sent), sent))
      assert.deepEqual(await c.sendExpectNothing(scrapePacket(id, freshTxid(), [])), [], 'the 33-byte error would exceed the request')
      // Announces are not limited here.
      for (let i = 0; i < 20; i++) await c.announce({ connId: id, infoHash: testHash(830_001), port: 9 })
      f.clock!.advance(1)
      assert.equal((await c.scrape([testHash(830_000)], id)).length, 1, 'a second later, one more')
      assert.equal(sample(await metrics(f), 'otd_rate_limited_total{protocol="udp",kind="scrape"}'), 2)
    } finally {
      c.close()
    }
  })
})

describe('HTTP', () => {
  test('over the limit: 200 with a bencoded failure, the connection stays open, the store is untouched', async () => {
    const f = await fresh({ announceRatePerSecond: 1, announceBurst: 3, scrapeRatePerSecond: 1, scrapeBurst: 2 }, true)
    const conn = await connectFrom(f.http4, '127.0.0.1')
    const other = await connectFrom(f.http4, '127.0.0.2')
    try {
      for (let i = 0; i < 3; i++) parseAnnounce(await get(conn, announceTarget({ infoHash: testHash(840_000), port: 1000 + i, left: 1 })))
      for (let i = 0; i < 5; i++) {
        const r = await get(conn, announceTarget({ infoHash: testHash(840_100 + i), port: 2000, left: 1 }))
        assert.equal(r.statusLine, 'HTTP/1.1 200 OK')
        assert.deepEqual(r.body, FAILURE_RATE_LIMITED)
        assert.equal(r.body.toString('latin1'), 'd14:failure reason25:rate limited, retry later8:retry ini1ee')
      }
      assert.equal(conn.closed, false, 'keep-alive survives a limited reply')
      // Another address is served, sees the peers of the allowed announces, and none of the limited ones exist.
      const seen = parseAnnounce(await get(other, announceTarget({ infoHash: testHash(840_000), port: 3000, left: 1 })))
      assert.equal(seen.incomplete, 4)
      const scraped = await get(other, scrapeTarget([testHash(840_100), testHash(840_104)]))
      assert.equal(scraped.body.toString('latin1'), 'd5:filesdee')
      // Scrapes: own bucket.
      const third = await get(conn, scrapeTarget([testHash(840_000)]))
      assert.notDeepEqual(third.body, FAILURE_RATE_LIMITED)
      await get(conn, scrapeTarget([testHash(840_000)]))
      assert.deepEqual((await get(conn, scrapeTarget([testHash(840_000)]))).body, FAILURE_RATE_LIMITED)
      // A second later the rate gives one more of each.
      f.clock!.advance(1)
      parseAnnounce(await get(conn, announceTarget({ infoHash: testHash(840_000), port: 1000, left: 1 })))
      assert.deepEqual((await get(conn, announceTarget({ infoHash: testHash(840_000), port: 1000, left: 1 }))).body, FAILURE_RATE_LIMITED)
      assert.notDeepEqual((await get(conn, scrapeTarget([testHash(840_000)]))).body, FAILURE_RATE_LIMITED)
      const m = await metrics(f)
      assert.equal(sample(m, 'otd_rate_limited_total{protocol="http",kind="announce"}'), 6)
      assert.equal(sample(m, 'otd_rate_limited_total{protocol="http",kind="scrape"}'), 1)
      const e = JSON.parse((await request(f.http4, '/stats?mode=everything&format=json')).body.toString()) as { rate_limited: { http: unknown } }
      assert.deepEqual(e.rate_limited.http, { announce: 6, scrape: 1, fullscrape: 0 })
    } finally {
      conn.destroy(); other.destroy()
    }
  })

  test('behind a trusted proxy, each X-Forwarded-For address has its own bucket', async () => {
    const f = await fresh({ announceRatePerSecond: 1, announceBurst: 2, blessed: [{ net: '127.0.0.5', perms: MAY_PROXY }] }, true)
    const proxy = await connectFrom(f.http4, '127.0.0.5')
    try {
      const via = (client: string, port: number): Promise<Awaited<ReturnType<RawConnection['readResponse']>>> =>
        get(proxy, announceTarget({ infoHash: testHash(850_000), port, left: 1 }), [`X-Forwarded-For: ${client}`])
      for (let i = 0; i < 2; i++) parseAnnounce(await via('10.0.0.1', 100 + i))
      assert.deepEqual((await via('10.0.0.1', 102)).body, FAILURE_RATE_LIMITED)
      for (let i = 0; i < 2; i++) parseAnnounce(await via('10.0.0.2', 200 + i))
      parseAnnounce(await via('2001:db8:1::1', 300))
      assert.deepEqual((await via('10.0.0.2', 202)).body, FAILURE_RATE_LIMITED)
      // An untrusted client's X-Forwarded-For is ignored: it is limited by its own address.
      const direct = await connectFrom(f.http4, '127.0.0.6')
      try {
        for (let i = 0; i < 2; i++) parseAnnounce(await get(direct, announceTarget({ infoHash: testHash(850_000), port: 400 + i, left: 1 }), [`X-Forwarded-For: 10.0.0.${10 + i}`]))
        assert.deepEqual((await get(direct, announceTarget({ infoHash: testHash(850_000), port: 402, left: 1 }), ['X-Forwarded-For: 10.0.0.99'])).body, FAILURE_RATE_LIMITED)
      } finally {
        direct.destroy()
      }
      // The X-Forwarded-For counter counts the 5 proxied announces answered, once each: not the
      // 2 refused, not the untrusted client's.
      assert.equal(sample(await metrics(f), 'otd_forwarded_requests_total'), 5)
    } finally {
      proxy.destroy()
    }
  })

  test('full scrapes behind a trusted proxy are limited per forwarded address (same 429 scheme)', async () => {
    const f = await fresh({ fullScrapeIntervalSeconds: 300, blessed: [{ net: '127.0.0.5', perms: MAY_PROXY }] }, true)
    const full = (client: string): Promise<number> =>
      request(f.http4, '/scrape', { localAddress: '127.0.0.5', headers: [`X-Forwarded-For: ${client}`] }).then((r) => r.status)
    assert.equal(await full('10.0.0.1'), 200)
    assert.equal(await full('10.0.0.1'), 429)
    assert.equal(await full('10.0.0.2'), 200)
    assert.equal(sample(await metrics(f), 'otd_rate_limited_total{protocol="http",kind="fullscrape"}'), 1)
  })
})

describe('defaults', () => {
  test('nothing is limited and no table is allocated: 2000 UDP and 300 HTTP announces from one address', async () => {
    const f = await fresh()
    const c = await udpClient(f.udp4)
    const conn = await connectFrom(f.http4, '127.0.0.1')
    try {
      const id = await c.connect()
      for (let i = 0; i < 2000; i++) parseAnnounceReply((await udpAnnounceRaw(c, id, testHash(860_000 + (i % 50)), 1 + (i % 1000))).reply, 'IPv4')
      for (let i = 0; i < 300; i++) parseAnnounce(await get(conn, announceTarget({ infoHash: testHash(860_000), port: 5000 + i, left: 1 })))
      for (let i = 0; i < 100; i++) assert.equal((await c.scrape([testHash(860_000)], id)).length, 1)
      for (let i = 0; i < 5; i++) assert.equal((await request(f.http4, '/scrape')).status, 200)
      const m = await metrics(f)
      for (const series of ['{protocol="http",kind="announce"}', '{protocol="http",kind="scrape"}', '{protocol="http",kind="fullscrape"}',
        '{protocol="udp",kind="announce"}', '{protocol="udp",kind="scrape"}']) {
        assert.equal(sample(m, `otd_rate_limited_total${series}`), 0, series)
      }
      assert.equal(sample(m, 'otd_rate_limit_table_slots'), undefined, 'no limiter without a limit')
    } finally {
      c.close(); conn.destroy()
    }
  })
})
