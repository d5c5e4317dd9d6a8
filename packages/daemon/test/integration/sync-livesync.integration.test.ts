// Live sync through real UDP sockets (reference §10.2 and otd's authenticated unicast):
// three in-process nodes converge without otsync; stops propagate; forged, replayed, stale,
// unblessed and own packets are dropped and counted; opentracker's multicast (§13.9 item 69).

import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { setTimeout as delay } from 'node:timers/promises'
import { after, describe, test } from 'node:test'
import {
  LIVESYNC_HEADER_BYTES, LIVESYNC_TRAILER_BYTES, livesyncType, writeLivesyncEntry4, writeLivesyncHeader, writeLivesyncSequence
} from '@otd/proto'
import { MAY_LIVESYNC } from '../../src/config.js'
import { PacketAuth } from '../../src/sync/packet-auth.js'
import { trackerPool, type Fixture } from '../helpers/fixture.js'
import { torrentOf } from '../helpers/store-view.js'
import { announce, keys, testHash } from '../helpers/tracker-client.js'

const KEY = '5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed'
const fresh = trackerPool()

/** Polls `pred` (a store condition, no network) until it holds; fails after `ms`. */
async function until (pred: () => boolean, what: string, ms = 4000): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await delay(5)
  }
}

function peersOf (f: Fixture, hash: Buffer): number {
  return torrentOf(f.tracker.store, hash.toString('latin1'))?.peers ?? 0
}

/** A UDP socket bound to `address`, closed after the file. */
async function udpFrom (address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4' })
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(0, address, () => { s.off('error', reject); resolve() }) })
  after(() => { try { s.close() } catch { /* closed */ } })
  return s
}

function send (s: dgram.Socket, pkt: Buffer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => s.send(pkt, port, host, (err) => err === null ? resolve() : reject(err)))
}

/** A plain (opentracker) IPv4 packet with one record. */
function plainPacket (trackerId: number, hash: Buffer, ip: number, port: number, flags: number): Buffer {
  const b = Buffer.alloc(LIVESYNC_HEADER_BYTES + 28)
  const o = writeLivesyncHeader(b, 0, trackerId, livesyncType(4, false))
  writeLivesyncEntry4(b, o, hash.toString('latin1'), ip, port, flags, 0)
  return b
}

/** An authenticated IPv4 packet with one record, signed with `key`. */
function authPacket (key: string, trackerId: number, counter: number, hash: Buffer, ip: number, port: number, flags: number, seconds = Math.floor(Date.now() / 1000)): Buffer {
  const b = Buffer.alloc(LIVESYNC_HEADER_BYTES + 28 + LIVESYNC_TRAILER_BYTES)
  let o = writeLivesyncHeader(b, 0, trackerId, livesyncType(4, true))
  o = writeLivesyncEntry4(b, o, hash.toString('latin1'), ip, port, flags, 0)
  const macAt = writeLivesyncSequence(b, o, seconds, counter)
  new PacketAuth(key).sign(b, macAt)
  return b
}

/** Three nodes that send authenticated live sync to each other by unicast. */
async function unicastCluster (): Promise<Fixture[]> {
  const nodes: Fixture[] = []
  for (let i = 0; i < 3; i++) {
    nodes.push(await fresh({ livesyncUnicastListen: { host: '127.0.0.1', port: 0 }, livesyncKey: KEY, livesyncFlushMs: 20 }))
  }
  const addrs = nodes.map((n) => n.tracker.sync.addresses().find((a) => a.kind === 'unicast')!)
  nodes.forEach((n, i) => n.tracker.sync.setPeers(addrs.filter((_, j) => j !== i).map((a) => ({ host: a.address, port: a.port }))))
  return nodes
}

describe('unicast live sync between three nodes (no otsync)', () => {
  test('a peer announced to A is returned by B and C; its stop removes it everywhere', async () => {
    const [a, b, c] = await unicastCluster() as [Fixture, Fixture, Fixture]
    const h = testHash(9301)
    await announce(a.http4, { infoHash: h, port: 6881, left: 0 })
    await until(() => peersOf(b, h) === 1 && peersOf(c, h) === 1, 'B and C to learn the peer')
    const fromB = await announce(b.http4, { infoHash: h, port: 7000 })
    assert.deepEqual(keys(fromB.peers), ['127.0.0.1:6881'])
    assert.equal(fromB.complete, 1)
    const fromC = await announce(c.http4, { infoHash: h, port: 7001 })
    assert.ok(keys(fromC.peers).includes('127.0.0.1:6881'))
    // B's and C's own announces reach A; what they learned from A never comes back (it would
    // arrive before them: one socket, in order, on the loopback).
    await until(() => a.tracker.counters.syncPeersReceived >= 2, 'B\'s and C\'s announces to reach A')
    assert.equal(a.tracker.counters.syncPeersReceived, 2)
    await announce(a.http4, { infoHash: h, port: 6881, event: 'stopped' })
    await until(() => b.tracker.counters.syncRemoved === 1 && c.tracker.counters.syncRemoved === 1, 'the stop to reach B and C')
    for (const n of [b, c]) assert.ok(!keys((await announce(n.http4, { infoHash: h, port: 7002 })).peers).includes('127.0.0.1:6881'))
    assert.equal(a.tracker.counters.syncLiveForged + a.tracker.counters.syncLiveReplayed + a.tracker.counters.syncLiveUnauthorized, 0)
  })

  test('forged, replayed, stale and unauthenticated packets are ignored and counted', async () => {
    const [a] = await unicastCluster() as [Fixture]
    const target = a.tracker.sync.addresses().find((x) => x.kind === 'unicast')!
    const s = await udpFrom('127.0.0.1')
    const h = testHash(9302)
    const c = a.tracker.counters
    // Signed with another key.
    await send(s, authPacket('ab'.repeat(32), 0x1111, 1, h, 0x0a000001, 1, 0x80), target.port, target.address)
    // A valid packet with one flipped record byte.
    const tampered = authPacket(KEY, 0x1111, 2, h, 0x0a000001, 1, 0x80)
    tampered[30] = tampered[30]! ^ 0xff
    await send(s, tampered, target.port, target.address)
    // A valid packet from ten minutes ago.
    await send(s, authPacket(KEY, 0x1111, 3, h, 0x0a000001, 1, 0x80, Math.floor(Date.now() / 1000) - 600), target.port, target.address)
    // Plain opentracker packet from an address without MAY_LIVESYNC.
    await send(s, plainPacket(0x1111, h, 0x0a000001, 1, 0x80), target.port, target.address)
    // Garbage.
    await send(s, Buffer.from('not a live sync packet'), target.port, target.address)
    await until(() => c.syncLivePacketsIn >= 5, 'five packets in')
    assert.deepEqual([c.syncLiveForged, c.syncLiveReplayed, c.syncLiveUnauthorized, c.syncLiveMalformed], [2, 1, 1, 1])
    assert.equal(peersOf(a, h), 0)
    // A valid one is applied once; sent again, it is a replay.
    const good = authPacket(KEY, 0x2222, 7, h, 0x0a000002, 2, 0x80)
    await send(s, good, target.port, target.address)
    await until(() => peersOf(a, h) === 1, 'the valid packet to apply')
    await send(s, good, target.port, target.address)
    await until(() => c.syncLiveReplayed === 2, 'the replay to be counted')
    assert.equal(c.syncPeersReceived, 1)
  })
})

describe('multicast live sync (reference §10.2, §13.9 item 69)', () => {
  /** Starts a node on the multicast group; null when this host cannot join it. */
  async function multicastNode (port: number, extra: Record<string, unknown> = {}): Promise<Fixture | null> {
    try {
      return await fresh({ livesyncListen: { host: '127.0.0.1', port }, livesyncFlushMs: 20, ...extra })
    } catch (err) {
      if (/cannot join live sync group/.test(String(err))) return null
      throw err
    }
  }

  test('item 69: a packet from a blessed address adds a seeder; from an unblessed one it is ignored', async (t) => {
    const node = await multicastNode(0, { blessed: [{ net: '127.0.0.2', perms: MAY_LIVESYNC }] })
    if (node === null) { t.skip('this host cannot join 224.0.23.5 on the loopback'); return }
    const port = node.tracker.sync.addresses().find((a) => a.kind === 'multicast')!.port
    const h = testHash(9401)
    const blessed = await udpFrom('127.0.0.2')
    blessed.setMulticastInterface('127.0.0.2')
    blessed.setMulticastLoopback(true)
    const stranger = await udpFrom('127.0.0.3')
    stranger.setMulticastInterface('127.0.0.3')
    stranger.setMulticastLoopback(true)
    // To the group, as an opentracker node would send it...
    await send(stranger, plainPacket(0xabad1dea, h, 0x0a000009, 9, 0x80), port, '224.0.23.5')
    await send(blessed, plainPacket(0xabad1dea, h, 0x0a000001, 6881, 0x80), port, '224.0.23.5')
    await until(() => peersOf(node, h) === 1, 'the blessed packet to apply')
    const r = await announce(node.http4, { infoHash: h, port: 7000 })
    assert.deepEqual(keys(r.peers), ['10.0.0.1:6881'])
    assert.equal(r.complete, 1)
    // ...and by unicast to the listen socket (the receive path without multicast routing).
    const h2 = testHash(9402)
    await send(blessed, plainPacket(0xabad1dea, h2, 0x0a000002, 6882, 0x80), port, '127.0.0.1')
    await until(() => peersOf(node, h2) === 1, 'the unicast packet to the listen socket to apply')
    await until(() => node.tracker.counters.syncLiveUnauthorized >= 1, 'the unblessed packet to be counted')
    assert.equal(node.tracker.counters.syncLiveUnauthorized, 1)
  })

  test('three nodes on one group converge; each drops its own packets', async (t) => {
    const bless = { blessed: [{ net: '127.0.0.1', perms: MAY_LIVESYNC }] }
    const first = await multicastNode(0, bless)
    if (first === null) { t.skip('this host cannot join 224.0.23.5 on the loopback'); return }
    const port = first.tracker.sync.addresses().find((a) => a.kind === 'multicast')!.port
    const second = (await multicastNode(port, bless))!
    const third = (await multicastNode(port, bless))!
    const h = testHash(9403)
    await announce(second.http4, { infoHash: h, port: 5001, left: 0 })
    await until(() => peersOf(first, h) === 1 && peersOf(third, h) === 1, 'the group to learn the peer')
    await until(() => second.tracker.counters.syncLiveOwn >= 1, 'the sender to drop its own looped-back packet')
    assert.equal(peersOf(second, h), 1)
    await announce(third.http4, { infoHash: h, port: 5001, event: 'stopped' })
    await until(() => peersOf(first, h) === 0 && peersOf(second, h) === 0, 'the stop to reach the group')
  })
})
