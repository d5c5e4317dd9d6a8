import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock } from '../../src/clock.js'
import { CLASS_RECORDS } from '../../src/swarm/peer-heap.js'
import { FLAG_COMPLETED, FLAG_SEEDING, STRIDE_V4, STRIDE_V6, expirePeers, expiredSeeders, findPeer, selectPeers } from '../../src/swarm/peer-list.js'
import { split6, splitFamilies } from '../../src/swarm/reply-peers.js'
import { SwarmStore } from '../../src/swarm/store.js'
import { Prng } from '../helpers/prng.js'
import { announceKey, insertRecord, keysOf, recordsOf, stopKey, torrentOf } from '../helpers/store-view.js'

const KEY = 'x'.repeat(20)
const ip4 = (n: number): Uint32Array => new Uint32Array([0x0a000000 + n])
const limits = { peerTimeoutSeconds: 2700, torrentTimeoutSeconds: 86400 }

function newStore (): { store: SwarmStore, clock: ManualClock } {
  const clock = new ManualClock()
  return { store: new SwarmStore(clock, limits), clock }
}

test('seeders, leechers and downloaded are counted as opentracker counts them', () => {
  const { store } = newStore()
  let t = announceKey(store, KEY, 4, ip4(1), 1, false, false)
  assert.deepEqual([t.seeders, t.peers, t.downloaded], [0, 1, 0])
  t = announceKey(store, KEY, 4, ip4(1), 1, false, true) // completed with left != 0: ignored
  assert.equal(t.downloaded, 0)
  t = announceKey(store, KEY, 4, ip4(1), 1, true, true) // completes
  assert.deepEqual([t.seeders, t.peers, t.downloaded], [1, 1, 1])
  t = announceKey(store, KEY, 4, ip4(1), 1, true, true) // repeated completed: counted once
  assert.equal(t.downloaded, 1)
  t = announceKey(store, KEY, 4, ip4(2), 1, true, true) // a new peer that arrives completed
  assert.deepEqual([t.seeders, t.peers, t.downloaded], [2, 2, 2])
  t = announceKey(store, KEY, 4, ip4(2), 1, false, false) // seeder back to leecher
  assert.deepEqual([t.seeders, t.peers], [1, 2])
  assert.deepEqual([store.peers, store.seeders, store.completed], [2, 1, 2])
})

test('the same address with two ports is two peers; ip:port is the identity', () => {
  const { store } = newStore()
  announceKey(store, KEY, 4, ip4(1), 1000, false, false)
  const t = announceKey(store, KEY, 4, ip4(1), 1001, false, false)
  assert.equal(t.peers, 2)
})

test('stop removes the peer, keeps the torrent and never creates one', () => {
  const { store } = newStore()
  assert.equal(stopKey(store, KEY, 4, ip4(1), 1), undefined)
  assert.equal(store.torrentCount, 0)
  announceKey(store, KEY, 4, ip4(1), 1, true, true)
  const t = stopKey(store, KEY, 4, ip4(1), 1)
  assert.ok(t)
  assert.deepEqual([t.peers, t.seeders, t.downloaded], [0, 0, 1])
  assert.equal(store.torrentCount, 1)
  assert.deepEqual([store.peers, store.seeders], [0, 0])
})

test('a peer silent for the peer timeout is expired by a sweep', () => {
  const { store, clock } = newStore()
  announceKey(store, KEY, 4, ip4(1), 1, false, false)
  clock.advance(1000)
  announceKey(store, KEY, 4, ip4(2), 1, true, false)
  clock.advance(1699)
  store.sweepAll()
  assert.equal(torrentOf(store, KEY)!.peers, 2, 'still 1 s short of 45 minutes')
  clock.advance(1)
  store.sweepAll()
  assert.equal(torrentOf(store, KEY)!.peers, 1)
  assert.deepEqual([store.peers, store.seeders], [1, 1])
})

test('an empty torrent without downloads goes within minutes; with downloads it stays about a day', () => {
  const { store, clock } = newStore()
  announceKey(store, KEY, 4, ip4(1), 1, false, false)
  const other = 'y'.repeat(20)
  announceKey(store, other, 4, ip4(1), 1, true, true)
  stopKey(store, KEY, 4, ip4(1), 1)
  stopKey(store, other, 4, ip4(1), 1)
  store.sweepAll()
  assert.equal(store.torrentCount, 2, 'kept right after the stop')
  clock.advance(180)
  store.sweepAll()
  assert.equal(torrentOf(store, KEY), undefined)
  assert.ok(torrentOf(store, other))
  clock.advance(3600 * 23)
  store.sweepAll()
  assert.ok(torrentOf(store, other), 'kept for a day')
  clock.advance(3600 * 2)
  store.sweepAll()
  assert.equal(torrentOf(store, other), undefined)
})

/** Fills the words around a list (at `base`, room for `cap` records) with a marker that must survive. */
const GUARD = 0xdeadbeef
function guarded (base: number, cap: number, s: number): Uint32Array {
  return new Uint32Array(base + cap * s + 5).fill(GUARD)
}
function assertGuards (w: Uint32Array, base: number, cap: number, s: number): void {
  for (let i = 0; i < base; i++) assert.equal(w[i], GUARD, `word ${i} before the list untouched`)
  for (let i = base + cap * s; i < w.length; i++) assert.equal(w[i], GUARD, `word ${i} after the list untouched`)
}

test('peers are kept sorted by address and port, and found by binary search', () => {
  const base = 7
  const w = guarded(base, 10, STRIDE_V4)
  let count = 0
  const order = [5, 1, 9, 3, 7, 2, 8, 0, 6, 4]
  for (const n of order) {
    const at = findPeer(w, base, count, STRIDE_V4, ip4(n), 80)
    assert.ok(at < 0)
    count = insertRecord(w, base, count, STRIDE_V4, -at - 1, ip4(n), 80, 0)
  }
  for (let n = 0; n < 10; n++) assert.equal(findPeer(w, base, count, STRIDE_V4, ip4(n), 80), n)
  assert.ok(findPeer(w, base, count, STRIDE_V4, ip4(3), 81) < 0)
  assertGuards(w, base, 10, STRIDE_V4)
})

test('IPv6 records compare word by word, then by port', () => {
  const base = 12
  const w = guarded(base, 10, STRIDE_V6)
  let count = 0
  const addrs = [[0x20010db8, 0, 0, 2], [0x20010db8, 0, 1, 0], [0x20010db7, 0xffffffff, 0, 0], [0x20010db8, 0, 0, 1], [0xfe800000, 0, 0, 1]]
  for (const [i, a] of addrs.entries()) {
    for (const port of [443, 80]) {
      const at = findPeer(w, base, count, STRIDE_V6, new Uint32Array(a), port)
      assert.ok(at < 0, `address ${i} port ${port} not there yet`)
      count = insertRecord(w, base, count, STRIDE_V6, -at - 1, a, port, i)
    }
  }
  // Expected order: word by word as unsigned numbers, then the port.
  const sorted = addrs.flatMap((a) => [[...a, 80], [...a, 443]]).sort((x, y) => {
    for (let k = 0; k < 5; k++) if (x[k] !== y[k]) return x[k]! - y[k]!
    return 0
  })
  sorted.forEach((r, i) => assert.equal(findPeer(w, base, count, STRIDE_V6, new Uint32Array(r.slice(0, 4)), r[4]!), i))
  for (let i = 0; i < count; i++) assert.deepEqual([...w.subarray(base + i * 6, base + i * 6 + 5)], sorted[i])
  assert.ok(findPeer(w, base, count, STRIDE_V6, new Uint32Array([0x20010db8, 0, 0, 1]), 81) < 0)
  assertGuards(w, base, 10, STRIDE_V6)
})

test('selection returns leechers ascending then seeders descending, never the requester', () => {
  const base = 4
  const w = guarded(base, 8, STRIDE_V4)
  let count = 0
  for (let n = 0; n < 8; n++) count = insertRecord(w, base, count, STRIDE_V4, n, ip4(n), 80, n % 2 === 1 ? (FLAG_SEEDING << 24) >>> 0 : 0)
  const out = new Int32Array(16)
  const k = selectPeers(w, base, count, STRIDE_V4, 50, 2, out)
  assert.deepEqual([...out.subarray(0, k)], [0, 4, 6, 7, 5, 3, 1])
})

test('sampling picks distinct peers, skips the requester, and reaches every peer over many replies', () => {
  const base = 9
  const w = guarded(base, 100, STRIDE_V4)
  let count = 0
  for (let n = 0; n < 100; n++) count = insertRecord(w, base, count, STRIDE_V4, n, ip4(n), 80, 0)
  const out = new Int32Array(64)
  const seen = new Set<number>()
  for (let r = 0; r < 200; r++) {
    const k = selectPeers(w, base, count, STRIDE_V4, 10, 42, out)
    assert.equal(k, 10)
    const picked = new Set(out.subarray(0, k))
    assert.equal(picked.size, 10)
    assert.ok(!picked.has(42))
    for (const i of picked) seen.add(i)
  }
  assert.equal(seen.size, 99)
})

test('expiry drops records at or past the timeout, compacts the rest in place and counts the seeders removed', () => {
  const base = 5
  const w = guarded(base, 6, STRIDE_V4)
  let count = 0
  const now = 1_700_000_000
  // age in seconds, seeding
  const peers: Array<[number, boolean]> = [[0, false], [100, true], [100, false], [99, true], [5000, true], [101, false]]
  for (const [i, [age, seeding]] of peers.entries()) {
    count = insertRecord(w, base, count, STRIDE_V4, i, ip4(i), 80, (((seeding ? FLAG_SEEDING : 0) << 24) | ((now - age) & 0xffffff)) >>> 0)
  }
  const kept = expirePeers(w, base, count, STRIDE_V4, now, 100)
  assert.equal(kept, 2)
  assert.equal(expiredSeeders, 2)
  assert.deepEqual([w[base], w[base + 3]], [0x0a000000, 0x0a000003], 'the fresh ones, in order, moved to the front')
  assertGuards(w, base, 6, STRIDE_V4)
  // Ages wrap at 2^24 s: a record stamped just before the wrap is still 10 s old just after it.
  const wrap = guarded(0, 1, STRIDE_V4)
  insertRecord(wrap, 0, 0, STRIDE_V4, 0, ip4(1), 1, 0xfffffa)
  assert.equal(expirePeers(wrap, 0, 1, STRIDE_V4, 2 ** 24 * 3 + 4, 11), 1)
  assert.equal(expirePeers(wrap, 0, 1, STRIDE_V4, 2 ** 24 * 3 + 4, 10), 0)
  assert.equal(expiredSeeders, 0)
})

test('numwant is split between families as opentracker V2024 does', () => {
  assert.equal(splitFamilies(50, 10, 5), 10); assert.equal(split6, 5)
  assert.equal(splitFamilies(1, 4, 2), 0); assert.equal(split6, 1)
  const n4 = splitFamilies(50, 100, 100)
  assert.equal(n4 + split6, 50)
  assert.ok(n4 >= 12 && split6 >= 12)
  assert.equal(splitFamilies(10, 100, 0), 10); assert.equal(split6, 0)
})

// ---- the store against a model ----
//
// A plain Map model of what the store must hold (torrents by key, peers by ip:port with flags and
// time, downloaded, last activity), driven by seeded random announces, stops, sweeps (whole and in
// slices, with announces between slices), drops and clock moves, over a few thousand keys: enough
// to keep the index at its 3/4 load limit with heavy deletion (backward shifts), then to grow it.

interface MPeer { family: number, ip: number[], port: number, flags: number, time: number }
interface MTorrent { id: number, peers: Map<string, MPeer>, downloaded: number, lastActive: number }

const peerKeyOf = (family: number, ip: readonly number[], port: number): string => `${family}/${ip.join(',')}/${port}`
const EMPTY_GRACE = 120

class StoreModel {
  readonly torrents = new Map<string, MTorrent>()
  readonly byId = new Map<number, string>()
  peers = 0
  peers6 = 0
  seeders = 0
  completed = 0
  /** Torrents dropped so far (by sweeps or dropTorrent). */
  dropped = 0
  private cursor = 0

  constructor (readonly limits: { peerTimeoutSeconds: number, torrentTimeoutSeconds: number }) {}

  announce (key: string, family: number, ip: number[], port: number, leftIsZero: boolean, completed: boolean, now: number, id: number): void {
    let t = this.torrents.get(key)
    if (t === undefined) {
      assert.ok(!this.byId.has(id), `a new torrent got id ${id}, which a live torrent has`)
      t = { id, peers: new Map(), downloaded: 0, lastActive: now }
      this.torrents.set(key, t)
      this.byId.set(id, key)
    } else {
      assert.equal(id, t.id, 'a torrent keeps its id while it lives')
    }
    t.lastActive = now
    let flags = leftIsZero ? FLAG_SEEDING : 0
    if (completed && leftIsZero) flags |= FLAG_COMPLETED
    const k = peerKeyOf(family, ip, port)
    const p = t.peers.get(k)
    if (p !== undefined) {
      flags |= p.flags & FLAG_COMPLETED
      if ((flags & FLAG_COMPLETED) !== 0 && (p.flags & FLAG_COMPLETED) === 0) { t.downloaded++; this.completed++ }
      this.seeders += ((flags & FLAG_SEEDING) !== 0 ? 1 : 0) - ((p.flags & FLAG_SEEDING) !== 0 ? 1 : 0)
      p.flags = flags
      p.time = now
    } else {
      t.peers.set(k, { family, ip, port, flags, time: now })
      this.peers++
      if (family === 6) this.peers6++
      if ((flags & FLAG_SEEDING) !== 0) this.seeders++
      if ((flags & FLAG_COMPLETED) !== 0) { t.downloaded++; this.completed++ }
    }
  }

  /** The id stop must return: the torrent's, or -1 when unknown (and nothing is created). */
  stop (key: string, family: number, ip: number[], port: number, now: number): number {
    const t = this.torrents.get(key)
    if (t === undefined) return -1
    t.lastActive = now
    const k = peerKeyOf(family, ip, port)
    const p = t.peers.get(k)
    if (p !== undefined) this.removePeer(t, k, p)
    return t.id
  }

  drop (key: string): void {
    const t = this.torrents.get(key)!
    for (const [k, p] of t.peers) this.removePeer(t, k, p)
    this.torrents.delete(key)
    this.byId.delete(t.id)
    this.dropped++
  }

  /** What the store's sweepSlice does, over the same ids in the same order from the same cursor. */
  sweepSlice (budget: number, now: number): boolean {
    const ids = [...this.byId.keys()].filter((id) => id >= this.cursor).sort((a, b) => a - b)
    let id = this.cursor
    for (let i = 0; i < budget; i++) {
      if (i >= ids.length) { this.cursor = 0; return true }
      id = ids[i]!
      this.clean(this.byId.get(id)!, now)
      id++
    }
    this.cursor = id
    return false
  }

  sweepAll (now: number): void {
    this.cursor = 0
    while (!this.sweepSlice(1 << 20, now)) { /* until the pass ends */ }
  }

  private clean (key: string, now: number): void {
    const t = this.torrents.get(key)!
    for (const [k, p] of t.peers) if (now - p.time >= this.limits.peerTimeoutSeconds) this.removePeer(t, k, p)
    if (t.peers.size > 0) return
    const idle = now - t.lastActive
    if (idle >= this.limits.torrentTimeoutSeconds + this.limits.peerTimeoutSeconds || (t.downloaded === 0 && idle >= EMPTY_GRACE)) this.drop(key)
  }

  private removePeer (t: MTorrent, k: string, p: MPeer): void {
    t.peers.delete(k)
    this.peers--
    if (p.family === 6) this.peers6--
    if ((p.flags & FLAG_SEEDING) !== 0) this.seeders--
  }

  /** The records the store must hold for one family, as recordsOf gives them: sorted, meta as stored. */
  records (key: string, family: number): number[][] {
    const t = this.torrents.get(key)
    if (t === undefined) return []
    return [...t.peers.values()].filter((p) => p.family === family).map((p) => [...p.ip, p.port, ((p.flags << 24) | (p.time & 0xffffff)) >>> 0])
      .sort((a, b) => { for (let k = 0; k < a.length - 1; k++) if (a[k] !== b[k]) return a[k]! - b[k]!; return 0 })
  }
}

const hexOf = (key: string): string => Buffer.from(key, 'latin1').toString('hex')

/** One torrent: store and model agree on presence, id, counts, times and (when `deep`) every record. */
function checkTorrent (store: SwarmStore, model: StoreModel, key: string, deep: boolean, step: number): void {
  const t = model.torrents.get(key)
  const id = store.findKey(key)
  if (t === undefined) {
    if (id !== -1) assert.fail(`step ${step}: ${hexOf(key)} should be gone, found as id ${id}`)
    return
  }
  if (id !== t.id) assert.fail(`step ${step}: ${hexOf(key)} is id ${t.id}, find gave ${id}`)
  let n4 = 0
  let n6 = 0
  let seeders = 0
  for (const p of t.peers.values()) {
    if (p.family === 4) n4++
    else n6++
    if ((p.flags & FLAG_SEEDING) !== 0) seeders++
  }
  const got = [store.peersOf(id), store.seedersOf(id), store.countOf(id, 4), store.countOf(id, 6), store.downloaded(id), store.lastActive(id)]
  const want = [n4 + n6, seeders, n4, n6, t.downloaded, t.lastActive]
  if (got.join() !== want.join()) assert.fail(`step ${step}: ${hexOf(key)} [peers, seeders, v4, v6, downloaded, lastActive] is ${got.join()}, model ${want.join()}`)
  if (deep) {
    checkBlock(store.v4, id, step)
    checkBlock(store.v6, id, step)
    for (const family of [4, 6]) {
      const a = recordsOf(store, key, family)
      const b = model.records(key, family)
      if (JSON.stringify(a) !== JSON.stringify(b)) assert.deepEqual(a, b, `step ${step}: records of ${hexOf(key)} family ${family}`)
    }
  }
}

function checkTotals (store: SwarmStore, model: StoreModel, step: number): void {
  const got = [store.size, store.torrentCount, store.peers, store.peers6, store.seeders, store.completed]
  const want = [model.torrents.size, model.torrents.size, model.peers, model.peers6, model.seeders, model.completed]
  if (got.join() !== want.join()) assert.fail(`step ${step}: [size, torrentCount, peers, peers6, seeders, completed] is ${got.join()}, model ${want.join()}`)
  // Iteration yields exactly the live ids, each once, ascending.
  let n = 0
  let last = -1
  for (let id = store.next(0); id >= 0; id = store.next(id + 1)) {
    if (id <= last) assert.fail(`step ${step}: next() went from ${last} to ${id}`)
    if (!model.byId.has(id)) assert.fail(`step ${step}: next() yields id ${id}, which no live torrent has`)
    last = id
    n++
  }
  if (n !== model.torrents.size) assert.fail(`step ${step}: next() yields ${n} torrents, model has ${model.torrents.size}`)
}

/** Everything, slowly: every key of the pool, iteration by key, the model's own totals, and the block bookkeeping. */
function checkAll (store: SwarmStore, model: StoreModel, pool: readonly string[], step: number): void {
  checkTotals(store, model, step)
  for (const key of pool) checkTorrent(store, model, key, true, step)
  assert.deepEqual(new Set(keysOf(store)), new Set(model.torrents.keys()), `step ${step}: keys by iteration`)
  for (const [id, key] of model.byId) assert.equal(store.keyOf(id), key, `step ${step}: keyOf(${id})`)
  let peers = 0
  let peers6 = 0
  let seeders = 0
  for (const t of model.torrents.values()) {
    for (const p of t.peers.values()) {
      peers++
      if (p.family === 6) peers6++
      if ((p.flags & FLAG_SEEDING) !== 0) seeders++
    }
  }
  assert.deepEqual([model.peers, model.peers6, model.seeders], [peers, peers6, seeders], 'the model keeps its own totals right')
  // Blocks: a list has a block exactly when it has records, the block holds them, and above the
  // smallest classes it is at least a quarter full; ids not in use hold nothing; the heap's count
  // of words handed out is exactly the live blocks (no block leaked or freed twice).
  const highWater = store['highWater']
  for (const fc of [store.v4, store.v6]) {
    let used = 0
    for (let id = 0; id < highWater; id++) {
      if (!model.byId.has(id)) {
        if (fc.count[id] !== 0 || fc.cls[id] !== 0) assert.fail(`step ${step}: free id ${id} still has ${fc.count[id]} records / class ${fc.cls[id]! - 1}`)
        continue
      }
      used += checkBlock(fc, id, step)
    }
    assert.equal(fc.heap.usedWords, used, `step ${step}: stride ${fc.stride} heap words in use`)
    assert.ok(fc.heap.usedWords <= fc.heap.pageWords)
  }
}

/**
 * One list's block: there is one exactly when there are records, it holds them, and above the
 * classes never shrunk it is at least a quarter full. Returns its words.
 */
function checkBlock (fc: SwarmStore['v4'], id: number, step: number): number {
  const n = fc.count[id]!
  const cls = fc.cls[id]!
  if ((n === 0) !== (cls === 0)) assert.fail(`step ${step}: id ${id} has ${n} records and class ${cls - 1}`)
  if (cls === 0) return 0
  const cap = CLASS_RECORDS[cls - 1]!
  if (n > cap) assert.fail(`step ${step}: id ${id}: ${n} records in a block of ${cap}`)
  if (cls - 1 > 4 && n * 4 < cap) assert.fail(`step ${step}: id ${id}: ${n} records left in a block of ${cap}`)
  return fc.heap.blockWords(cls - 1)
}

interface Driver {
  store: SwarmStore
  model: StoreModel
  clock: ManualClock
  rng: Prng
  step: number
  /** What the run went through (reported as test diagnostics). */
  seen: { checks: number, slices: number, passes: number, maxPeers: number, maxClass: number, maxSize: number, minSize: number, sizeSum: number, sizeSamples: number }
}

function announceBoth (d: Driver, key: string, family: number, ip: number[], port: number, leftIsZero: boolean, completed: boolean): void {
  const hash = Buffer.alloc(27)
  const at = d.rng.int(8) // the hash need not start the buffer
  hash.write(key, at, 20, 'latin1')
  const id = d.store.announce(hash, at, family, new Uint32Array(ip), port, leftIsZero, completed)
  d.model.announce(key, family, ip, port, leftIsZero, completed, d.clock.seconds, id)
  // selfIndex points at the requester's record.
  assert.equal(d.store.selfFamily, family)
  const n = d.store.open(id, family)
  const s = family === 4 ? STRIDE_V4 : STRIDE_V6
  assert.ok(d.store.selfIndex >= 0 && d.store.selfIndex < n)
  const b = d.store.listBase + d.store.selfIndex * s
  assert.deepEqual([...d.store.listWords.subarray(b, b + s - 1)], [...ip, port], `step ${d.step}: selfIndex`)
}

function randomPeer (rng: Prng, hot: boolean): { family: number, ip: number[], port: number } {
  if (rng.chance(0.8)) return { family: 4, ip: [0x0a000000 + rng.int(hot ? 400 : 12)], port: 6881 + rng.int(3) }
  return { family: 6, ip: [0x20010db8, 0, rng.int(3), rng.int(hot ? 200 : 8)], port: 6881 + rng.int(2) }
}

/** One random operation on store and model alike. */
function randomStep (d: Driver, pool: readonly string[]): 'light' | 'heavy' {
  const { store, model, clock, rng } = d
  const r = rng.u32() / 2 ** 32
  if (r < 0.50) {
    const hot = rng.chance(0.15)
    const key = hot ? pool[rng.int(8)]! : rng.pick(pool)
    const p = randomPeer(rng, hot)
    announceBoth(d, key, p.family, p.ip, p.port, rng.chance(0.4), rng.chance(0.3))
    checkTorrent(store, model, key, true, d.step)
    return 'light'
  }
  if (r < 0.70) {
    let key = rng.pick(pool)
    let p = randomPeer(rng, false)
    const t = model.torrents.get(key)
    if (t !== undefined && t.peers.size > 0 && rng.chance(0.7)) p = rng.pick([...t.peers.values()])
    else if (rng.chance(0.5)) {
      key = pool[rng.int(8)]!
      const hot = model.torrents.get(key)
      if (hot !== undefined && hot.peers.size > 0 && rng.chance(0.8)) p = rng.pick([...hot.peers.values()])
    }
    const want = model.stop(key, p.family, p.ip, p.port, clock.seconds)
    const hash = Buffer.from(key, 'latin1')
    assert.equal(store.stop(hash, 0, p.family, new Uint32Array(p.ip), p.port), want, `step ${d.step}: stop's id`)
    checkTorrent(store, model, key, true, d.step)
    return 'light'
  }
  if (r < 0.85) {
    clock.advance(rng.int(90))
    return 'light'
  }
  if (r < 0.95) {
    const budget = rng.range(1, 400)
    const ended = store.sweepSlice(budget)
    assert.equal(ended, model.sweepSlice(budget, clock.seconds), `step ${d.step}: sweepSlice(${budget}) ends a pass`)
    d.seen.slices++
    if (ended) d.seen.passes++
    return 'heavy'
  }
  if (r < 0.97) {
    store.sweepAll()
    model.sweepAll(clock.seconds)
    return 'heavy'
  }
  if (r < 0.985) {
    if (model.byId.size === 0) return 'light'
    const id = rng.pick([...model.byId.keys()])
    const key = model.byId.get(id)!
    store.dropTorrent(id)
    model.drop(key)
    checkTorrent(store, model, key, false, d.step)
    return 'heavy'
  }
  if (rng.chance(0.5)) {
    // A swarm grows fast: one hot torrent gets a few hundred peers (large blocks, shrunk as they expire).
    const key = pool[rng.int(8)]!
    for (let i = 0; i < 300; i++) {
      const p = randomPeer(rng, true)
      announceBoth(d, key, p.family, p.ip, p.port, rng.chance(0.4), rng.chance(0.3))
    }
    checkTorrent(store, model, key, true, d.step)
    return 'heavy'
  }
  // A burst of new torrents (a flood after the sweeps emptied the index).
  for (let i = 0; i < 200; i++) {
    const key = rng.pick(pool)
    const p = randomPeer(rng, false)
    announceBoth(d, key, p.family, p.ip, p.port, rng.chance(0.4), rng.chance(0.3))
  }
  return 'heavy'
}

/**
 * Runs `steps` random steps over the keys of `pool`. With a `target`, new torrents are added
 * whenever fewer than 90% of it are live, so the index stays near that load while torrents expire.
 */
function runSteps (d: Driver, pool: readonly string[], steps: number, target = 0): void {
  let heavy = 0
  for (let i = 0; i < steps; i++) {
    d.step++
    let kind = randomStep(d, pool)
    if (d.store.size < target * 0.9 && d.rng.chance(0.2)) {
      for (let n = 0; n < 400 && d.store.size < target; n++) {
        const key = d.rng.pick(pool)
        if (d.model.torrents.has(key)) continue
        const p = randomPeer(d.rng, false)
        announceBoth(d, key, p.family, p.ip, p.port, d.rng.chance(0.4), d.rng.chance(0.3))
      }
      kind = 'heavy'
    }
    checkTotals(d.store, d.model, d.step)
    for (let k = 0; k < 3; k++) checkTorrent(d.store, d.model, d.rng.pick(pool), false, d.step)
    if (kind === 'heavy') heavy++
    if (d.step % 250 === 0 || (kind === 'heavy' && heavy % 16 === 0)) { checkAll(d.store, d.model, pool, d.step); d.seen.checks++ }
    if (d.step % 50 === 0) {
      d.seen.maxSize = Math.max(d.seen.maxSize, d.store.size)
      if (target > 0) { d.seen.minSize = Math.min(d.seen.minSize, d.store.size); d.seen.sizeSum += d.store.size; d.seen.sizeSamples++ }
      for (const key of pool.slice(0, 8)) {
        const id = d.store.findKey(key)
        if (id < 0) continue
        d.seen.maxPeers = Math.max(d.seen.maxPeers, d.store.peersOf(id))
        d.seen.maxClass = Math.max(d.seen.maxClass, d.store.v4.cls[id]! - 1, d.store.v6.cls[id]! - 1)
      }
    }
  }
}

test('model: random announces, stops, sliced and whole sweeps and drops over thousands of torrents, before and after the index grows', (t) => {
  const limits = { peerTimeoutSeconds: 900, torrentTimeoutSeconds: 1800 }
  const clock = new ManualClock()
  const store = new SwarmStore(clock, limits)
  const d: Driver = { store, model: new StoreModel(limits), clock, rng: new Prng(0x70d5_2026), step: 0, seen: { checks: 0, slices: 0, passes: 0, maxPeers: 0, maxClass: 0, maxSize: 0, minSize: Infinity, sizeSum: 0, sizeSamples: 0 } }
  const slots = (): number => store['slots'].length
  const initialSlots = slots()
  const keys: string[] = []
  const seen = new Set<string>()
  while (keys.length < 4600) {
    const k = d.rng.bytes(20).toString('latin1')
    if (!seen.has(k)) { seen.add(k); keys.push(k) }
  }
  // Two keys that differ in their last byte only, and the all-zero / all-ones keys.
  keys[10] = '\u0000'.repeat(20)
  keys[11] = '\u00ff'.repeat(20)
  keys[12] = 'k'.repeat(19) + 'a'
  keys[13] = 'k'.repeat(19) + 'b'

  // Phase 1: the index held at 3/4 load (3,000 torrents in 4,096 slots) with heavy churn.
  const pool1 = keys.slice(0, 3000)
  for (const key of pool1) announceBoth(d, key, 4, [0x0a000001], 1, false, false)
  assert.equal(store.size, 3000)
  assert.equal(slots(), initialSlots, 'still the initial index: full load')
  assert.ok(initialSlots * 3 / 4 >= 3000 && initialSlots * 3 / 4 < 3100, `the initial index has ${initialSlots} slots`)
  checkAll(store, d.model, pool1, 0)
  runSteps(d, pool1, 6000, 3000)
  const phase1Drops = d.model.dropped
  const phase1Mean = Math.round(d.seen.sizeSum / d.seen.sizeSamples)
  t.diagnostic(`phase 1: ${phase1Drops} torrents dropped, ${d.seen.minSize}-${d.seen.maxSize} live (mean ${phase1Mean}) in ${initialSlots} slots`)
  assert.ok(phase1Drops > 3000, `${phase1Drops} torrents dropped at full load`)
  assert.ok(phase1Mean > 2400, `the index stayed loaded (${phase1Mean} torrents on average)`)
  assert.equal(slots(), initialSlots)
  checkAll(store, d.model, pool1, d.step)

  // Phase 2: more keys than the index holds at 3/4: it grows (rehash) while torrents come and go.
  for (const key of keys) if (!d.model.torrents.has(key)) announceBoth(d, key, 6, [0x20010db8, 0, 0, 1], 1, true, false)
  assert.ok(store.size > 3072)
  assert.ok(slots() > initialSlots, 'the index grew')
  checkAll(store, d.model, keys, d.step)
  runSteps(d, keys, 6000)
  checkAll(store, d.model, keys, d.step)
  const dropped = d.model.dropped
  t.diagnostic(`${d.step} steps, ${dropped} torrents dropped (${phase1Drops} in phase 1), index ${slots()} slots, up to ${d.seen.maxSize} torrents, ` +
    `hot lists up to ${d.seen.maxPeers} peers (order ${d.seen.maxClass}), ${d.seen.slices} slices ending ${d.seen.passes} passes, ${d.seen.checks} full checks`)

  assert.ok(dropped > phase1Drops + 3000, `${dropped - phase1Drops} torrents dropped in phase 2`)
  assert.ok(d.seen.maxClass > 5, 'lists grew past the classes that are never shrunk')
  assert.ok(d.seen.passes > 10 && d.seen.slices > 100, 'sweeps ran in slices, with announces between them')
  // Everything expires: the store is empty and every peer block was given back.
  clock.advance(200_000)
  store.sweepAll()
  d.model.sweepAll(clock.seconds)
  assert.equal(d.model.torrents.size, 0)
  checkAll(store, d.model, keys, d.step)
  assert.deepEqual([store.size, store.peers, store.seeders, store.v4.heap.usedWords, store.v6.heap.usedWords], [0, 0, 0, 0, 0])
  assert.equal(store.next(0), -1)
  assert.ok(store['slots'].every((s: number) => s === -1), 'an empty index')

  // ...and works as new afterwards, reusing the freed ids.
  const highWater = store['highWater']
  runSteps(d, keys.slice(0, 500), 500)
  assert.equal(store['highWater'], highWater, 'freed ids are reused before new ones')
  checkAll(store, d.model, keys, d.step)
})

test('a list doubles its block as it grows and moves to a smaller one under a quarter full (stops and expiry), records intact', () => {
  const { store, clock } = newStore()
  const live = new Map<number, number>() // peer number → announce time
  const classOf = (): number => store.v4.cls[store.findKey(KEY)]! - 1
  const check = (what: string): void => {
    const id = store.findKey(KEY)
    const n = store.countOf(id, 4)
    assert.equal(n, live.size, what)
    checkBlock(store.v4, id, 0)
    assert.equal(store.v4.heap.usedWords, n === 0 ? 0 : store.v4.heap.blockWords(classOf()), `${what}: only this block is in use`)
    const want = [...live.keys()].sort((a, b) => a - b).map((p) => [0x0a000000 + p, 80, live.get(p)! & 0xffffff])
    assert.deepEqual(recordsOf(store, KEY, 4), want, `${what}: records`)
  }
  const order = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000) // all of 0-999, shuffled
  for (const [i, p] of order.entries()) {
    announceKey(store, KEY, 4, ip4(p), 80, false, false)
    live.set(p, clock.seconds)
    if (i % 50 === 0) clock.advance(60)
    const n = i + 1
    assert.equal(classOf(), Math.ceil(Math.log2(n)), `${n} records: the smallest block that holds them`)
    if ((n & (n - 1)) === 0 || n % 97 === 0) check(`growing to ${n}`)
  }
  // Stops from the top down to 300: the block halves as the list falls under a quarter of it.
  for (const p of order.slice(300).reverse()) {
    stopKey(store, KEY, 4, ip4(p), 80)
    live.delete(p)
    checkBlock(store.v4, store.findKey(KEY), 0)
    if (live.size % 37 === 0) check(`stopping, ${live.size} left`)
  }
  check('after the stops')
  // Expiry in steps: the 300 left were announced across 6 minutes; expire them a minute at a time.
  const times = [...new Set(live.values())].sort((a, b) => a - b)
  assert.ok(times.length >= 6)
  for (const at of times) {
    clock.seconds = at + limits.peerTimeoutSeconds
    store.sweepAll()
    for (const [p, time] of live) if (time <= at) live.delete(p)
    if (live.size === 0) break
    check(`expired up to ${at}`)
  }
  assert.equal(store.peers, 0)
  assert.equal(store.v4.heap.usedWords, 0, 'the empty list gave its block back')
})

test('keys sharing home slots, with runs wrapping round the end of the index, stay reachable through any order of deletions', () => {
  const rng = new Prng(0xb5d)
  for (let round = 0; round < 6; round++) {
    const clock = new ManualClock()
    const store = new SwarmStore(clock, limits)
    const size = store['slots'].length
    const homeOf = (key: Buffer): number => { store['loadKey'](key, 0); return store['hashKey']() & store['mask'] }
    // Crafted with the store's own seeded hash: 6 keys for each of these home slots.
    const targets = [size - 3, size - 2, size - 1, 0, 1, 700, 702]
    const crafted = new Map<number, string[]>(targets.map((h) => [h, []]))
    for (let tries = 0; [...crafted.values()].some((l) => l.length < 6); tries++) {
      assert.ok(tries < 2_000_000)
      const k = rng.bytes(20)
      const l = crafted.get(homeOf(k))
      if (l !== undefined && l.length < 6) l.push(k.toString('latin1'))
    }
    const keys = rng.chance(0.5) ? [...crafted.values()].flat() : [...crafted.values()].flat().reverse()
    // Some keys anywhere, which land in or next to the runs.
    for (let i = 0; i < 60; i++) keys.push(rng.bytes(20).toString('latin1'))
    for (let i = keys.length - 1; i > 0; i--) { const j = rng.int(i + 1); [keys[i], keys[j]] = [keys[j]!, keys[i]!] }
    const live = new Map<string, number>()
    const check = (what: string): void => {
      const slots: Int32Array = store['slots']
      const inIndex = [...slots].filter((s) => s >= 0).sort((a, b) => a - b)
      assert.deepEqual(inIndex, [...live.values()].sort((a, b) => a - b), `${what}: the index holds exactly the live ids`)
      for (const k of keys) {
        const id = store.findKey(k)
        if (live.has(k)) assert.equal(id, live.get(k), `${what}: ${hexOf(k)} (home ${homeOf(Buffer.from(k, 'latin1'))}) found`)
        else assert.equal(id, -1, `${what}: ${hexOf(k)} gone`)
      }
      // Every live key sits at its home or after it, with no empty slot in between.
      for (const [k, id] of live) {
        let i = homeOf(Buffer.from(k, 'latin1'))
        while (slots[i] !== id) { assert.notEqual(slots[i], -1, `${what}: a hole between ${hexOf(k)}'s home and its slot`); i = (i + 1) & (size - 1) }
      }
      assert.equal(store.size, live.size)
    }
    for (const k of keys) {
      live.set(k, store.restoreTorrentKey(k, clock.seconds, 1))
      if (rng.chance(0.3)) announceKey(store, k, 4, ip4(rng.int(5)), 1, false, false)
    }
    assert.ok(store['slots'][size - 1]! >= 0 && store['slots'][0]! >= 0, 'a run wraps round the end')
    check('after inserting')
    // Delete in random order, re-inserting some on the way.
    const order = [...keys]
    for (let i = order.length - 1; i > 0; i--) { const j = rng.int(i + 1); [order[i], order[j]] = [order[j]!, order[i]!] }
    for (const [n, k] of order.entries()) {
      store.dropTorrent(live.get(k)!)
      live.delete(k)
      check(`round ${round}, after deleting ${n + 1}`)
      if (rng.chance(0.2)) {
        const back = rng.pick(order.slice(0, n + 1))
        if (!live.has(back)) { live.set(back, store.restoreTorrentKey(back, clock.seconds, 1)); check(`round ${round}, after re-adding`) }
      }
    }
    for (const [k, id] of live) { store.dropTorrent(id); live.delete(k) }
    check(`round ${round}, emptied`)
    assert.deepEqual([store.size, store.peers], [0, 0])
  }
})
