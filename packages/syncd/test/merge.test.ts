import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SYNC_FLAG_COMPLETED, SYNC_FLAG_SEEDING, SYNC_FLAG_STOPPED, decodeChangeset, decodeChangesets, encodeChangeset, writeChangesetRecord4 } from '@otd/proto'
import {
  MAX_CHANGESETS_PER_REQUEST, MAX_PEERS_PER_CHANGESET, describeKey, encodePushes, mergeExports, mergeValues, parseExport, planPush,
  type PeerSet, type PushLog
} from '../src/index.js'

const H1 = Buffer.alloc(20, 1)
const H2 = Buffer.alloc(20, 2)

function rec (n: number, port: number, flags: number, age = 0): Buffer {
  const b = Buffer.alloc(8)
  writeChangesetRecord4(b, 0, 0x0a000000 + n, port, flags, age)
  return b
}

function key (hash: Buffer, n: number, port: number): string {
  return '4' + hash.toString('latin1') + rec(n, port, 0).toString('latin1', 0, 6)
}

const v = (flags: number, age: number): number => (flags << 8) | age

describe('parseExport', () => {
  test('reads a node export into peer keys with flags and age; IPv6 too', () => {
    const r6 = Buffer.alloc(20)
    r6.writeUInt32BE(0x20010db8, 0)
    r6.writeUInt16BE(443, 16)
    r6[18] = SYNC_FLAG_SEEDING
    r6[19] = 4
    const body = encodeChangeset([
      { infoHash: H1, family: 4, records: Buffer.concat([rec(1, 1, SYNC_FLAG_SEEDING, 2), rec(2, 2, SYNC_FLAG_STOPPED)]) },
      { infoHash: H2, family: 6, records: r6 }
    ])
    const set = parseExport(body)
    assert.equal(set.size, 3)
    assert.equal(set.get(key(H1, 1, 1)), v(SYNC_FLAG_SEEDING, 2))
    assert.equal(set.get(key(H1, 2, 2)), v(SYNC_FLAG_STOPPED, 0))
    const k6 = [...set.keys()].find((k) => k[0] === '6')!
    assert.deepEqual(describeKey(k6), { infoHash: H2.toString('hex'), peer: '[2001:db8:0:0:0:0:0:0]:443' })
    assert.deepEqual(describeKey(key(H1, 1, 1)), { infoHash: H1.toString('hex'), peer: '10.0.0.1:1' })
  })

  test('a malformed export is an error with the reason', () => {
    assert.throws(() => parseExport(Buffer.from('d4:syncd3:abcee')), /malformed changeset: sync: key at offset/)
    assert.throws(() => parseExport(Buffer.concat([encodeChangeset([]), Buffer.from('x')])), /trailing/)
  })
})

describe('merging (flags OR-ed; a stop wins unless the peer announced after it)', () => {
  test('live records: flags OR-ed, youngest age', () => {
    assert.equal(mergeValues(v(SYNC_FLAG_SEEDING, 3), v(SYNC_FLAG_COMPLETED | SYNC_FLAG_SEEDING, 1)), v(SYNC_FLAG_SEEDING | SYNC_FLAG_COMPLETED, 1))
    assert.equal(mergeValues(v(0, 0), v(0x10, 0)), v(0, 0)) // FROM_SYNC and other bits are not carried
  })

  test('a stop beats an older or same-age live record, and loses to a younger one', () => {
    assert.equal(mergeValues(v(SYNC_FLAG_STOPPED, 1), v(SYNC_FLAG_SEEDING, 3)), v(SYNC_FLAG_STOPPED, 1))
    assert.equal(mergeValues(v(SYNC_FLAG_SEEDING, 1), v(SYNC_FLAG_STOPPED, 1)), v(SYNC_FLAG_STOPPED, 1))
    assert.equal(mergeValues(v(SYNC_FLAG_STOPPED, 2), v(SYNC_FLAG_SEEDING, 0)), v(SYNC_FLAG_SEEDING, 0))
    assert.equal(mergeValues(v(SYNC_FLAG_STOPPED, 2), v(SYNC_FLAG_STOPPED, 4)), v(SYNC_FLAG_STOPPED, 2))
  })

  test('mergeExports skips failed nodes and remembers the first exporter of each peer', () => {
    const a: PeerSet = new Map([[key(H1, 1, 1), v(0, 0)]])
    const c: PeerSet = new Map([[key(H1, 1, 1), v(SYNC_FLAG_SEEDING, 1)], [key(H1, 2, 2), v(0, 0)]])
    const { merged, origin } = mergeExports([a, null, c])
    assert.deepEqual([...merged], [[key(H1, 1, 1), v(SYNC_FLAG_SEEDING, 0)], [key(H1, 2, 2), v(0, 0)]])
    assert.deepEqual([...origin.values()], [0, 2])
  })
})

describe('planning pushes', () => {
  test('a node gets what it does not export, and stops of peers it still has', () => {
    const merged: PeerSet = new Map([[key(H1, 1, 1), v(0, 0)], [key(H1, 2, 2), v(SYNC_FLAG_STOPPED, 0)], [key(H1, 3, 3), v(SYNC_FLAG_STOPPED, 2)]])
    const own: PeerSet = new Map([[key(H1, 1, 1), v(0, 0)], [key(H1, 2, 2), v(SYNC_FLAG_SEEDING, 1)], [key(H1, 3, 3), v(0, 1)]])
    const plan = planPush(merged, own, null, 0, 0)
    // 1: it has it; 2: its live record is older than the stop → push; 3: it announced after the stop → keep.
    assert.deepEqual([...plan.keys()], [key(H1, 2, 2)])
    assert.equal(planPush(merged, new Map(), null, 0, 0).size, 3)
  })

  test('the same flags are not pushed again within the dedupe window', () => {
    const merged: PeerSet = new Map([[key(H1, 1, 1), v(0, 0)], [key(H1, 2, 2), v(SYNC_FLAG_SEEDING, 0)]])
    const log: PushLog = new Map([[key(H1, 1, 1), [0, 1000]], [key(H1, 2, 2), [0, 1000]]])
    assert.deepEqual([...planPush(merged, new Map(), log, 1000 + 299_000, 300_000).keys()], [key(H1, 2, 2)]) // flags changed
    assert.equal(planPush(merged, new Map(), log, 1000 + 300_000, 300_000).size, 2) // window over
  })
})

describe('encoding pushes', () => {
  test(`changesets of at most ${MAX_PEERS_PER_CHANGESET} peers, at most ${MAX_CHANGESETS_PER_REQUEST} per request, nothing lost`, () => {
    const set: PeerSet = new Map()
    for (let i = 0; i < 5200; i++) set.set(key(H1, i, 1000 + (i % 7)), v(i % 2 === 0 ? SYNC_FLAG_SEEDING : 0, i % 5))
    for (let i = 0; i < 700; i++) set.set(key(H2, i, 80), v(0, 0))
    const bodies = encodePushes(set)
    assert.equal(bodies.length, 2)
    assert.deepEqual(bodies.map((b) => b.changesets), [10, 2])
    const seen: PeerSet = new Map()
    for (const b of bodies) {
      const r = decodeChangesets(b.body)
      assert.ok(r.ok)
      assert.equal(r.changesets.length, b.changesets)
      for (const c of r.changesets) {
        assert.ok(c.peers <= MAX_PEERS_PER_CHANGESET)
        for (const [k, val] of parseExport(b.body.subarray(c.start, c.end))) seen.set(k, val)
      }
    }
    assert.equal(seen.size, set.size)
    assert.deepEqual(new Map([...seen].sort()), new Map([...set].sort()))
  })

  test('nothing to push is no request', () => {
    assert.deepEqual(encodePushes(new Map()), [])
    const one = encodePushes(new Map([[key(H2, 1, 1), v(SYNC_FLAG_STOPPED, 0)]]))
    assert.equal(one.length, 1)
    const r = decodeChangeset(one[0]!.body)
    assert.ok(r.ok && r.peers === 1)
  })
})
