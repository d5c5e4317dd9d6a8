import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { ManualClock } from '../../src/clock.js'
import { StateFileError, encodeState, isStateFile, loadStateBuffer, verifyState } from '../../src/state/statefile.js'
import { loadStateDumpBuffer } from '../../src/state/statedump.js'
import { SwarmStore } from '../../src/swarm/store.js'
import { announceKey, snapshotOf, stopKey, torrentOf } from '../helpers/store-view.js'

const limits = { peerTimeoutSeconds: 2700, torrentTimeoutSeconds: 86400 }
const T0 = 1_700_000_000
const key = (n: number): string => createHash('sha1').update(`sf-${n}`).digest().toString('latin1')
const ip4 = (n: number): Uint32Array => new Uint32Array([0x0a000000 + n])
const ip6 = (n: number): Uint32Array => new Uint32Array([0x20010db8, 0, 0, n])
const all = (): boolean => true

function newStore (now = T0): { store: SwarmStore, clock: ManualClock } {
  const clock = new ManualClock(now)
  return { store: new SwarmStore(clock, limits), clock }
}

async function encode (store: SwarmStore, now: number): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const b of encodeState(store, now)) parts.push(Buffer.from(b))
  return Buffer.concat(parts)
}

/** A store with v4 and v6 peers, seeders, completed counts and an empty torrent. */
function sample (): { store: SwarmStore, clock: ManualClock } {
  const s = newStore()
  const { store, clock } = s
  announceKey(store, key(1), 4, ip4(1), 1, true, true)
  announceKey(store, key(1), 4, ip4(2), 2, false, false)
  announceKey(store, key(1), 6, ip6(3), 3, false, false)
  clock.advance(100)
  announceKey(store, key(2), 6, ip6(4), 4, true, false)
  announceKey(store, key(3), 4, ip4(5), 5, false, false)
  stopKey(store, key(3), 4, ip4(5), 5) // an empty torrent
  store.restoreTorrentKey(key(4), T0 - 50, 42) // no peers, downloaded 42
  return s
}

function snapshot (store: SwarmStore): unknown {
  return snapshotOf(store)
}

test('encode → load round trip: torrents, peers of both families, flags, times, counts', async () => {
  const { store, clock } = sample()
  const data = await encode(store, clock.seconds)
  assert.ok(isStateFile(data))
  assert.deepEqual(verifyState(data), { torrents: 4, peers: 4, savedAt: clock.seconds })
  const b = newStore(clock.seconds)
  const r = loadStateBuffer(data, b.store, b.clock.seconds, 2700, all)
  assert.deepEqual(r, { torrents: 4, peers: 4, skippedTorrents: 0, expiredTorrents: 0, expiredPeers: 0, savedAt: clock.seconds })
  assert.deepEqual(snapshot(b.store), snapshot(store))
  assert.deepEqual([b.store.peers, b.store.peers6, b.store.seeders], [store.peers, store.peers6, store.seeders])
  // A completed peer stays completed: completing again does not count twice.
  const t = announceKey(b.store, key(1), 4, ip4(1), 1, true, true)
  assert.equal(t.downloaded, 1)
})

test('loading twice adds nothing (no doubling)', async () => {
  const { store, clock } = sample()
  const data = await encode(store, clock.seconds)
  const b = newStore(clock.seconds)
  loadStateBuffer(data, b.store, b.clock.seconds, 2700, all)
  const again = loadStateBuffer(data, b.store, b.clock.seconds, 2700, all)
  assert.equal(again.peers, 0)
  assert.deepEqual(snapshot(b.store), snapshot(store))
  assert.equal(b.store.peers, 4)
})

test('an empty store encodes to header + trailer and loads as nothing', async () => {
  const { store } = newStore()
  const data = await encode(store, T0)
  assert.equal(data.length, 16 + 28)
  const b = newStore()
  assert.deepEqual(loadStateBuffer(data, b.store, T0, 2700, all), { torrents: 0, peers: 0, skippedTorrents: 0, expiredTorrents: 0, expiredPeers: 0, savedAt: T0 })
})

test('every single flipped bit anywhere in the file is detected, and nothing is loaded', async () => {
  const { store, clock } = sample()
  const data = await encode(store, clock.seconds)
  for (let i = 0; i < data.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const bad = Buffer.from(data)
      bad[i] = bad[i]! ^ bit
      const b = newStore(clock.seconds)
      assert.throws(() => loadStateBuffer(bad, b.store, b.clock.seconds, 2700, all), StateFileError, `flip 0x${bit.toString(16)} at byte ${i} of ${data.length}`)
      assert.equal(b.store.torrentCount, 0, `byte ${i}: nothing half-loaded`)
    }
  }
})

test('every truncation and any appended bytes are detected', async () => {
  const { store, clock } = sample()
  const data = await encode(store, clock.seconds)
  for (let n = 0; n < data.length; n++) {
    assert.throws(() => verifyState(data.subarray(0, n)), StateFileError, `truncated to ${n} bytes`)
  }
  assert.throws(() => verifyState(Buffer.concat([data, Buffer.from([0])])), StateFileError)
})

test('peers older than the peer timeout are dropped on load; the torrents stay', async () => {
  const { store, clock } = sample()
  const data = await encode(store, clock.seconds)
  // key(1)'s peers announced at T0, key(2)'s at T0 + 100. Load 2650 s after T0 + 100: key(1)'s are 2750 s old.
  const b = newStore(T0 + 100 + 2650)
  const r = loadStateBuffer(data, b.store, b.clock.seconds, 2700, all)
  assert.equal(r.peers, 1)
  assert.equal(r.expiredPeers, 3)
  assert.equal(torrentOf(b.store, key(1))!.peers, 0)
  assert.equal(torrentOf(b.store, key(1))!.downloaded, 1)
  assert.equal(torrentOf(b.store, key(2))!.peers, 1)
  assert.deepEqual([b.store.peers, b.store.peers6, b.store.seeders], [1, 1, 1])
})

test('a state file saved 2^24 s (194 days) ago does not bring its peers back to life', async () => {
  // Peer times are stored modulo 2^24 s; the file's saved-at time must be taken into account.
  const { store, clock } = sample()
  const data = await encode(store, clock.seconds)
  for (const later of [2 ** 24, 2 ** 24 + 50, 3 * 2 ** 24, 5000]) {
    const b = newStore(clock.seconds + later)
    const r = loadStateBuffer(data, b.store, b.clock.seconds, 2700, all)
    assert.equal(r.peers, 0, `loaded ${later} s after saving: ${r.peers} peers restored`)
    assert.equal(r.expiredPeers, 4)
    assert.equal(b.store.peers, 0)
  }
})

test('torrents idle past the torrent timeout are not restored at all', async () => {
  const { store, clock } = sample()
  const data = await encode(store, clock.seconds)
  const b = newStore(clock.seconds + 86400 + 2700 + 200)
  const r = loadStateBuffer(data, b.store, b.clock.seconds, 2700, all)
  assert.equal(r.torrents, 0)
  assert.equal(r.expiredTorrents, store.torrentCount)
  assert.equal(b.store.torrentCount, 0)
})

test('the access lists apply to restored torrents', async () => {
  const { store, clock } = sample()
  const data = await encode(store, clock.seconds)
  const b = newStore(clock.seconds)
  const r = loadStateBuffer(data, b.store, b.clock.seconds, 2700, (k) => k !== key(1))
  assert.equal(r.skippedTorrents, 1)
  assert.equal(r.torrents, 3)
  assert.equal(torrentOf(b.store, key(1)), undefined)
})

test('large stores: records span several 1 MiB chunks and round-trip exactly', async () => {
  const { store } = newStore()
  for (let i = 0; i < 30_000; i++) {
    announceKey(store, key(1000 + i), 4, ip4(i & 0xff), 1 + (i % 5), i % 2 === 0, i % 4 === 0)
    if (i % 3 === 0) announceKey(store, key(1000 + i), 6, ip6(i), 7, false, false)
  }
  const k = key(999)
  for (let p = 0; p < 100_000; p++) announceKey(store, k, 4, ip4(p), 1 + (p % 60000), false, false) // one record larger than a 1 MiB chunk
  const data = await encode(store, T0)
  assert.ok(data.length > 2 * 1024 * 1024)
  const b = newStore()
  loadStateBuffer(data, b.store, T0, 2700, all)
  assert.deepEqual(snapshot(b.store), snapshot(store))
})

// ---- opentracker statedump loading ----

const line = (k: string, base: number, d: number): string => `${Buffer.from(k, 'latin1').toString('hex').toUpperCase()}:${base}:${d}\n`

test('statedump: expiry boundary, future bases, existing torrents keep the larger counts', () => {
  const { store } = newStore()
  const now = T0
  const min = Math.floor(now / 60)
  const text = line(key(1), min, 5) + line(key(2), Math.floor((now - 86400) / 60), 6) + line(key(3), Math.floor((now - 86400) / 60) + 1, 7) +
    line(key(4), min + 1000, 8)
  const r = loadStateDumpBuffer(Buffer.from(text), store, now, 86400, all)
  assert.deepEqual(r, { torrents: 3, rejectedLines: 0, expired: 1, denied: 0, existing: 0 })
  assert.equal(torrentOf(store, key(2)), undefined)
  assert.equal(torrentOf(store, key(3))!.downloaded, 7)
  assert.equal(torrentOf(store, key(4))!.lastActive, now, 'a base in the future is clamped to now')
  announceKey(store, key(1), 4, ip4(1), 1, true, true) // downloaded 6 now
  const again = loadStateDumpBuffer(Buffer.from(line(key(1), min, 5) + line(key(3), min, 70)), store, now, 86400, all)
  assert.equal(again.existing, 2)
  assert.equal(torrentOf(store, key(1))!.downloaded, 6)
  assert.equal(torrentOf(store, key(3))!.downloaded, 70)
  assert.equal(torrentOf(store, key(1))!.peers, 1, 'restoring never touches peers')
})
