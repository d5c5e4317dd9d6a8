import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock } from '../../src/clock.js'
import { FLAG_SEEDING, PeerList, STRIDE_V4, findPeer, insertPeerAt, selectPeers } from '../../src/swarm/peer-list.js'
import { split6, splitFamilies } from '../../src/swarm/reply-peers.js'
import { SwarmStore } from '../../src/swarm/store.js'

const KEY = 'x'.repeat(20)
const ip4 = (n: number): Uint32Array => new Uint32Array([0x0a000000 + n])
const limits = { peerTimeoutSeconds: 2700, torrentTimeoutSeconds: 86400 }

function newStore (): { store: SwarmStore, clock: ManualClock } {
  const clock = new ManualClock()
  return { store: new SwarmStore(clock, limits), clock }
}

test('seeders, leechers and downloaded are counted as opentracker counts them', () => {
  const { store } = newStore()
  let t = store.announce(KEY, 4, ip4(1), 1, false, false)
  assert.deepEqual([t.seeders, t.peers, t.downloaded], [0, 1, 0])
  t = store.announce(KEY, 4, ip4(1), 1, false, true) // completed with left != 0: ignored
  assert.equal(t.downloaded, 0)
  t = store.announce(KEY, 4, ip4(1), 1, true, true) // completes
  assert.deepEqual([t.seeders, t.peers, t.downloaded], [1, 1, 1])
  t = store.announce(KEY, 4, ip4(1), 1, true, true) // repeated completed: counted once
  assert.equal(t.downloaded, 1)
  t = store.announce(KEY, 4, ip4(2), 1, true, true) // a new peer that arrives completed
  assert.deepEqual([t.seeders, t.peers, t.downloaded], [2, 2, 2])
  t = store.announce(KEY, 4, ip4(2), 1, false, false) // seeder back to leecher
  assert.deepEqual([t.seeders, t.peers], [1, 2])
  assert.deepEqual([store.peers, store.seeders, store.completed], [2, 1, 2])
})

test('the same address with two ports is two peers; ip:port is the identity', () => {
  const { store } = newStore()
  store.announce(KEY, 4, ip4(1), 1000, false, false)
  const t = store.announce(KEY, 4, ip4(1), 1001, false, false)
  assert.equal(t.peers, 2)
})

test('stop removes the peer, keeps the torrent and never creates one', () => {
  const { store } = newStore()
  assert.equal(store.stop(KEY, 4, ip4(1), 1), undefined)
  assert.equal(store.torrentCount, 0)
  store.announce(KEY, 4, ip4(1), 1, true, true)
  const t = store.stop(KEY, 4, ip4(1), 1)
  assert.ok(t)
  assert.deepEqual([t.peers, t.seeders, t.downloaded], [0, 0, 1])
  assert.equal(store.torrentCount, 1)
  assert.deepEqual([store.peers, store.seeders], [0, 0])
})

test('a peer silent for the peer timeout is expired by a sweep', () => {
  const { store, clock } = newStore()
  store.announce(KEY, 4, ip4(1), 1, false, false)
  clock.advance(1000)
  store.announce(KEY, 4, ip4(2), 1, true, false)
  clock.advance(1699)
  store.sweepAll()
  assert.equal(store.get(KEY)!.peers, 2, 'still 1 s short of 45 minutes')
  clock.advance(1)
  store.sweepAll()
  assert.equal(store.get(KEY)!.peers, 1)
  assert.deepEqual([store.peers, store.seeders], [1, 1])
})

test('an empty torrent without downloads goes within minutes; with downloads it stays about a day', () => {
  const { store, clock } = newStore()
  store.announce(KEY, 4, ip4(1), 1, false, false)
  const other = 'y'.repeat(20)
  store.announce(other, 4, ip4(1), 1, true, true)
  store.stop(KEY, 4, ip4(1), 1)
  store.stop(other, 4, ip4(1), 1)
  store.sweepAll()
  assert.equal(store.torrentCount, 2, 'kept right after the stop')
  clock.advance(180)
  store.sweepAll()
  assert.equal(store.get(KEY), undefined)
  assert.ok(store.get(other))
  clock.advance(3600 * 23)
  store.sweepAll()
  assert.ok(store.get(other), 'kept for a day')
  clock.advance(3600 * 2)
  store.sweepAll()
  assert.equal(store.get(other), undefined)
})

test('peers are kept sorted by address and port, and found by binary search', () => {
  const list = new PeerList(STRIDE_V4)
  const order = [5, 1, 9, 3, 7, 2, 8, 0, 6, 4]
  for (const n of order) {
    const at = findPeer(list, ip4(n), 80)
    assert.ok(at < 0)
    insertPeerAt(list, -at - 1, ip4(n), 80, 0)
  }
  for (let n = 0; n < 10; n++) assert.equal(findPeer(list, ip4(n), 80), n)
  assert.ok(findPeer(list, ip4(3), 81) < 0)
})

test('selection returns leechers ascending then seeders descending, never the requester', () => {
  const list = new PeerList(STRIDE_V4)
  for (let n = 0; n < 8; n++) insertPeerAt(list, n, ip4(n), 80, n % 2 === 1 ? (FLAG_SEEDING << 24) >>> 0 : 0)
  const out = new Int32Array(16)
  const k = selectPeers(list, 50, 2, out)
  assert.deepEqual([...out.subarray(0, k)], [0, 4, 6, 7, 5, 3, 1])
})

test('sampling picks distinct peers, skips the requester, and reaches every peer over many replies', () => {
  const list = new PeerList(STRIDE_V4)
  for (let n = 0; n < 100; n++) insertPeerAt(list, n, ip4(n), 80, 0)
  const out = new Int32Array(64)
  const seen = new Set<number>()
  for (let r = 0; r < 200; r++) {
    const k = selectPeers(list, 10, 42, out)
    assert.equal(k, 10)
    const picked = new Set(out.subarray(0, k))
    assert.equal(picked.size, 10)
    assert.ok(!picked.has(42))
    for (const i of picked) seen.add(i)
  }
  assert.equal(seen.size, 99)
})

test('numwant is split between families as opentracker V2024 does', () => {
  assert.equal(splitFamilies(50, 10, 5), 10); assert.equal(split6, 5)
  assert.equal(splitFamilies(1, 4, 2), 0); assert.equal(split6, 1)
  const n4 = splitFamilies(50, 100, 100)
  assert.equal(n4 + split6, 50)
  assert.ok(n4 >= 12 && split6 >= 12)
  assert.equal(splitFamilies(10, 100, 0), 10); assert.equal(split6, 0)
})
