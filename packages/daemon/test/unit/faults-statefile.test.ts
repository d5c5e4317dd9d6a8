// The state encoder while the store changes under it (issue 8, "Faults"). A state file is written
// in 1 MiB chunks while the tracker keeps serving, so announces and stops change torrents between
// two chunks; every file the encoder produces must still be whole and consistent (found by the
// kill -9 test: a torrent that gained a peer while the previous chunk was written got its old
// peer count with its new peer words, a file with a valid checksum that every restart refused).

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { ManualClock } from '../../src/clock.js'
import { decodeState, encodeState } from '../../src/state/statefile.js'
import { SwarmStore } from '../../src/swarm/store.js'
import { announceKey, stopKey, torrentOf } from '../helpers/store-view.js'

const T0 = 1_700_000_000
const key = (n: number): string => createHash('sha1').update(`faults-${n}`).digest().toString('latin1')
const ip4 = (n: number): Uint32Array => new Uint32Array([0x0a000000 + n])
const ip6 = (n: number): Uint32Array => new Uint32Array([0x20010db8, 0, 0, n])

// 36-byte record head + one IPv4 peer (3 words): 21845 records fill the first 1 MiB chunk, so the
// encoder stops for the first flush with torrent 21845 in hand.
const RECORD = 36 + 12
const FIRST_CHUNK = Math.floor((1 << 20) / RECORD)

/** Encodes `store`, calling `between(i)` each time the encoder hands over a buffer (writes are async). */
async function encodeWhileChanging (store: SwarmStore, between: (i: number) => void): Promise<Buffer> {
  const parts: Buffer[] = []
  let i = 0
  for await (const b of encodeState(store, T0)) {
    parts.push(Buffer.from(b))
    between(i++)
  }
  return Buffer.concat(parts)
}

function storeOf (torrents: number): SwarmStore {
  const store = new SwarmStore(new ManualClock(T0), { peerTimeoutSeconds: 2700, torrentTimeoutSeconds: 86400 })
  for (let n = 0; n < torrents; n++) announceKey(store, key(n), 4, ip4(1), 1000, false, false)
  return store
}

for (const [what, change] of [
  ['gains IPv4 and IPv6 peers', (s: SwarmStore, k: string) => { for (let p = 2; p < 40; p++) announceKey(s, k, 4, ip4(p), 1000, true, true); announceKey(s, k, 6, ip6(1), 1, false, false) }],
  ['loses its only peer', (s: SwarmStore, k: string) => { stopKey(s, k, 4, ip4(1), 1000) }],
  ['grows past a whole chunk', (s: SwarmStore, k: string) => { for (let p = 2; p < 100_000; p++) announceKey(s, k, 4, ip4(p), 1000, false, false) }]
] as Array<[string, (s: SwarmStore, k: string) => void]>) {
  test(`a torrent that ${what} while the previous chunk is written is saved whole and consistent`, async () => {
    const store = storeOf(FIRST_CHUNK + 100)
    const pending = key(FIRST_CHUNK) // the torrent the encoder holds when it flushes the first chunk
    const data = await encodeWhileChanging(store, (i) => { if (i === 1) change(store, pending) })
    const s = decodeState(data) // throws if a record disagrees with its counts or the trailer
    assert.equal(s.torrents, FIRST_CHUNK + 100)
    const t = torrentOf(store, pending)!
    const r = s.records.find((x) => x.key === pending)!
    assert.equal(r.n4, t.v4, 'the record has the peers of the moment it was written')
    assert.equal(r.n6, t.v6)
    assert.equal(r.downloaded, t.downloaded)
    assert.equal(s.peers, store.peers)
  })
}

test('torrents changing at every chunk boundary of a multi-chunk write: the file decodes, counts agree', async () => {
  const store = storeOf(4 * FIRST_CHUNK)
  let n = 0
  const data = await encodeWhileChanging(store, () => {
    // Between chunks: new peers on many torrents (some already written, some not yet), stops, new torrents.
    for (let i = 0; i < 2000; i++) announceKey(store, key((n * 7919 + i * 104_729) % (4 * FIRST_CHUNK)), 4, ip4(2 + n), 1000, true, true)
    for (let i = 0; i < 500; i++) stopKey(store, key((n * 31 + i * 997) % (4 * FIRST_CHUNK)), 4, ip4(1), 1000)
    for (let i = 0; i < 100; i++) announceKey(store, key(10_000_000 + n * 100 + i), 6, ip6(n), 1, false, false)
    n++
  })
  const s = decodeState(data)
  assert.ok(n >= 5, `${n} chunks`)
  assert.ok(s.torrents >= 4 * FIRST_CHUNK)
  assert.equal(s.records.reduce((a, r) => a + r.n4 + r.n6, 0), s.peers)
})
