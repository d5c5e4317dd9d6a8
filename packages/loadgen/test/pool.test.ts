import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AliasSampler, EVENT_COMPLETED, EVENT_NONE, EVENT_STARTED, EVENT_STOPPED, PEER_PORT_BASE, PeerPool, TorrentPool,
  Workload, aquaticWeight, percentEncode
} from '../src/pool.js'
import { Prng } from '../src/prng.js'

test('the alias sampler draws each index with its weight', () => {
  const weights = [1, 2, 3, 4, 0, 10]
  const s = new AliasSampler(weights)
  const rng = new Prng(7)
  const n = 200_000
  const seen = new Array<number>(weights.length).fill(0)
  for (let i = 0; i < n; i++) seen[s.sample(rng)]!++
  const total = weights.reduce((a, b) => a + b, 0)
  weights.forEach((w, i) => {
    const expected = (w / total) * n
    // 5 standard deviations of a binomial count, plus zero for zero weight.
    const sd = Math.sqrt(n * (w / total) * (1 - w / total))
    assert.ok(Math.abs(seen[i]! - expected) <= 5 * sd, `index ${i}: ${seen[i]} vs ${expected.toFixed(0)}`)
  })
  assert.equal(seen[4], 0)
})

test('the aquatic skew sends about three quarters of requests to the first 2% of torrents', () => {
  const n = 100_000
  let total = 0
  let head = 0
  for (let i = 0; i < n; i++) {
    const w = aquaticWeight(i, n)
    total += w
    if (i < n * 0.02) head += w
  }
  const expected = head / total
  assert.ok(expected > 0.7 && expected < 0.78, `analytic head share ${expected}`)
  const pool = new TorrentPool(n, 1)
  const rng = new Prng(3)
  let hits = 0
  const draws = 100_000
  for (let k = 0; k < draws; k++) if (pool.pick(rng) < n * 0.02) hits++
  assert.ok(Math.abs(hits / draws - expected) < 0.01, `sampled head share ${hits / draws} vs ${expected}`)
})

test('most torrents of a skewed pool see at most a couple of announces per million requests per torrent share', () => {
  // The long tail is flat at weight 0.5: a tail torrent is ~1/2.7 as likely as the average one.
  const n = 10_000
  const tail = aquaticWeight(n - 1, n)
  assert.equal(tail, 0.5)
  assert.ok(aquaticWeight(0, n) > 600)
})

test('the uniform pool draws every torrent alike', () => {
  const pool = new TorrentPool(4, 1, 'uniform')
  const rng = new Prng(5)
  const seen = [0, 0, 0, 0]
  for (let i = 0; i < 40_000; i++) seen[pool.pick(rng)]!++
  for (const s of seen) assert.ok(Math.abs(s - 10_000) < 500, String(seen))
})

test('pools are deterministic from the seed and their hashes are prefix-stable', () => {
  const a = new TorrentPool(1000, 42)
  const b = new TorrentPool(1000, 42)
  const c = new TorrentPool(10, 42)
  const d = new TorrentPool(1000, 43)
  assert.deepEqual(a.hashes, b.hashes)
  assert.deepEqual(c.hashes, a.hashes.subarray(0, 200))
  assert.notDeepEqual(a.hashes.subarray(0, 20), d.hashes.subarray(0, 20))
  const ra = new Prng(9)
  const rb = new Prng(9)
  for (let i = 0; i < 100; i++) assert.equal(a.pick(ra), b.pick(rb))
})

test('hashes are percent-encoded byte by byte, as clients send them', () => {
  assert.equal(percentEncode(Buffer.from([0, 0x41, 0xff]), 0, 3), '%00%41%FF')
  const pool = new TorrentPool(3, 1)
  assert.equal(pool.encodedHash(2).length, 60)
  assert.equal(Buffer.from(pool.encodedHash(2).replace(/%/g, ''), 'hex').toString('hex'), pool.hexHash(2))
})

test('peers have 20-byte ASCII ids, distinct ports and the requested seeder share', () => {
  const peers = new PeerPool(20_000, 1, 0.3)
  const id = peers.peerIdText(123)
  assert.equal(id.length, 20)
  assert.match(id, /^-OB0100-[0-9A-Za-z]{12}$/)
  assert.equal(new Set(peers.ports).size, 20_000)
  assert.equal(peers.ports[0], PEER_PORT_BASE)
  const seeders = peers.seeder.reduce((a, b) => a + b, 0)
  assert.ok(Math.abs(seeders / 20_000 - 0.3) < 0.02, String(seeders))
})

test('a workload draws the configured event mix and scrape share, and seeders announce left=0', () => {
  const w = new Workload(new TorrentPool(100, 1), new PeerPool(1000, 1, 0.3), { scrapeShare: 0.25, events: [0.1, 0.7, 0.1, 0.1], numwant: 50, scrapeHashes: 3 }, 1)
  const counts = new Map<number, number>()
  const d = { torrent: 0, peer: 0, event: 0, left: 0 }
  let scrapes = 0
  const n = 50_000
  for (let i = 0; i < n; i++) {
    if (w.nextIsScrape()) scrapes++
    w.drawAnnounce(d)
    counts.set(d.event, (counts.get(d.event) ?? 0) + 1)
    if (w.peers.seeder[d.peer] === 1 || d.event === EVENT_COMPLETED) assert.equal(d.left, 0)
    else assert.ok(d.left > 0)
  }
  assert.ok(Math.abs(scrapes / n - 0.25) < 0.01)
  assert.ok(Math.abs(counts.get(EVENT_STARTED)! / n - 0.1) < 0.01)
  assert.ok(Math.abs(counts.get(EVENT_NONE)! / n - 0.7) < 0.01)
  assert.ok(Math.abs(counts.get(EVENT_COMPLETED)! / n - 0.1) < 0.01)
  assert.ok(Math.abs(counts.get(EVENT_STOPPED)! / n - 0.1) < 0.01)
  const out = Buffer.alloc(60)
  assert.equal(w.drawScrapeHashes(out, 0), 60)
})
