// /sync (reference §10.1, otd's batch sync) through real sockets: export of own recent peers,
// import by GET ?changeset= and by POST, all-or-nothing validation, no echo, access lists,
// expiry, counters. Blessed requests come from 127.0.0.2 (MAY_SYNC); 127.0.0.1 is not blessed.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  SYNC_FLAG_COMPLETED, SYNC_FLAG_SEEDING, SYNC_FLAG_STOPPED, decodeChangeset, encodeChangeset, writeChangesetRecord4, writeChangesetRecord6
} from '@otd/proto'
import { MAY_SYNC } from '../../src/config.js'
import { trackerPool, type Fixture } from '../helpers/fixture.js'
import { exchangeFrom } from '../helpers/http-from.js'
import { torrentOf } from '../helpers/store-view.js'
import { get, header, pctAll, type Endpoint, type RawResponse } from '../helpers/http-raw.js'
import { announce, keys, scrape, testHash } from '../helpers/tracker-client.js'
import { UdpClient } from '../helpers/udp-raw.js'

const SYNC_HOST = '127.0.0.2'
const blessed = { blessed: [{ net: SYNC_HOST, perms: MAY_SYNC }] }
const fresh = trackerPool()

function syncGet (ep: Endpoint, target = '/sync', from = SYNC_HOST): Promise<RawResponse> {
  return exchangeFrom(ep, from, `GET ${target} HTTP/1.0\r\n\r\n`)
}

function syncPost (ep: Endpoint, body: Buffer, from = SYNC_HOST): Promise<RawResponse> {
  return exchangeFrom(ep, from, Buffer.concat([Buffer.from(`POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), body]))
}

function rec4 (ip: string, port: number, flags: number, age = 0): Buffer {
  const b = Buffer.alloc(8)
  const [a, c, d, e] = ip.split('.').map(Number) as [number, number, number, number]
  writeChangesetRecord4(b, 0, ((a << 24) | (c << 16) | (d << 8) | e) >>> 0, port, flags, age)
  return b
}

/** ip:port/flags of every record of a changeset body, per hex hash. */
function contents (body: Buffer): Map<string, string[]> {
  const r = decodeChangeset(body)
  assert.ok(r.ok, r.ok ? '' : r.error)
  assert.equal(r.end, body.length)
  const out = new Map<string, string[]>()
  for (const t of r.torrents) {
    const list: string[] = []
    for (let i = 0; i < t.count; i++) {
      const at = t.recordsOffset + i * (t.family === 4 ? 8 : 20)
      const ip = t.family === 4 ? [0, 1, 2, 3].map((k) => body[at + k]).join('.') : body.toString('hex', at, at + 16)
      const p = at + (t.family === 4 ? 4 : 16)
      list.push(`${ip}:${body.readUInt16BE(p)}/${body[p + 2]!.toString(16)}`)
    }
    const k = body.toString('hex', t.hashOffset, t.hashOffset + 20)
    out.set(k, [...(out.get(k) ?? []), ...list])
  }
  return out
}

describe('/sync access', () => {
  test('addresses without MAY_SYNC get 403 on GET and POST; a blessed one gets a changeset', async () => {
    const f = await fresh(blessed)
    assert.equal((await syncGet(f.http4, '/sync', '127.0.0.1')).status, 403)
    assert.equal((await syncPost(f.http4, encodeChangeset([]), '127.0.0.1')).status, 403)
    assert.equal((await syncGet(f.http4, `/sync?changeset=${pctAll(encodeChangeset([]))}`, '127.0.0.1')).status, 403)
    const res = await syncGet(f.http4)
    assert.equal(res.status, 200)
    assert.equal(res.body.toString('latin1'), 'd4:syncdee')
    assert.match(header(res, 'X-Otd-Tracker-Id') ?? '', /^\d+$/)
    assert.equal(header(res, 'Content-Type'), 'application/x-bittorrent')
  })

  test('with nobody blessed, /sync is refused to everyone', async () => {
    const f = await fresh()
    assert.equal((await syncGet(f.http4)).status, 403)
  })
})

describe('GET /sync: own peers announced in the last 5 minutes', () => {
  test('HTTP and UDP, IPv4 and IPv6 announces are exported with their flags; older peers are not', async () => {
    const f = await fresh(blessed, true)
    const h = testHash(9001)
    await announce(f.http4, { infoHash: h, port: 1001, left: 0, event: 'completed' })
    f.clock!.advance(6 * 60)
    await announce(f.http4, { infoHash: h, port: 1002, left: 10 })
    await announce(f.http6, { infoHash: h, port: 1003, left: 0 })
    const udp = await UdpClient.open(f.udp4)
    try {
      await udp.announce({ infoHash: h, port: 1004, left: 0n })
    } finally {
      udp.close()
    }
    const res = await syncGet(f.http4)
    assert.equal(res.status, 200)
    assert.equal(header(res, 'X-Otd-Sync-Peers'), '3')
    const c = contents(res.body)
    assert.deepEqual(c.get(h.toString('hex')), ['127.0.0.1:1002/0', '127.0.0.1:1004/80', '00000000000000000000000000000001:1003/80'])
    const longer = contents((await syncGet(f.http4, '/sync?since=600')).body)
    assert.deepEqual(longer.get(h.toString('hex'))?.slice(0, 2), ['127.0.0.1:1001/c0', '127.0.0.1:1002/0'])
    assert.equal((await syncGet(f.http4, '/sync?since=abc')).status, 400)
  })

  test('a stop is exported as a STOPPED record for 5 minutes', async () => {
    const f = await fresh(blessed, true)
    const h = testHash(9002)
    await announce(f.http4, { infoHash: h, port: 2001 })
    await announce(f.http4, { infoHash: h, port: 2001, event: 'stopped' })
    assert.deepEqual(contents((await syncGet(f.http4)).body).get(h.toString('hex')), ['127.0.0.1:2001/20'])
    f.clock!.advance(301)
    assert.equal((await syncGet(f.http4)).body.toString('latin1'), 'd4:syncdee')
  })
})

describe('importing changesets', () => {
  test('GET /sync?changeset= (repeatable) answers OK; the peers count in announces and scrapes', async () => {
    const f = await fresh(blessed)
    const h1 = testHash(9101)
    const h2 = testHash(9102)
    const c1 = encodeChangeset([{ infoHash: h1, family: 4, records: Buffer.concat([rec4('10.0.0.1', 6881, SYNC_FLAG_SEEDING | SYNC_FLAG_COMPLETED), rec4('10.0.0.2', 6882, 0)]) }])
    const c2 = encodeChangeset([{ infoHash: h2, family: 4, records: rec4('10.0.0.3', 6883, 0) }])
    const res = await syncGet(f.http4, `/sync?changeset=${pctAll(c1)}&changeset=${pctAll(c2)}`)
    assert.equal(res.status, 200, res.body.toString())
    assert.equal(res.body.toString(), 'OK')
    assert.equal(header(res, 'X-Otd-Sync-Result'), 'added=3 updated=0 removed=0 unchanged=0 denied=0 expired=0')
    const a = await announce(f.http4, { infoHash: h1, port: 7000, numwant: 50 })
    assert.deepEqual(keys(a.peers).sort(), ['10.0.0.1:6881', '10.0.0.2:6882'])
    assert.deepEqual([a.complete, a.incomplete, a.downloaded], [1, 2, 1])
    const s = await scrape(f.http4, [h2])
    assert.deepEqual(s.get(h2.toString('latin1')), { complete: 0, downloaded: 0, incomplete: 1 })
    assert.equal(f.tracker.counters.syncPeersReceived, 3)
  })

  test('POST /sync takes several changesets back to back, IPv6 included', async () => {
    const f = await fresh(blessed)
    const h = testHash(9103)
    const r6 = Buffer.alloc(20)
    writeChangesetRecord6(r6, 0, [0x20010db8, 0, 0, 7], 6881, SYNC_FLAG_SEEDING, 0)
    const body = Buffer.concat([
      encodeChangeset([{ infoHash: h, family: 4, records: rec4('10.0.1.1', 1, 0) }]),
      encodeChangeset([{ infoHash: h, family: 6, records: r6 }])
    ])
    const res = await syncPost(f.http4, body)
    assert.equal(res.status, 200, res.body.toString())
    const a = await announce(f.http6, { infoHash: h, port: 7000 })
    assert.deepEqual(keys(a.peers6), ['[2001:db8::7]:6881'])
    assert.deepEqual(keys(a.peers), ['10.0.1.1:1'])
  })

  test('a malformed changeset is refused with 400 and a reason, and nothing is imported', async () => {
    const f = await fresh(blessed)
    const h = testHash(9104)
    const good = encodeChangeset([{ infoHash: h, family: 4, records: rec4('10.0.2.1', 1, 0) }])
    const bad = Buffer.concat([Buffer.from('d4:syncd20:'), h, Buffer.from('7:1234567ee')])
    const viaPost = await syncPost(f.http4, Buffer.concat([good, bad]))
    assert.equal(viaPost.status, 400)
    assert.match(viaPost.body.toString(), /^nothing imported: changeset 2: sync: peer string at offset \d+ is 7 bytes/)
    const viaGet = await syncGet(f.http4, `/sync?changeset=${pctAll(good)}&changeset=${pctAll(bad)}`)
    assert.equal(viaGet.status, 400)
    assert.match(viaGet.body.toString(), /changeset 2/)
    assert.equal((await syncGet(f.http4, '/sync?changeset=%zz')).status, 400)
    assert.equal(torrentOf(f.tracker.store, h.toString('latin1')), undefined)
    assert.equal(f.tracker.store.peers, 0)
    assert.equal(f.tracker.counters.syncImportsRejected, 3)
    const noLength = await exchangeFrom(f.http4, SYNC_HOST, 'POST /sync HTTP/1.0\r\n\r\n')
    assert.equal(noLength.status, 411)
  })

  test('imported peers are not exported again (no echo), expire like others, and a STOPPED record removes them', async () => {
    const f = await fresh({ ...blessed, peerTimeoutSeconds: 600 }, true)
    const h = testHash(9105)
    const res = await syncPost(f.http4, encodeChangeset([{ infoHash: h, family: 4, records: Buffer.concat([rec4('10.0.3.1', 1, 0), rec4('10.0.3.2', 2, 0)]) }]))
    assert.equal(res.status, 200)
    assert.equal((await syncGet(f.http4)).body.toString('latin1'), 'd4:syncdee')
    assert.equal((await syncPost(f.http4, encodeChangeset([{ infoHash: h, family: 4, records: rec4('10.0.3.2', 2, SYNC_FLAG_STOPPED) }]))).status, 200)
    assert.equal(torrentOf(f.tracker.store, h.toString('latin1'))!.peers, 1)
    f.clock!.advance(601)
    f.tracker.sweep()
    assert.equal(f.tracker.store.peers, 0)
  })

  test('access lists are respected: a hash off the allow-list is not imported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otd-sync-'))
    after(() => rmSync(dir, { recursive: true, force: true }))
    const allowed = testHash(9106)
    const other = testHash(9107)
    const white = join(dir, 'white')
    writeFileSync(white, allowed.toString('hex') + '\n')
    const f: Fixture = await fresh({ ...blessed, whitelistFile: white })
    const res = await syncPost(f.http4, encodeChangeset([
      { infoHash: allowed, family: 4, records: rec4('10.0.4.1', 1, 0) },
      { infoHash: other, family: 4, records: rec4('10.0.4.2', 1, 0) }
    ]))
    assert.equal(header(res, 'X-Otd-Sync-Result'), 'added=1 updated=0 removed=0 unchanged=0 denied=1 expired=0')
    assert.equal(torrentOf(f.tracker.store, other.toString('latin1')), undefined)
    assert.equal(torrentOf(f.tracker.store, allowed.toString('latin1'))!.peers, 1)
  })

  test('metrics and stats mode=syncs report the sync traffic', async () => {
    const f = await fresh(blessed)
    await syncPost(f.http4, encodeChangeset([{ infoHash: testHash(9108), family: 4, records: rec4('10.0.5.1', 1, 0) }]))
    await syncGet(f.http4)
    const metrics = (await get(f.http4, '/metrics')).body.toString()
    assert.match(metrics, /^otd_sync_peers_received_total 1$/m)
    assert.match(metrics, /^otd_sync_received_records_total\{outcome="added"\} 1$/m)
    assert.match(metrics, /^otd_sync_imports_total\{result="applied"\} 1$/m)
    assert.match(metrics, /^otd_sync_exports_total 1$/m)
    const stats = JSON.parse((await get(f.http4, '/stats?mode=syncs&format=json')).body.toString()) as Record<string, unknown>
    assert.equal(stats.received, 1)
    assert.deepEqual(stats.batch, { exports: 1, exported_peers: 0, imports: 1, rejected: 0 })
  })
})
