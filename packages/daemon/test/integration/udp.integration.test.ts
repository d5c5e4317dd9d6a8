// Black-box BEP 15 UDP tests (reference §5; checklist §13.7), adapted to otd's deliberate
// differences: requester excluded from its own peer list, anti-amplification rule for the
// connection-ID mismatch error, trailing partial scrape hashes ignored.

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { announce as httpAnnounce, keys, testHash, v4, v6 } from '../helpers/tracker-client.js'
import {
  EVENT_COMPLETED,
  EVENT_STARTED,
  EVENT_STOPPED,
  PROTOCOL_ID,
  UdpClient,
  announcePacket,
  connectPacket,
  freshTxid,
  mismatchErrorPacket,
  parseAnnounceReply,
  parseConnectReply,
  scrapePacket,
} from '../helpers/udp-raw.js'
import type { Endpoint } from '../helpers/http-raw.js'

let f: Fixture
let hashNo = 4000
const clients: UdpClient[] = []

function freshHash(): Buffer {
  return testHash(hashNo++)
}

before(async () => {
  f = await startTracker()
})

after(async () => {
  for (const c of clients) c.close()
  await f?.close()
})

async function client(ep: Endpoint): Promise<UdpClient> {
  const c = await UdpClient.open(ep)
  clients.push(c)
  return c
}

const WRONG_ID = Buffer.from('0123456789abcdef', 'hex')

function withAction(packet: Buffer, action: number): Buffer {
  const b = Buffer.from(packet)
  b.writeUInt32BE(action, 8)
  return b
}

describe('§13.7 UDP', () => {
  describe('53: connect', () => {
    for (const fam of ['udp4', 'udp6'] as const) {
      test(`connect over ${fam} → 16-byte reply 0 | txid | connid`, async () => {
        const c = await client(f[fam])
        const txid = 0xdeadbeef
        const reply = await c.request(connectPacket(txid))
        assert.equal(reply.length, 16)
        assert.equal(reply.readUInt32BE(0), 0)
        assert.equal(reply.readUInt32BE(4), txid)
        assert.equal(parseConnectReply(reply).connId.length, 8)
      })
    }

    test('connect with extra trailing bytes → normal 16-byte reply', async () => {
      const c = await client(f.udp4)
      const txid = freshTxid()
      const reply = await c.request(Buffer.concat([connectPacket(txid), Buffer.alloc(20, 0xaa)]))
      assert.equal(parseConnectReply(reply).txid, txid)
    })

    test('the connection ID from connect is accepted right away', async () => {
      const c = await client(f.udp4)
      const id = await c.connect()
      const r = await c.announce({ connId: id, infoHash: freshHash(), port: 1 })
      assert.equal(r.leechers, 1)
    })
  })

  describe('54: packets that get no reply', () => {
    const cases: Array<[string, () => Buffer]> = [
      ['connect with a wrong magic', () => connectPacket(freshTxid(), PROTOCOL_ID + 1n)],
      ['connect with a zero magic', () => connectPacket(freshTxid(), 0n)],
      ['a 15-byte connect', () => connectPacket(freshTxid()).subarray(0, 15)],
      ['an 8-byte packet', () => connectPacket(freshTxid()).subarray(0, 8)],
      ['an empty packet', () => Buffer.alloc(0)],
      ['action 3 with the magic', () => withAction(connectPacket(freshTxid()), 3)],
      ['action 9 with the magic', () => withAction(connectPacket(freshTxid()), 9)],
      ['action 0xFFFFFFFF with the magic', () => withAction(connectPacket(freshTxid()), 0xffffffff)],
    ]
    for (const [name, make] of cases) {
      test(`${name} → no reply`, async () => {
        const c = await client(f.udp4)
        assert.deepEqual(await c.sendExpectNothing(make()), [])
      })
    }

    for (const action of [3, 9]) {
      test(`action ${action} with a valid connection ID (98 bytes) → no reply`, async () => {
        const c = await client(f.udp4)
        const id = await c.connect()
        const p = withAction(announcePacket({ connId: id, txid: freshTxid(), infoHash: freshHash(), port: 1 }), action)
        assert.deepEqual(await c.sendExpectNothing(p), [])
      })
    }
  })

  describe('55 + 56: announce', () => {
    test('98-byte announce (IPv4) → 1 | txid | interval | leechers | seeders | 6-byte peers (otd: requester excluded)', async () => {
      const h = freshHash()
      const a = await client(f.udp4)
      const id = await a.connect()
      const txid = freshTxid()
      const first = await a.request(announcePacket({ connId: id, txid, infoHash: h, port: 6881 }))
      assert.equal(first.length, 20, 'first announce: no peers, not even itself')
      assert.equal(first.readUInt32BE(0), 1)
      assert.equal(first.readUInt32BE(4), txid)
      const interval = first.readUInt32BE(8)
      assert.ok(interval >= 1620 && interval <= 1979, `interval ${interval}`)
      assert.deepEqual([first.readUInt32BE(12), first.readUInt32BE(16)], [1, 0])

      const second = await a.announce({ infoHash: h, port: 6882, left: 0n })
      assert.deepEqual([second.leechers, second.seeders], [1, 1])
      assert.deepEqual(keys(second.peers), [v4(6881)])
    })

    test('announce from IPv6 → 18-byte peers, v6 peers only; counts are totals over both families', async () => {
      const h = freshHash()
      const c4 = await client(f.udp4)
      const c6 = await client(f.udp6)
      await c4.announce({ infoHash: h, port: 1001 })
      await c6.announce({ infoHash: h, port: 1002, left: 0n })
      const txid = freshTxid()
      const raw = await c6.request(announcePacket({ connId: await c6.connect(), txid, infoHash: h, port: 1003 }))
      assert.equal(raw.length, 20 + 18)
      const r = parseAnnounceReply(raw, 'IPv6')
      assert.deepEqual(keys(r.peers), [v6(1002)])
      assert.deepEqual([r.leechers, r.seeders], [2, 1])
      const r4 = await c4.announce({ infoHash: h, port: 1004 })
      assert.deepEqual(keys(r4.peers), [v4(1001)], 'IPv4 requester gets only v4 peers')
      assert.deepEqual([r4.leechers, r4.seeders], [3, 1])
    })

    test('56: a 97-byte announce → no reply, and no peer is added', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      const id = await c.connect()
      const p = announcePacket({ connId: id, txid: freshTxid(), infoHash: h, port: 7 }).subarray(0, 97)
      assert.deepEqual(await c.sendExpectNothing(p), [])
      const r = await c.announce({ infoHash: h, port: 8 })
      assert.deepEqual([r.leechers, r.seeders, r.peers.length], [1, 0, 0])
    })

    test('56: a 120-byte announce (BEP 41 options appended) → normal reply', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      await c.announce({ infoHash: h, port: 1 })
      const txid = freshTxid()
      const opts = Buffer.alloc(22)
      opts[0] = 2 // URLData
      opts[1] = 19
      opts.write('/announce?key=value', 2, 'latin1')
      opts[21] = 0 // EndOfOptions
      const p = Buffer.concat([announcePacket({ connId: await c.connect(), txid, infoHash: h, port: 2 }), opts])
      assert.equal(p.length, 120)
      const r = parseAnnounceReply(await c.request(p), 'IPv4')
      assert.equal(r.txid, txid)
      assert.deepEqual(keys(r.peers), [v4(1)])
    })

    test('the IP field is ignored: the source address is used', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      await c.announce({ infoHash: h, port: 4321, ip: 0x0a000001 })
      const r = await c.announce({ infoHash: h, port: 4322 })
      assert.deepEqual(keys(r.peers), [v4(4321)])
    })

    test('event=started and unknown event values are plain announces', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      await c.announce({ infoHash: h, port: 1, event: EVENT_STARTED })
      const r = await c.announce({ infoHash: h, port: 2, event: 77 })
      assert.deepEqual([r.leechers, r.seeders], [2, 0])
      assert.deepEqual(keys(r.peers), [v4(1)])
    })

    test('peer order when all fit: leechers ascending, seeders descending', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      for (const port of [503, 501, 502]) await c.announce({ infoHash: h, port, numWant: 0 })
      for (const port of [602, 601, 603]) await c.announce({ infoHash: h, port, left: 0n, numWant: 0 })
      const r = await c.announce({ infoHash: h, port: 700 })
      assert.deepEqual(keys(r.peers), [501, 502, 503, 603, 602, 601].map(v4))
    })
  })

  describe('57: wrong connection ID', () => {
    for (const fam of ['udp4', 'udp6'] as const) {
      test(`98-byte announce with a wrong ID over ${fam} → exact 33-byte "Connection ID missmatch." error`, async () => {
        const c = await client(f[fam])
        await c.connect() // make sure the wrong ID is not merely "no ID issued yet"
        const txid = freshTxid()
        const reply = await c.request(announcePacket({ connId: WRONG_ID, txid, infoHash: freshHash(), port: 1 }))
        assert.deepEqual(reply, mismatchErrorPacket(txid))
        assert.equal(reply.length, 33)
      })
    }

    test('an announce with a wrong ID does not add the peer', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      await c.request(announcePacket({ connId: WRONG_ID, txid: freshTxid(), infoHash: h, port: 1 }))
      const r = await c.announce({ infoHash: h, port: 2 })
      assert.deepEqual([r.leechers, r.peers.length], [1, 0])
    })

    test('a 16-byte scrape with a wrong ID → no reply (otd: anti-amplification, better than opentracker)', async () => {
      const c = await client(f.udp4)
      assert.deepEqual(await c.sendExpectNothing(scrapePacket(WRONG_ID, freshTxid(), [])), [])
    })

    test('a 32-byte packet with a wrong ID → no reply (error would be larger than the request)', async () => {
      const c = await client(f.udp4)
      const p = Buffer.concat([scrapePacket(WRONG_ID, freshTxid(), []), Buffer.alloc(16, 1)])
      assert.equal(p.length, 32)
      assert.deepEqual(await c.sendExpectNothing(p), [])
    })

    test('a 36-byte scrape (one hash) with a wrong ID → the 33-byte error', async () => {
      const c = await client(f.udp6)
      const txid = freshTxid()
      const reply = await c.request(scrapePacket(WRONG_ID, txid, [freshHash()]))
      assert.deepEqual(reply, mismatchErrorPacket(txid))
    })

    test('a 33-byte scrape with a wrong ID → the 33-byte error (reply not larger than request)', async () => {
      const c = await client(f.udp4)
      const txid = freshTxid()
      const p = Buffer.concat([scrapePacket(WRONG_ID, txid, []), Buffer.alloc(17, 2)])
      assert.equal(p.length, 33)
      const reply = await c.request(p)
      assert.deepEqual(reply, mismatchErrorPacket(txid))
    })

    test('a connection ID issued to an IPv4 client is not valid for an IPv6 client', async () => {
      const c4 = await client(f.udp4)
      const c6 = await client(f.udp6)
      const id = await c4.connect()
      const txid = freshTxid()
      const reply = await c6.request(announcePacket({ connId: id, txid, infoHash: freshHash(), port: 1 }))
      assert.deepEqual(reply, mismatchErrorPacket(txid))
    })
  })

  describe('58: num_want', () => {
    const h = testHash(4900)
    before(async () => {
      const c4 = await client(f.udp4)
      const id4 = await c4.connect()
      for (let i = 0; i < 210; i++) await c4.announce({ connId: id4, infoHash: h, port: 20000 + i, numWant: 0 })
      const c6 = await client(f.udp6)
      const id6 = await c6.connect()
      for (let i = 0; i < 70; i++) await c6.announce({ connId: id6, infoHash: h, port: 30000 + i, numWant: 0 })
    })

    test('num_want=0xFFFFFFFF from IPv4 → 200 v4 peers', async () => {
      const c = await client(f.udp4)
      const r = await c.announce({ infoHash: h, port: 40000, numWant: 0xffffffff })
      assert.equal(r.peers.length, 200)
      assert.equal(new Set(keys(r.peers)).size, 200)
      assert.ok(!keys(r.peers).includes(v4(40000)))
      assert.deepEqual([r.leechers, r.seeders], [281, 0])
    })

    test('num_want=0xFFFFFFFF from IPv6 → 66 v6 peers', async () => {
      const c = await client(f.udp6)
      const r = await c.announce({ infoHash: h, port: 40001, numWant: 0xffffffff })
      assert.equal(r.peers.length, 66)
      assert.equal(new Set(keys(r.peers)).size, 66)
      assert.ok(r.peers.every((p) => p.ip === '::1' && p.port >= 30000 && p.port < 30070))
    })

    test('num_want=1000 from IPv4 → 200 peers', async () => {
      const c = await client(f.udp4)
      const r = await c.announce({ infoHash: h, port: 40000, numWant: 1000 })
      assert.equal(r.peers.length, 200)
    })

    test('num_want=0 → a 20-byte reply without peers', async () => {
      const c = await client(f.udp4)
      const txid = freshTxid()
      const reply = await c.request(announcePacket({ connId: await c.connect(), txid, infoHash: h, port: 40000, numWant: 0 }))
      assert.equal(reply.length, 20)
    })

    test('num_want=1 → exactly one peer', async () => {
      for (const ep of [f.udp4, f.udp6]) {
        const c = await client(ep)
        const r = await c.announce({ infoHash: h, port: 40002, numWant: 1 })
        assert.equal(r.peers.length, 1)
      }
    })

    test('num_want=10 → 10 distinct peers', async () => {
      const c = await client(f.udp4)
      const r = await c.announce({ infoHash: h, port: 40000, numWant: 10 })
      assert.equal(new Set(keys(r.peers)).size, 10)
    })
  })

  test('59: event=stopped → exactly 20 bytes 1 | txid | interval | leechers | seeders, counts after removal', async () => {
    const h = freshHash()
    const c = await client(f.udp4)
    await c.announce({ infoHash: h, port: 1 })
    await c.announce({ infoHash: h, port: 2, left: 0n })
    await c.announce({ infoHash: h, port: 3 })
    const txid = freshTxid()
    const reply = await c.request(announcePacket({ connId: await c.connect(), txid, infoHash: h, port: 3, event: EVENT_STOPPED }))
    assert.equal(reply.length, 20)
    const r = parseAnnounceReply(reply, 'IPv4')
    assert.equal(r.txid, txid)
    assert.ok(r.interval >= 1620 && r.interval <= 1979)
    assert.deepEqual([r.leechers, r.seeders], [1, 1])
    const after = await c.announce({ infoHash: h, port: 4 })
    assert.deepEqual(keys(after.peers), [v4(1), v4(2)])
  })

  test('59: event=stopped from IPv6 for an unknown torrent → 20 bytes with zero counts', async () => {
    const c = await client(f.udp6)
    const txid = freshTxid()
    const reply = await c.request(announcePacket({ connId: await c.connect(), txid, infoHash: freshHash(), port: 3, event: EVENT_STOPPED }))
    assert.equal(reply.length, 20)
    const r = parseAnnounceReply(reply, 'IPv6')
    assert.deepEqual([r.leechers, r.seeders], [0, 0])
  })

  test('60: UDP and HTTP share the peer pool (same IP and port)', async () => {
    const h = freshHash()
    const c = await client(f.udp4)
    await c.announce({ infoHash: h, port: 4242 })
    const viaHttp = await httpAnnounce(f.http4, { infoHash: h, port: 4243, left: 0 })
    assert.deepEqual(keys(viaHttp.peers), [v4(4242)])
    assert.deepEqual([viaHttp.complete, viaHttp.incomplete], [1, 1])
    const viaUdp = await c.announce({ infoHash: h, port: 4244 })
    assert.deepEqual(keys(viaUdp.peers), [v4(4242), v4(4243)])
    // the same ip:port over HTTP and UDP is one peer
    const same = await httpAnnounce(f.http4, { infoHash: h, port: 4242 })
    assert.deepEqual([same.complete, same.incomplete], [1, 2])

    const c6 = await client(f.udp6)
    await c6.announce({ infoHash: h, port: 4245 })
    const viaHttp6 = await httpAnnounce(f.http6, { infoHash: h, port: 4246 })
    assert.deepEqual(keys(viaHttp6.peers6), [v6(4245)])
  })

  describe('61: scrape', () => {
    test('scrape with 2 hashes → 8 + 24 bytes, seeders | completed | leechers, zeros for unknown', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      await c.announce({ infoHash: h, port: 1, left: 0n, event: EVENT_COMPLETED })
      await c.announce({ infoHash: h, port: 2 })
      await httpAnnounce(f.http6, { infoHash: h, port: 3 })
      const txid = freshTxid()
      const reply = await c.request(scrapePacket(await c.connect(), txid, [h, freshHash()]))
      assert.equal(reply.length, 32)
      assert.equal(reply.readUInt32BE(0), 2)
      assert.equal(reply.readUInt32BE(4), txid)
      assert.deepEqual(
        [8, 12, 16, 20, 24, 28].map((o) => reply.readUInt32BE(o)),
        [1, 1, 2, 0, 0, 0],
      )
    })

    test('scrape with the same hash twice → two identical entries', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      await c.announce({ infoHash: h, port: 1 })
      const entries = await c.scrape([h, h])
      assert.deepEqual(entries, [
        { seeders: 0, completed: 0, leechers: 1 },
        { seeders: 0, completed: 0, leechers: 1 },
      ])
    })

    test('scrape with zero hashes → 8-byte reply', async () => {
      const c = await client(f.udp6)
      const txid = freshTxid()
      const reply = await c.request(scrapePacket(await c.connect(), txid, []))
      assert.equal(reply.length, 8)
      assert.deepEqual([reply.readUInt32BE(0), reply.readUInt32BE(4)], [2, txid])
    })

    test('scrape with 80 hashes → 908 bytes (75 entries)', async () => {
      const c = await client(f.udp4)
      const hashes = Array.from({ length: 80 }, () => freshHash())
      const reply = await c.request(scrapePacket(await c.connect(), freshTxid(), hashes))
      assert.equal(reply.length, 908)
    })

    test('a trailing partial hash (1-19 bytes) is ignored, not processed (otd: better than opentracker)', async () => {
      const h = freshHash()
      const c = await client(f.udp4)
      await c.announce({ infoHash: h, port: 1 })
      for (const extra of [1, 10, 19]) {
        const txid = freshTxid()
        const p = Buffer.concat([scrapePacket(await c.connect(), txid, [h]), h.subarray(0, extra)])
        const reply = await c.request(p)
        assert.equal(reply.length, 20, `one hash + ${extra} trailing bytes`)
        assert.deepEqual([reply.readUInt32BE(8), reply.readUInt32BE(12), reply.readUInt32BE(16)], [0, 0, 1])
      }
    })
  })

  test('62: left=2^32 in the 64-bit field → leecher; left=0 → seeder', async () => {
    const h = freshHash()
    const c = await client(f.udp4)
    const a = await c.announce({ infoHash: h, port: 1, left: 2n ** 32n })
    assert.deepEqual([a.leechers, a.seeders], [1, 0])
    const b = await c.announce({ infoHash: h, port: 2, left: 0n })
    assert.deepEqual([b.leechers, b.seeders], [1, 1])
    const d = await c.announce({ infoHash: h, port: 3, left: 2n ** 63n })
    assert.deepEqual([d.leechers, d.seeders], [2, 1])
  })
})
