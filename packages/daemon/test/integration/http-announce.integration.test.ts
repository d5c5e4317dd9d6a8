// Black-box HTTP announce tests: parameter parsing (reference §3.3, §3.4; checklist §13.2)
// and announce semantics / reply shape (§3.5, §4; checklist §13.3), adapted to otd's
// deliberate differences (requester excluded from its own peer list, compact=0 dictionary
// peers, strict `left`, empty peer keys omitted).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { asBytes, asDict, asInt, asList, decodeStrict } from '../helpers/bencode-strict.js'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { REPLY_400, exchange, pctAll } from '../helpers/http-raw.js'
import { parseCompactPeers } from '../helpers/udp-raw.js'
import type { Endpoint, RawResponse } from '../helpers/http-raw.js'
import {
  announce,
  assertIntervals,
  assertOkFraming,
  keys,
  parseAnnounce,
  pool,
  rawAnnounce,
  scrape,
  testHash,
  v4,
  v6,
} from '../helpers/tracker-client.js'
import type { AnnounceParams } from '../helpers/tracker-client.js'

let f: Fixture
let hashNo = 2000

/** A fresh, never used info_hash for this file. */
function freshHash(): Buffer {
  return testHash(hashNo++)
}

before(async () => {
  f = await startTracker()
})

after(async () => {
  await f?.close()
})

function peerId(port: number): Buffer {
  return Buffer.from(`-TS0001-${String(port).padStart(12, '0')}`, 'latin1')
}

async function expect400(p: AnnounceParams, ep: Endpoint = f.http4): Promise<void> {
  const res = await rawAnnounce(ep, p)
  assert.equal(res.raw.toString('latin1'), REPLY_400, `announce ${JSON.stringify(p.extra ?? [])}`)
}

async function get(target: string, ep: Endpoint = f.http4): Promise<RawResponse> {
  return exchange(ep, `GET ${target} HTTP/1.0\r\n\r\n`)
}

/** Announces the given ports (numwant=0) so that they exist as peers of `hash`. */
async function populate(ep: Endpoint, hash: Buffer, ports: number[], left: number | string = 1000): Promise<void> {
  await pool(ports.length, 8, async (i) => {
    const port = ports[i] as number
    const r = await announce(ep, { infoHash: hash, port, left, numwant: 0, peerId: peerId(port) })
    assert.deepEqual(r.peers, [])
  })
}

describe('§13.2 announce parsing', () => {
  test('13: no info_hash → 200 with the exact "forgot to send your torrent\'s info_hash" failure', async () => {
    const body = "d14:failure reason80:Your client forgot to send your torrent's info_hash. Please upgrade your client.e"
    const res = await get('/announce?port=1&left=0')
    assert.equal(
      res.raw.toString('latin1'),
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    )
  })

  describe('14: info_hash must decode to exactly 20 bytes, only once', () => {
    for (const [name, value] of [
      ['short', 'short'],
      ['19 bytes', pctAll(Buffer.alloc(19, 1))],
      ['21 bytes', pctAll(Buffer.alloc(21, 1))],
      ['empty', ''],
      ['20 bytes with a bad escape', `${pctAll(Buffer.alloc(19, 1))}%zz`],
    ] as const) {
      test(`info_hash ${name} → 400`, async () => {
        await expect400({ infoHash: value, port: 1 })
      })
    }

    test('info_hash given twice (same value) → 400', async () => {
      const h = freshHash()
      await expect400({ infoHash: h, port: 1, extra: [['info_hash', h]] })
    })

    test('info_hash given twice (different values) → 400', async () => {
      await expect400({ infoHash: freshHash(), port: 1, extra: [['info_hash', freshHash()]] })
    })

    test('info_hash as 20 literal ASCII bytes is accepted', async () => {
      const r = await announce(f.http4, { infoHash: 'abcdefghij0123456789', port: 1 })
      assert.equal(r.incomplete, 1)
    })
  })

  describe('15: peer_id', () => {
    test('peer_id of 19 bytes → 400', async () => {
      await expect400({ infoHash: freshHash(), port: 1, peerId: Buffer.alloc(19, 0x41) })
    })
    test('peer_id of 21 bytes → 400', async () => {
      await expect400({ infoHash: freshHash(), port: 1, peerId: Buffer.alloc(21, 0x41) })
    })
    test('peer_id of 20 bytes → OK', async () => {
      await announce(f.http4, { infoHash: freshHash(), port: 1, peerId: Buffer.alloc(20, 0xfe) })
    })
    test('peer_id absent → OK', async () => {
      await announce(f.http4, { infoHash: freshHash(), port: 1 })
    })
  })

  describe('16: port', () => {
    for (const port of ['70000', '65536', '12a', '', '+5', ' 5', '0x10']) {
      test(`port=${port} → 400`, async () => {
        await expect400({ infoHash: freshHash(), port })
      })
    }

    test('valueless "port" item → 400', async () => {
      await expect400({ infoHash: freshHash(), extra: [['port', null]] })
    })

    test('port=-1 → OK and stored as 65535 (visible to another peer)', async () => {
      const h = freshHash()
      await announce(f.http4, { infoHash: h, port: '-1' })
      const other = await announce(f.http4, { infoHash: h, port: 4000 })
      assert.deepEqual(keys(other.peers), [v4(65535)])
    })

    test('port=65535 → OK', async () => {
      const h = freshHash()
      await announce(f.http4, { infoHash: h, port: 65535 })
      const other = await announce(f.http4, { infoHash: h, port: 4000 })
      assert.deepEqual(keys(other.peers), [v4(65535)])
    })

    test('no port parameter → port 0', async () => {
      const h = freshHash()
      await announce(f.http4, { infoHash: h })
      const other = await announce(f.http4, { infoHash: h, port: 4000 })
      assert.deepEqual(keys(other.peers), [v4(0)])
    })
  })

  describe('17 + 30: numwant (210 other peers in the swarm)', () => {
    const h = testHash(2900)
    const requester = 20000
    before(async () => {
      await populate(f.http4, h, Array.from({ length: 210 }, (_, i) => 10000 + i))
    })

    function assertDistinctOthers(peers: string[]): void {
      assert.equal(new Set(peers).size, peers.length, 'peers are distinct')
      assert.ok(!peers.includes(v4(requester)), 'the requester is not in its own list')
    }

    test('numwant=abc → 400', async () => {
      await expect400({ infoHash: h, port: requester, numwant: 'abc' })
    })
    test('numwant= (empty) → 400', async () => {
      await expect400({ infoHash: h, port: requester, numwant: '' })
    })
    test('numwant absent → 50 peers', async () => {
      const r = await announce(f.http4, { infoHash: h, port: requester })
      assert.equal(r.peers.length, 50)
      assertDistinctOthers(keys(r.peers))
      assert.equal(r.incomplete, 211)
    })
    test('numwant=-5 → treated as 50', async () => {
      const r = await announce(f.http4, { infoHash: h, port: requester, numwant: -5 })
      assert.equal(r.peers.length, 50)
      assertDistinctOthers(keys(r.peers))
    })
    test('numwant=100000 → at most 200 peers', async () => {
      const r = await announce(f.http4, { infoHash: h, port: requester, numwant: 100000 })
      assert.equal(r.peers.length, 200)
      assertDistinctOthers(keys(r.peers))
    })
    test('numwant=201 → 200 peers', async () => {
      const r = await announce(f.http4, { infoHash: h, port: requester, numwant: 201 })
      assert.equal(r.peers.length, 200)
    })
    test('30: numwant=7 → exactly 7 distinct 6-byte peers', async () => {
      const r = await announce(f.http4, { infoHash: h, port: requester, numwant: 7 })
      const raw = asBytes(r.dict.get('peers'))
      assert.equal(raw.length, 7 * 6)
      assertDistinctOthers(keys(r.peers))
      for (const p of r.peers) assert.ok(p.port >= 10000 && p.port < 10210, `unexpected peer ${p.port}`)
    })
    test('30: numwant=1 from IPv6 → exactly one v4 peer, no peers6 key', async () => {
      const r = await announce(f.http6, { infoHash: h, port: requester, numwant: 1 })
      assert.equal(r.peers.length, 1)
      assert.equal(r.dict.has('peers6'), false)
    })
  })

  describe('18: compact / compact6', () => {
    const h = testHash(2901)
    before(async () => {
      await announce(f.http4, { infoHash: h, port: 3001, peerId: peerId(3001) })
      await announce(f.http4, { infoHash: h, port: 3002, left: 0, peerId: peerId(3002) })
    })

    function dictPeers(res: RawResponse, noPeerId: boolean): Array<{ ip: string; port: number }> {
      assertOkFraming(res)
      const d = asDict(decodeStrict(res.body))
      assertIntervals(d)
      const list = asList(d.get('peers'), 'peers (compact=0 must give a list)')
      return list.map((entry) => {
        const e = asDict(entry, 'peer entry')
        const allowed = noPeerId ? ['ip', 'port'] : ['ip', 'peer id', 'port']
        for (const k of e.keys()) assert.ok(allowed.includes(k), `unexpected key "${k}" in a peer dict`)
        const ip = asBytes(e.get('ip'), 'ip').toString('latin1')
        const port = asInt(e.get('port'), 'port')
        if (e.has('peer id')) assert.equal(asBytes(e.get('peer id')).length, 20, '"peer id" is 20 bytes')
        return { ip, port }
      })
    }

    test('compact=0 → BEP 3 dictionary peer list with ip/port (otd: better than opentracker, which answers 400)', async () => {
      const res = await rawAnnounce(f.http4, { infoHash: h, port: 3003, left: 5, extra: [['compact', 0]] })
      const peers = dictPeers(res, false)
      assert.deepEqual(peers.map((p) => `${p.ip}:${p.port}`).sort(), [v4(3001), v4(3002)])
      const d = asDict(decodeStrict(res.body))
      assert.equal(asInt(d.get('complete')), 1)
      assert.equal(asInt(d.get('incomplete')), 2)
    })

    test('compact=0&no_peer_id=1 → dictionary peers without "peer id" (otd: better than opentracker)', async () => {
      const res = await rawAnnounce(f.http4, { infoHash: h, port: 3003, left: 5, extra: [['compact', 0], ['no_peer_id', 1]] })
      const peers = dictPeers(res, true)
      assert.deepEqual(peers.map((p) => `${p.ip}:${p.port}`).sort(), [v4(3001), v4(3002)])
    })

    test('compact=0 for the only peer of a torrent → no peers: the key is omitted or an empty list', async () => {
      const res = await rawAnnounce(f.http4, { infoHash: freshHash(), port: 3003, extra: [['compact', 0]] })
      assertOkFraming(res)
      const d = asDict(decodeStrict(res.body))
      if (d.has('peers')) assert.deepEqual(asList(d.get('peers')), [])
      assert.equal(d.has('peers6'), false)
    })

    test('compact=0 includes IPv6 peers as dictionaries with a textual IPv6 "ip"', async () => {
      const h6 = freshHash()
      await announce(f.http4, { infoHash: h6, port: 3101 })
      await announce(f.http6, { infoHash: h6, port: 3102 })
      const res = await rawAnnounce(f.http4, { infoHash: h6, port: 3103, extra: [['compact', 0]] })
      const d = asDict(decodeStrict(res.body))
      const all = dictPeers(res, false).map((p) => (p.ip.includes(':') ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`))
      // IPv6 peers are either in the dictionary list or (compact) in peers6
      const compact6 = d.has('peers6') ? keys(parseCompactPeers(asBytes(d.get('peers6')), 'IPv6')) : []
      assert.deepEqual([...all, ...compact6].sort(), [v4(3101), v6(3102)].sort())
    })

    test('compact=0: the "peer id", when present, is the peer\'s latest peer_id', async () => {
      const h2 = freshHash()
      const oldId = Buffer.from('-OLD001-aaaaaaaaaaaa', 'latin1')
      const newId = Buffer.from('-NEW001-bbbbbbbbbbbb', 'latin1')
      await rawAnnounce(f.http4, { infoHash: h2, port: 3201, left: 5, peerId: oldId, extra: [['compact', 0]] })
      await announce(f.http4, { infoHash: h2, port: 3201, left: 5, peerId: newId })
      const res = await rawAnnounce(f.http4, { infoHash: h2, port: 3202, left: 5, peerId: peerId(3202), extra: [['compact', 0]] })
      assertOkFraming(res)
      const list = asList(asDict(decodeStrict(res.body)).get('peers'))
      assert.equal(list.length, 1)
      const entry = asDict(list[0])
      if (entry.has('peer id')) {
        assert.equal(asBytes(entry.get('peer id')).toString('latin1'), newId.toString('latin1'), 'stale peer id reported')
      }
    })

    test('compact6=0 → 400 (as opentracker)', async () => {
      await expect400({ infoHash: h, port: 3003, extra: [['compact6', 0]] })
    })
    test('compact= → 400', async () => {
      await expect400({ infoHash: h, port: 3003, extra: [['compact', '']] })
    })
    test('compact=abc → 400', async () => {
      await expect400({ infoHash: h, port: 3003, extra: [['compact', 'abc']] })
    })
    test('compact=1 → normal compact reply', async () => {
      const r = await announce(f.http4, { infoHash: h, port: 3003, extra: [['compact', 1]] })
      assert.deepEqual(keys(r.peers).sort(), [v4(3001), v4(3002)])
    })
  })

  describe('19: event values other than completed/stopped are plain announces', () => {
    for (const event of ['started', 'bogus', '', 'paused', 'STOPPED']) {
      test(`event=${event} → plain announce (peer is added)`, async () => {
        const h = freshHash()
        const r = await announce(f.http4, { infoHash: h, port: 1, event })
        assert.equal(r.incomplete, 1)
        const r2 = await announce(f.http4, { infoHash: h, port: 2, event })
        assert.equal(r2.incomplete, 2)
        assert.deepEqual(keys(r2.peers), [v4(1)])
      })
    }
  })

  describe('20: left', () => {
    test('left= → 400', async () => {
      await expect400({ infoHash: freshHash(), port: 1, left: '' })
    })
    test('left=abc → 400 (otd: better than opentracker, which counts a seeder)', async () => {
      await expect400({ infoHash: freshHash(), port: 1, left: 'abc' })
    })
    test('left=12abc → 400 (otd: better than opentracker)', async () => {
      await expect400({ infoHash: freshHash(), port: 1, left: '12abc' })
    })
    test('left=0 → seeder', async () => {
      const r = await announce(f.http4, { infoHash: freshHash(), port: 1, left: 0 })
      assert.deepEqual([r.complete, r.incomplete], [1, 0])
    })
    test('left=1 → leecher', async () => {
      const r = await announce(f.http4, { infoHash: freshHash(), port: 1, left: 1 })
      assert.deepEqual([r.complete, r.incomplete], [0, 1])
    })
    test('left=4294967296 → leecher, no 32-bit wrap (otd: better than opentracker)', async () => {
      const r = await announce(f.http4, { infoHash: freshHash(), port: 1, left: '4294967296' })
      assert.deepEqual([r.complete, r.incomplete], [0, 1])
    })
    test('left=18446744073709551616 (2^64) → leecher or 400, never a seeder', async () => {
      const res = await rawAnnounce(f.http4, { infoHash: freshHash(), port: 1, left: '18446744073709551616' })
      if (res.status === 400) return
      const r = parseAnnounce(res)
      assert.deepEqual([r.complete, r.incomplete], [0, 1])
    })
    test('left absent → accepted', async () => {
      const res = await get(`/announce?info_hash=${pctAll(freshHash())}&port=1`)
      parseAnnounce(res)
    })
  })

  test('21: info%5Fhash is recognised as info_hash', async () => {
    const h = freshHash()
    const res = await get(`/announce?info%5Fhash=${pctAll(h)}&port=1&left=5`)
    const r = parseAnnounce(res)
    assert.equal(r.incomplete, 1)
    const s = await scrape(f.http4, [h])
    assert.deepEqual(s.get(h.toString('latin1')), { complete: 0, downloaded: 0, incomplete: 1 })
  })

  describe('22: unknown parameters', () => {
    test('unknown parameter with "#" in its value → 400', async () => {
      await expect400({ infoHash: freshHash(), port: 1, extra: [['x', 'a#b']] })
    })
    test('unknown parameter with \'"\' in its value → 400', async () => {
      await expect400({ infoHash: freshHash(), port: 1, extra: [['x', 'a"b']] })
    })
    test('unknown parameter with value %zz → ignored (200)', async () => {
      await announce(f.http4, { infoHash: freshHash(), port: 1, extra: [['x', '%zz']] })
    })
    test('uploaded/downloaded/key/corrupt/supportcrypto are ignored', async () => {
      await announce(f.http4, {
        infoHash: freshHash(),
        port: 1,
        extra: [['key', 'abcd'], ['corrupt', 0], ['supportcrypto', 1], ['trackerid', 'x'], ['requirecrypto', 0]],
      })
    })
  })

  test('23: "&&", a leading "&" and a valueless unknown name are accepted', async () => {
    const h = freshHash()
    const res = await get(`/announce?&info_hash=${pctAll(h)}&&port=1&&foo&left=5&bar=&`)
    const r = parseAnnounce(res)
    assert.equal(r.incomplete, 1)
  })

  test('24: "+" in info_hash is the literal byte 0x2B: announce with 20 raw "+", scrape with %2B×20 finds it', async () => {
    await announce(f.http4, { infoHash: '+'.repeat(20), port: 1 })
    const plus = Buffer.alloc(20, 0x2b)
    const s = await scrape(f.http4, ['%2B'.repeat(20)])
    assert.deepEqual(s.get(plus.toString('latin1')), { complete: 0, downloaded: 0, incomplete: 1 })
  })
})

describe('§13.3 announce semantics and reply shape', () => {
  test('25: first announce of a new torrent → complete 0, downloaded 0, incomplete 1, no peers (otd: requester excluded, empty peers omitted)', async () => {
    for (const ep of [f.http4, f.http6]) {
      const r = await announce(ep, { infoHash: freshHash(), port: 6881 })
      assert.deepEqual([r.complete, r.downloaded, r.incomplete], [0, 0, 1])
      assert.deepEqual(r.keys, ['complete', 'downloaded', 'incomplete', 'interval', 'min interval'])
      assert.equal(r.dict.has('peers'), false)
      assert.equal(r.dict.has('peers6'), false)
    }
  })

  test('26: keys in the order complete, downloaded, incomplete, interval, min interval, peers, peers6; body ends with "e"', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1 })
    await announce(f.http6, { infoHash: h, port: 2 })
    for (const ep of [f.http4, f.http6]) {
      const r = await announce(ep, { infoHash: h, port: 3 })
      assert.deepEqual(r.keys, ['complete', 'downloaded', 'incomplete', 'interval', 'min interval', 'peers', 'peers6'])
      assert.ok(r.res.body.toString('latin1').startsWith('d8:completei'))
      assert.equal(r.res.body.at(-1), 0x65)
    }
  })

  test('27: a second peer with left=0 → complete 1, incomplete 1, and it gets the leecher (not itself)', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 6881 })
    const seeder = await announce(f.http4, { infoHash: h, port: 6882, left: 0 })
    assert.deepEqual([seeder.complete, seeder.incomplete], [1, 1])
    assert.deepEqual(keys(seeder.peers), [v4(6881)])
    const leecher = await announce(f.http4, { infoHash: h, port: 6881 })
    assert.deepEqual([leecher.complete, leecher.incomplete], [1, 1])
    assert.deepEqual(keys(leecher.peers), [v4(6882)])
  })

  test('28: all peers fit → leechers ascending by ip:port, then seeders descending (both families)', async () => {
    const h = freshHash()
    for (const port of [5005, 5001, 5003]) await announce(f.http4, { infoHash: h, port, numwant: 0 })
    for (const port of [6002, 6004, 6001, 6003]) await announce(f.http4, { infoHash: h, port, left: 0, numwant: 0 })
    for (const port of [5105, 5101]) await announce(f.http6, { infoHash: h, port, numwant: 0 })
    for (const port of [6101, 6103, 6102]) await announce(f.http6, { infoHash: h, port, left: 0, numwant: 0 })
    const from4 = await announce(f.http4, { infoHash: h, port: 7000, numwant: 50 })
    assert.deepEqual(keys(from4.peers), [5001, 5003, 5005, 6004, 6003, 6002, 6001].map(v4))
    assert.deepEqual(keys(from4.peers6), [5101, 5105, 6103, 6102, 6101].map(v6))
    // the v4 requester (127.0.0.1:7000, a leecher) is now part of the swarm
    const from6 = await announce(f.http6, { infoHash: h, port: 7001, numwant: 50 })
    assert.deepEqual(keys(from6.peers), [5001, 5003, 5005, 7000, 6004, 6003, 6002, 6001].map(v4))
    assert.deepEqual(keys(from6.peers6), [5101, 5105, 6103, 6102, 6101].map(v6))
    assert.deepEqual([from6.complete, from6.incomplete], [7, 7])
  })

  test('28: ordering uses ip:port byte order (port 256 sorts after port 255, 65535 last)', async () => {
    const h = freshHash()
    for (const port of [65535, 256, 255, 1]) await announce(f.http4, { infoHash: h, port, numwant: 0 })
    const r = await announce(f.http4, { infoHash: h, port: 7000, left: 0 })
    assert.deepEqual(keys(r.peers), [1, 255, 256, 65535].map(v4))
  })

  test('29: numwant=0 → neither a peers nor a peers6 key', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1 })
    await announce(f.http6, { infoHash: h, port: 2 })
    const r = await announce(f.http4, { infoHash: h, port: 3, numwant: 0 })
    assert.deepEqual(r.keys, ['complete', 'downloaded', 'incomplete', 'interval', 'min interval'])
    assert.equal(r.incomplete, 3)
  })

  test('31: v4 and v6 peers → HTTP replies from either family carry peers (6-byte) and peers6 (18-byte); counts are totals', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 8001 })
    await announce(f.http6, { infoHash: h, port: 8002, left: 0 })
    const from4 = await announce(f.http4, { infoHash: h, port: 8003 })
    assert.deepEqual(keys(from4.peers), [v4(8001)])
    assert.deepEqual(keys(from4.peers6), [v6(8002)])
    assert.equal(asBytes(from4.dict.get('peers6')).length, 18)
    assert.deepEqual([from4.complete, from4.incomplete], [1, 2])
    const from6 = await announce(f.http6, { infoHash: h, port: 8004 })
    assert.deepEqual(keys(from6.peers), [v4(8001), v4(8003)])
    assert.deepEqual(keys(from6.peers6), [v6(8002)])
    assert.deepEqual([from6.complete, from6.incomplete], [1, 3])
  })

  test('31: 127.0.0.1:P and [::1]:P are different peers', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 9000 })
    const r = await announce(f.http6, { infoHash: h, port: 9000 })
    assert.equal(r.incomplete, 2)
    assert.deepEqual(keys(r.peers), [v4(9000)])
    assert.deepEqual(r.peers6, [])
  })

  test('32: event=completed counting: new seeder +1, repeated no change, completed with left≠0 ignored, leecher completing +1', async () => {
    const h = freshHash()
    const a = await announce(f.http4, { infoHash: h, port: 1, left: 0, event: 'completed' })
    assert.equal(a.downloaded, 1)
    const again = await announce(f.http4, { infoHash: h, port: 1, left: 0, event: 'completed' })
    assert.equal(again.downloaded, 1)
    const plain = await announce(f.http4, { infoHash: h, port: 1, left: 0 })
    assert.equal(plain.downloaded, 1)
    const notDone = await announce(f.http4, { infoHash: h, port: 2, left: 10, event: 'completed' })
    assert.equal(notDone.downloaded, 1)
    const finishing = await announce(f.http4, { infoHash: h, port: 2, left: 0, event: 'completed' })
    assert.equal(finishing.downloaded, 2)
    assert.deepEqual([finishing.complete, finishing.incomplete], [2, 0])
    const s = await scrape(f.http4, [h])
    assert.deepEqual(s.get(h.toString('latin1')), { complete: 2, downloaded: 2, incomplete: 0 })
  })

  describe('33: event=stopped', () => {
    const stoppedBody = /^d8:completei(\d+)e10:incompletei(\d+)e8:intervali(\d+)e12:min intervali(\d+)e(5:peers0:|6:peers60:)?e$/

    function parseStopped(res: RawResponse, family: 'v4' | 'v6'): { complete: number; incomplete: number } {
      assertOkFraming(res)
      const body = res.body.toString('latin1')
      const m = stoppedBody.exec(body)
      assert.ok(m, `stopped body shape (no downloaded key, no peers): ${JSON.stringify(body)}`)
      assertIntervals(asDict(decodeStrict(res.body)))
      if (m[5] !== undefined) assert.equal(m[5], family === 'v4' ? '5:peers0:' : '6:peers60:', 'empty peer key of the requester family')
      return { complete: Number(m[1]), incomplete: Number(m[2]) }
    }

    test('stopped → no downloaded key, counts after removal, and the peer is gone', async () => {
      const h = freshHash()
      await announce(f.http4, { infoHash: h, port: 1 })
      await announce(f.http4, { infoHash: h, port: 2, left: 0 })
      await announce(f.http4, { infoHash: h, port: 3 })
      const res = await rawAnnounce(f.http4, { infoHash: h, port: 3, left: 5, event: 'stopped' })
      assert.deepEqual(parseStopped(res, 'v4'), { complete: 1, incomplete: 1 })
      const check = await announce(f.http4, { infoHash: h, port: 4, numwant: 50 })
      assert.deepEqual(keys(check.peers), [v4(1), v4(2)])
    })

    test('stopped of a seeder from IPv6 → counts after removal', async () => {
      const h = freshHash()
      await announce(f.http4, { infoHash: h, port: 1 })
      await announce(f.http6, { infoHash: h, port: 2, left: 0 })
      const res = await rawAnnounce(f.http6, { infoHash: h, port: 2, left: 0, event: 'stopped' })
      assert.deepEqual(parseStopped(res, 'v6'), { complete: 0, incomplete: 1 })
    })

    test('stopped for an unknown torrent → counts 0', async () => {
      const res = await rawAnnounce(f.http4, { infoHash: freshHash(), port: 1, event: 'stopped' })
      assert.deepEqual(parseStopped(res, 'v4'), { complete: 0, incomplete: 0 })
    })

    test('stopped for an unknown peer of a known torrent → counts unchanged', async () => {
      const h = freshHash()
      await announce(f.http4, { infoHash: h, port: 1 })
      const res = await rawAnnounce(f.http4, { infoHash: h, port: 99, event: 'stopped' })
      assert.deepEqual(parseStopped(res, 'v4'), { complete: 0, incomplete: 1 })
    })
  })

  test('34: the same IP with two ports → two peers', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1111 })
    const r = await announce(f.http4, { infoHash: h, port: 2222 })
    assert.equal(r.incomplete, 2)
    assert.deepEqual(keys(r.peers), [v4(1111)])
  })

  test('34: re-announcing the same ip:port does not add a peer', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1111 })
    const r = await announce(f.http4, { infoHash: h, port: 1111 })
    assert.deepEqual([r.complete, r.incomplete], [0, 1])
    assert.deepEqual(r.peers, [])
  })

  test('35: re-announce changing left=5 to left=0 → complete +1, incomplete −1, peer count unchanged; and back', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1 })
    const a = await announce(f.http4, { infoHash: h, port: 2, left: 5 })
    assert.deepEqual([a.complete, a.incomplete], [0, 2])
    const b = await announce(f.http4, { infoHash: h, port: 2, left: 0 })
    assert.deepEqual([b.complete, b.incomplete], [1, 1])
    const c = await announce(f.http4, { infoHash: h, port: 2, left: 7 })
    assert.deepEqual([c.complete, c.incomplete], [0, 2])
  })
})
