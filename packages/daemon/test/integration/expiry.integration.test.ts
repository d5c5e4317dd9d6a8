// Peer and torrent expiry with an injected ManualClock (reference §4.4; checklist §13.10 items 70/71).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { announce, keys, scrape, testHash, v4, v6 } from '../helpers/tracker-client.js'
import { UdpClient } from '../helpers/udp-raw.js'

const MIN = 60
let hashNo = 5000

function freshHash(): Buffer {
  return testHash(hashNo++)
}

describe('§13.10 expiry with a ManualClock', () => {
  let f: Fixture

  before(async () => {
    f = await startTracker({}, { manualClock: true })
  })

  after(async () => {
    await f?.close()
  })

  function advance(seconds: number): void {
    const clock = f.clock
    assert.ok(clock, 'fixture has a ManualClock')
    clock.advance(seconds)
  }

  async function sweepAfter(seconds: number): Promise<void> {
    advance(seconds)
    await f.tracker.sweep()
  }

  test('70: a peer not re-announced for 45 minutes is gone after a sweep; a re-announced one stays', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1 }) // A, never re-announced
    await announce(f.http6, { infoHash: h, port: 2, left: 0 }) // B (v6 seeder), re-announced
    await sweepAfter(30 * MIN)
    const mid = await announce(f.http6, { infoHash: h, port: 2, left: 0 })
    assert.deepEqual(keys(mid.peers), [v4(1)], 'A is still there after 30 minutes')
    assert.deepEqual([mid.complete, mid.incomplete], [1, 1])

    await sweepAfter(15 * MIN) // A: 45 min since its announce, B: 15 min
    const c = await announce(f.http4, { infoHash: h, port: 3 })
    assert.deepEqual(keys(c.peers), [], 'A expired')
    assert.deepEqual(keys(c.peers6), [v6(2)], 'B still there')
    assert.deepEqual([c.complete, c.incomplete], [1, 1], 'counts: B and the new requester only')
  })

  test('70: an expired UDP peer disappears from UDP replies and scrape counts', async () => {
    const h = freshHash()
    const u = await UdpClient.open(f.udp4)
    try {
      await u.announce({ infoHash: h, port: 10 })
      await u.announce({ infoHash: h, port: 11, left: 0n })
      await sweepAfter(46 * MIN)
      const entries = await u.scrape([h])
      assert.deepEqual(entries[0], { seeders: 0, completed: 0, leechers: 0 })
      const r = await u.announce({ infoHash: h, port: 12 })
      assert.deepEqual([r.leechers, r.seeders, r.peers.length], [1, 0, 0])
    } finally {
      u.close()
    }
  })

  test('71: a torrent with downloaded=0 and no peers is gone a few minutes after becoming empty', async () => {
    const h = freshHash()
    const k = h.toString('latin1')
    await announce(f.http4, { infoHash: h, port: 1 })
    assert.ok((await scrape(f.http4, [h])).has(k))
    await sweepAfter(45 * MIN) // the peer expires
    await sweepAfter(3 * MIN)
    await sweepAfter(3 * MIN)
    await sweepAfter(3 * MIN)
    assert.equal((await scrape(f.http4, [h])).size, 0, 'torrent removed')
  })

  test('71: a torrent with downloaded=0 emptied by event=stopped is gone a few minutes later', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1 })
    await announce(f.http4, { infoHash: h, port: 1, event: 'stopped' })
    for (let i = 0; i < 20; i++) await sweepAfter(3 * MIN) // one hour of 3-minute sweeps
    assert.equal((await scrape(f.http4, [h])).size, 0, 'torrent removed')
  })

  test('71: a torrent with downloaded>0 stays scrapable an hour after emptying and is gone after ~24 h', async () => {
    const h = freshHash()
    const k = h.toString('latin1')
    await announce(f.http4, { infoHash: h, port: 1, left: 0, event: 'completed' })
    await sweepAfter(45 * MIN) // peer expires
    await sweepAfter(60 * MIN)
    assert.deepEqual((await scrape(f.http4, [h])).get(k), { complete: 0, downloaded: 1, incomplete: 0 })
    await sweepAfter(10 * 60 * MIN)
    assert.deepEqual((await scrape(f.http4, [h])).get(k), { complete: 0, downloaded: 1, incomplete: 0 }, 'still there after ~12 h')
    await sweepAfter(13 * 60 * MIN) // ~24.5 h after the last announce
    await sweepAfter(60 * MIN)
    await sweepAfter(60 * MIN)
    assert.equal((await scrape(f.http4, [h])).size, 0, 'torrent removed after ~26 h')
  })

  test('a peer that keeps re-announcing every 30 minutes never expires', async () => {
    const h = freshHash()
    for (let i = 0; i < 6; i++) {
      await announce(f.http4, { infoHash: h, port: 1 })
      await sweepAfter(30 * MIN)
    }
    const r = await announce(f.http4, { infoHash: h, port: 2 })
    assert.deepEqual(keys(r.peers), [v4(1)])
  })
})
