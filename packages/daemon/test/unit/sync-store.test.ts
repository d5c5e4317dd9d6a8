// Cluster sync over the store, without sockets: the store's sync tap, the applier shared by
// /sync and live sync (sync/apply.ts), the export of own recent peers (sync/export.ts) and the
// stop log, plus the MAC and replay window of authenticated live sync (sync/packet-auth.ts).

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  LIVESYNC_HEADER_BYTES, LIVESYNC_TRAILER_BYTES, SYNC_FLAG_COMPLETED, SYNC_FLAG_SEEDING, SYNC_FLAG_STOPPED, decodeChangeset,
  encodeChangeset, livesyncType, writeChangesetRecord4, writeChangesetRecord6, writeLivesyncEntry4, writeLivesyncHeader,
  writeLivesyncSequence
} from '@otd/proto'
import { AccessLists } from '../../src/access/access-lists.js'
import { ManualClock } from '../../src/clock.js'
import { FLAG_FROM_SYNC } from '../../src/swarm/peer-list.js'
import { SwarmStore, type SyncTap } from '../../src/swarm/store.js'
import { APPLY_ADDED, APPLY_DENIED, APPLY_EXPIRED, APPLY_REMOVED, APPLY_UNCHANGED, APPLY_UPDATED, SyncApplier } from '../../src/sync/apply.js'
import { EXPORT_SLICE_TORRENTS, exportChangeset, exportChangesetSliced } from '../../src/sync/export.js'
import { AUTH_FORGED, AUTH_OK, AUTH_REPLAYED, AUTH_STALE, PacketAuth, REPLAY_WINDOW } from '../../src/sync/packet-auth.js'
import { StopLog } from '../../src/sync/stop-log.js'
import { announceKey, flagsOfPeer, stopKey, torrentOf } from '../helpers/store-view.js'
import { pino } from 'pino'

const K1 = 'a'.repeat(20)
const K2 = 'b'.repeat(20)
const limits = { peerTimeoutSeconds: 2700, torrentTimeoutSeconds: 86400 }
const ip4 = (n: number): Uint32Array => new Uint32Array([0x0a000000 + n])

function setup (): { store: SwarmStore, clock: ManualClock, applier: SyncApplier, access: AccessLists } {
  const clock = new ManualClock()
  const store = new SwarmStore(clock, limits)
  const access = new AccessLists('', '', pino({ level: 'silent' }))
  return { store, clock, access, applier: new SyncApplier(store, access, limits.peerTimeoutSeconds) }
}

function record4 (n: number, port: number, flags: number, age = 0): Buffer {
  const b = Buffer.alloc(8)
  writeChangesetRecord4(b, 0, 0x0a000000 + n, port, flags, age)
  return b
}

function flagsOf (store: SwarmStore, key: string, n: number, port: number): number {
  const flags = flagsOfPeer(store, key, 4, ip4(n), port)
  assert.ok(flags >= 0, 'peer present')
  return flags
}

describe('the store tells the sync tap what live sync sends (reference §10.2)', () => {
  test('new peers, renewals after more than 10 minutes, newly completed, and every stop (even for unknown torrents)', () => {
    const { store, clock } = setup()
    const told: string[] = []
    const tap: SyncTap = {
      announced: (key, family, ip, port, flags) => told.push(`+${key[0]!}${family}:${ip[0]! & 0xff}:${port}:${flags.toString(16)}`),
      stopped: (key, family, ip, port) => told.push(`-${key[0]!}${family}:${ip[0]! & 0xff}:${port}`)
    }
    store.syncTap = tap
    announceKey(store, K1, 4, ip4(1), 1, false, false) // new
    clock.advance(60)
    announceKey(store, K1, 4, ip4(1), 1, false, false) // renewal after 1 minute: not told
    clock.advance(11 * 60)
    announceKey(store, K1, 4, ip4(1), 1, false, false) // after 11 minutes: told
    announceKey(store, K1, 4, ip4(1), 1, true, true) // newly completed: told
    announceKey(store, K1, 4, ip4(1), 1, true, true) // completed again: not told
    stopKey(store, K2, 4, ip4(9), 9) // unknown torrent: told anyway
    stopKey(store, K1, 4, ip4(1), 1)
    assert.deepEqual(told, ['+a4:1:1:0', '+a4:1:1:0', '+a4:1:1:c0', '-b4:9:9', '-a4:1:1'])
  })

  test('a peer learned from sync that announces here becomes our own (FROM_SYNC cleared)', () => {
    const { store, applier, clock } = setup()
    assert.equal(applier.apply(K1, 4, record4(1, 1, 0), 0, clock.seconds), APPLY_ADDED)
    assert.equal(flagsOf(store, K1, 1, 1) & FLAG_FROM_SYNC, FLAG_FROM_SYNC)
    announceKey(store, K1, 4, ip4(1), 1, false, false)
    assert.equal(flagsOf(store, K1, 1, 1) & FLAG_FROM_SYNC, 0)
  })
})

describe('applying received records (sync/apply.ts)', () => {
  test('adds with FROM_SYNC, counts seeders and a completed download; drops COMPLETED without SEEDING', () => {
    const { store, applier, clock } = setup()
    const now = clock.seconds
    assert.equal(applier.apply(K1, 4, record4(1, 1, SYNC_FLAG_SEEDING | SYNC_FLAG_COMPLETED), 0, now), APPLY_ADDED)
    assert.equal(applier.apply(K1, 4, record4(2, 1, SYNC_FLAG_COMPLETED), 0, now), APPLY_ADDED)
    const t = torrentOf(store, K1)!
    assert.deepEqual([t.peers, t.seeders, t.downloaded, store.peers, store.seeders, store.completed], [2, 1, 1, 2, 1, 1])
    assert.equal(flagsOf(store, K1, 2, 1), FLAG_FROM_SYNC)
    assert.equal(flagsOf(store, K1, 1, 1), SYNC_FLAG_SEEDING | SYNC_FLAG_COMPLETED | FLAG_FROM_SYNC)
  })

  test('IPv6 records', () => {
    const { store, applier, clock } = setup()
    const b = Buffer.alloc(20)
    writeChangesetRecord6(b, 0, [0x20010db8, 0, 0, 5], 6881, SYNC_FLAG_SEEDING, 0)
    assert.equal(applier.apply(K1, 6, b, 0, clock.seconds), APPLY_ADDED)
    assert.deepEqual([store.peers6, torrentOf(store, K1)!.v6, store.seeders], [1, 1, 1])
  })

  test('the age sets the last announce, so a synced peer expires when it would have at its node', () => {
    const { store, applier, clock } = setup()
    assert.equal(applier.apply(K1, 4, record4(1, 1, 0, 40), 0, clock.seconds), APPLY_ADDED) // 40 minutes old
    assert.equal(applier.apply(K1, 4, record4(2, 1, 0, 45), 0, clock.seconds), APPLY_EXPIRED) // already past 2700 s
    clock.advance(4 * 60)
    store.sweepAll()
    assert.equal(torrentOf(store, K1)!.peers, 1)
    clock.advance(60)
    store.sweepAll()
    assert.equal(torrentOf(store, K1)?.peers ?? 0, 0)
  })

  test('STOPPED removes the peer, but not one that announced after the stop; never creates a torrent', () => {
    const { store, applier, clock } = setup()
    assert.equal(applier.apply(K2, 4, record4(1, 1, SYNC_FLAG_STOPPED), 0, clock.seconds), APPLY_UNCHANGED)
    assert.equal(torrentOf(store, K2), undefined)
    announceKey(store, K1, 4, ip4(1), 1, true, false)
    announceKey(store, K1, 4, ip4(2), 1, false, false)
    assert.equal(applier.apply(K1, 4, record4(1, 1, SYNC_FLAG_STOPPED, 2), 0, clock.seconds), APPLY_UNCHANGED) // stopped 2 min ago, announced now
    assert.equal(applier.apply(K1, 4, record4(1, 1, SYNC_FLAG_STOPPED, 0), 0, clock.seconds), APPLY_REMOVED)
    assert.deepEqual([torrentOf(store, K1)!.peers, store.peers, store.seeders], [1, 1, 0])
  })

  test('a removal learned from sync is not told to the tap again', () => {
    const { store, applier, clock } = setup()
    announceKey(store, K1, 4, ip4(1), 1, false, false)
    let stops = 0
    store.syncTap = { announced: () => {}, stopped: () => { stops++ } }
    applier.apply(K1, 4, record4(1, 1, SYNC_FLAG_STOPPED), 0, clock.seconds)
    assert.equal(stops, 0)
    assert.ok(store.syncTap !== null)
  })

  test('a newer record replaces a peer (which becomes FROM_SYNC); an older or equal one changes nothing', () => {
    const { store, applier, clock } = setup()
    announceKey(store, K1, 4, ip4(1), 1, false, false) // own, now
    assert.equal(applier.apply(K1, 4, record4(1, 1, SYNC_FLAG_SEEDING, 3), 0, clock.seconds), APPLY_UNCHANGED)
    assert.equal(flagsOf(store, K1, 1, 1), 0)
    clock.advance(120)
    assert.equal(applier.apply(K1, 4, record4(1, 1, SYNC_FLAG_SEEDING, 0), 0, clock.seconds), APPLY_UPDATED)
    assert.equal(flagsOf(store, K1, 1, 1), SYNC_FLAG_SEEDING | FLAG_FROM_SYNC)
    assert.deepEqual([store.seeders, torrentOf(store, K1)!.seeders], [1, 1])
    assert.equal(applier.apply(K1, 4, record4(1, 1, SYNC_FLAG_SEEDING, 0), 0, clock.seconds), APPLY_UNCHANGED)
  })

  test('respects the access lists', async () => {
    const { store, clock } = setup()
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const dir = mkdtempSync(join(tmpdir(), 'otd-sync-'))
    try {
      const file = join(dir, 'white')
      writeFileSync(file, Buffer.from(K1, 'latin1').toString('hex') + '\n')
      const access = new AccessLists(file, '', pino({ level: 'silent' }))
      await access.reload()
      const applier = new SyncApplier(store, access, 2700)
      assert.equal(applier.apply(K1, 4, record4(1, 1, 0), 0, clock.seconds), APPLY_ADDED)
      assert.equal(applier.apply(K2, 4, record4(1, 1, 0), 0, clock.seconds), APPLY_DENIED)
      assert.equal(torrentOf(store, K2), undefined)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('exporting own recent peers (sync/export.ts)', () => {
  test('exports own peers of the window with flags and age; never those learned from sync (no echo)', () => {
    const { store, applier, clock } = setup()
    announceKey(store, K1, 4, ip4(1), 1, true, true) // seeding, completed
    clock.advance(10 * 60)
    announceKey(store, K1, 4, ip4(2), 2, false, false)
    clock.advance(2 * 60 + 5)
    announceKey(store, K2, 6, new Uint32Array([0x20010db8, 0, 0, 1]), 3, false, false)
    applier.apply(K2, 4, record4(3, 3, SYNC_FLAG_SEEDING), 0, clock.seconds) // from sync
    const r = exportChangeset(store, null, clock.seconds, 300)
    assert.deepEqual([r.torrents, r.peers, r.stopped], [2, 2, 0])
    const d = decodeChangeset(r.body)
    assert.ok(d.ok)
    assert.deepEqual(d.torrents.map((t) => [r.body.toString('latin1', t.hashOffset, t.hashOffset + 20)[0], t.family, t.count]), [['a', 4, 1], ['b', 6, 1]])
    const t4 = d.torrents[0]!
    assert.equal(r.body.readUInt32BE(t4.recordsOffset), 0x0a000002)
    assert.equal(r.body.readUInt16BE(t4.recordsOffset + 4), 2)
    assert.equal(r.body[t4.recordsOffset + 6], 0)
    assert.equal(r.body[t4.recordsOffset + 7], 2) // 125 s: 2 minutes
    // A longer window reaches the older seeder, with its flags.
    const all = exportChangeset(store, null, clock.seconds, 2700)
    assert.equal(all.peers, 3)
    assert.match(all.body.toString('hex'), new RegExp('0a000001' + '0001' + 'c0' + '0c'))
  })

  test('stops of the window are exported as STOPPED records, unless the peer came back', () => {
    const { store, clock } = setup()
    const log = new StopLog(4)
    store.syncTap = { announced: () => {}, stopped: (key, family, ip, port) => log.record(key, family, ip, port, clock.seconds) }
    announceKey(store, K1, 4, ip4(1), 1, false, false)
    stopKey(store, K1, 4, ip4(1), 1)
    stopKey(store, K1, 4, ip4(2), 2)
    stopKey(store, K1, 4, ip4(2), 2) // twice: exported once
    clock.advance(90)
    stopKey(store, K2, 6, new Uint32Array([1, 2, 3, 4]), 5)
    announceKey(store, K1, 4, ip4(2), 2, false, false) // came back
    const r = exportChangeset(store, log, clock.seconds, 300)
    assert.deepEqual([r.peers, r.stopped], [1, 2])
    const hex = r.body.toString('hex')
    assert.match(hex, new RegExp('0a000001' + '0001' + '20' + '01')) // stopped 1 minute ago
    assert.match(hex, new RegExp('00000001000000020000000300000004' + '0005' + '20' + '00'))
    clock.advance(300)
    assert.equal(exportChangeset(store, log, clock.seconds, 300).stopped, 0)
  })

  test('the sliced export (the event loop served between slices) gives the same changeset', async () => {
    const { store, clock } = setup()
    const n = EXPORT_SLICE_TORRENTS * 2 + 7
    for (let i = 0; i < n; i++) announceKey(store, String(i).padStart(20, 'k'), 4, ip4(i % 200), 1000 + (i % 3), i % 2 === 0, false)
    announceKey(store, K1, 6, new Uint32Array([0x20010db8, 0, 0, 1]), 3, false, false)
    const sliced = await exportChangesetSliced(store, null, clock.seconds, 300)
    const whole = exportChangeset(store, null, clock.seconds, 300)
    assert.equal(sliced.peers, n + 1)
    assert.deepEqual(sliced.body, whole.body)
  })

  test('the stop log is a ring: the oldest stops are forgotten first', () => {
    const log = new StopLog(2)
    for (let i = 1; i <= 3; i++) log.record(K1, 4, ip4(i), i, 1000 + i)
    const seen: number[] = []
    log.forEachRecent(1010, 300, (slots, at) => seen.push(slots.readUInt16BE(at + 36)))
    assert.deepEqual(seen, [3, 2])
  })

  test('a changeset exported by one store imports into another with the same peers', () => {
    const a = setup()
    const b = setup()
    for (let i = 1; i <= 50; i++) announceKey(a.store, i % 2 === 0 ? K1 : K2, 4, ip4(i), 1000 + i, i % 3 === 0, false)
    const r = exportChangeset(a.store, null, a.clock.seconds, 300)
    const d = decodeChangeset(r.body)
    assert.ok(d.ok)
    for (const t of d.torrents) {
      const key = r.body.toString('latin1', t.hashOffset, t.hashOffset + 20)
      for (let i = 0; i < t.count; i++) assert.equal(b.applier.apply(key, 4, r.body, t.recordsOffset + 8 * i, b.clock.seconds), APPLY_ADDED)
    }
    assert.deepEqual([b.store.peers, b.store.seeders], [a.store.peers, a.store.seeders])
    // ...and b exports none of them (all FROM_SYNC).
    assert.equal(exportChangeset(b.store, null, b.clock.seconds, 300).peers, 0)
    assert.ok(encodeChangeset([]).length > 0)
  })
})

describe('authenticated live-sync packets (sync/packet-auth.ts)', () => {
  const KEY = '00112233445566778899aabbccddeeff'
  function packet (counter: number, seconds: number): { buf: Buffer, macAt: number } {
    const buf = Buffer.alloc(LIVESYNC_HEADER_BYTES + 28 + LIVESYNC_TRAILER_BYTES)
    let o = writeLivesyncHeader(buf, 0, 77, livesyncType(4, true))
    o = writeLivesyncEntry4(buf, o, K1, 0x7f000001, 1, 0x80, 0)
    const macAt = writeLivesyncSequence(buf, o, seconds, counter)
    return { buf, macAt }
  }

  test('accepts a signed packet once; a replay, a changed byte, another key or a stale clock are refused', () => {
    const sender = new PacketAuth(KEY)
    const receiver = new PacketAuth(KEY)
    const now = 1_700_000_000
    const p = packet(1, now)
    sender.sign(p.buf, p.macAt)
    assert.equal(receiver.check(p.buf, p.macAt, 77, now, 1, now), AUTH_OK)
    assert.equal(receiver.check(p.buf, p.macAt, 77, now, 1, now), AUTH_REPLAYED)
    const tampered = Buffer.from(p.buf)
    tampered[30] = tampered[30]! ^ 1
    assert.equal(receiver.check(tampered, p.macAt, 77, now, 2, now), AUTH_FORGED)
    const other = packet(3, now)
    new PacketAuth('ff'.repeat(16)).sign(other.buf, other.macAt)
    assert.equal(receiver.check(other.buf, other.macAt, 77, now, 3, now), AUTH_FORGED)
    const old = packet(4, now - 61)
    sender.sign(old.buf, old.macAt)
    assert.equal(receiver.check(old.buf, old.macAt, 77, now - 61, 4, now), AUTH_STALE)
  })

  test('tolerates reordering within the window, refuses counters that fell out of it', () => {
    const a = new PacketAuth(KEY)
    const now = 1_700_000_000
    const check = (counter: number): number => {
      const p = packet(counter, now)
      a.sign(p.buf, p.macAt)
      return a.check(p.buf, p.macAt, 9, now, counter, now)
    }
    assert.equal(check(10), AUTH_OK)
    assert.equal(check(12), AUTH_OK)
    assert.equal(check(11), AUTH_OK) // late, but within the window
    assert.equal(check(11), AUTH_REPLAYED)
    assert.equal(check(12 + REPLAY_WINDOW), AUTH_OK)
    assert.equal(check(12), AUTH_REPLAYED) // fell out of the window
    assert.equal(a.senderCount, 1)
    a.prune(now + 121)
    assert.equal(a.senderCount, 0)
  })
})

