// State dump and restore in-process, through real sockets (reference §9, checklist §13.9 item 68):
// `tracker.loadStateDump()` (what -l runs) without opentracker's bugs, statedump → restore round
// trips, the warm-restart state file (`stateFile`, `tracker.saveState()`) with its corruption
// checks, and the admin GET/POST /otd/state round trip.

import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { pino, type Logger } from 'pino'
import { MAY_ALL, MAY_STAT } from '../../src/config.js'
import { CLOCK_START, startTracker } from '../helpers/fixture.js'
import type { Fixture, TrackerOptions } from '../helpers/fixture.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { tempDir } from '../helpers/ops-otd-bin.js'
import { hdr, parseBenFullScrape, parseOpsReply, request, sendRaw } from '../helpers/ops-http.js'
import type { OpsReply } from '../helpers/ops-http.js'
import { announce, keys, pool, scrape, testHash, v4, v6 } from '../helpers/tracker-client.js'

const dir = tempDir('otd-state-')
const fixtures: Fixture[] = []
after(async () => {
  await Promise.all(fixtures.map((f) => f.close()))
  rmSync(dir, { recursive: true, force: true })
})

interface Captured { lines: Array<{ level: number, msg: string }> }

function capture (): { logger: Logger, log: Captured } {
  const log: Captured = { lines: [] }
  const logger = pino({ level: 'info' }, { write: (s: string) => { log.lines.push(JSON.parse(s) as { level: number, msg: string }) } }) as unknown as Logger
  return { logger, log }
}

async function fresh (extra: Partial<TrackerOptions> = {}): Promise<Fixture> {
  const f = await startTracker(extra, { manualClock: true })
  fixtures.push(f)
  return f
}

const NOW_MIN = Math.floor(CLOCK_START / 60)
const HEX = (h: Buffer): string => h.toString('hex').toUpperCase()
let fileNo = 0
function file (text: string | Buffer): string {
  const p = join(dir, `f${++fileNo}`)
  writeFileSync(p, text)
  return p
}

async function fullScrape (ep: Endpoint, target = '/scrape'): Promise<OpsReply> {
  return parseOpsReply(await sendRaw(ep, `GET ${target} HTTP/1.1\r\n\r\n`, { timeoutMs: 10_000 }))
}

describe('68: -l state dump restore (tracker.loadStateDump)', () => {
  const good = [testHash(11001), testHash(11002), testHash(11003), testHash(11004)]
  const old = testHash(11005)
  const edge = testHash(11006)
  const garbage = [
    'garbage',
    `${'Z'.repeat(40)}:${NOW_MIN}:5`,
    `${HEX(testHash(11100))}:abc:5`,
    `${HEX(testHash(11101))}:${NOW_MIN}:`,
    `${HEX(testHash(11102))}:${NOW_MIN}:1:2`,
    `${HEX(testHash(11103))} :${NOW_MIN}:5`,
    `${HEX(testHash(11104)).slice(0, 39)}:${NOW_MIN}:5`,
    `${HEX(testHash(11105))}${HEX(testHash(11106))}:${NOW_MIN}:5`,
    `G${HEX(good[0]!).slice(1)}:${NOW_MIN}:5`, // opentracker turns this into a bogus torrent
    `${HEX(testHash(11107))}:${NOW_MIN}:1234567890123456`,
    `${HEX(testHash(11108))}:-1:5`
  ]
  const dump = [
    `${HEX(good[0]!)}:${NOW_MIN}:42`,
    ...garbage.slice(0, 5),
    `${good[1]!.toString('hex')}:${NOW_MIN - 10}:7`, // lowercase hex is fine
    '',
    '   ',
    `${HEX(old)}:${NOW_MIN - 24 * 60 - 1}:9`, // older than 24 h
    `${HEX(edge)}:${NOW_MIN - 24 * 60 + 2}:3`, // just inside 24 h
    ...garbage.slice(5),
    `${HEX(good[2]!)}:${NOW_MIN}:1\r`, // CRLF
    `${HEX(good[3]!)}:${NOW_MIN}:0` // downloaded 0: restored, dropped by the cleaner within minutes; last line without newline
  ].join('\n')

  test('HEX:<now_min>:42 → downloaded 42 (not 84); older than 24 h → absent; garbage counted, never a torrent', async () => {
    const { logger, log } = capture()
    const f = await fresh({ logger })
    const r = f.tracker.loadStateDump(file(dump))
    assert.deepEqual(r, { torrents: 5, rejectedLines: garbage.length, expired: 1, denied: 0, existing: 0 })
    const warn = log.lines.find((l) => l.msg.includes('statedump'))
    assert.ok(warn !== undefined && warn.level === 40, 'a warning when lines were rejected')
    assert.match(warn.msg, new RegExp(`5 torrents restored, ${garbage.length} malformed line\\(s\\) ignored, 1 older than the torrent timeout`))

    const s = await scrape(f.http4, [good[0]!, good[1]!, old, edge, good[2]!, good[3]!])
    assert.deepEqual(s.get(good[0]!.toString('latin1')), { complete: 0, downloaded: 42, incomplete: 0 })
    assert.deepEqual(s.get(good[1]!.toString('latin1')), { complete: 0, downloaded: 7, incomplete: 0 })
    assert.deepEqual(s.get(edge.toString('latin1')), { complete: 0, downloaded: 3, incomplete: 0 })
    assert.deepEqual(s.get(good[2]!.toString('latin1')), { complete: 0, downloaded: 1, incomplete: 0 })
    assert.equal(s.has(old.toString('latin1')), false, 'a base older than 24 h is dropped')
    // Exactly the valid lines became torrents: nothing from garbage.
    const all = parseBenFullScrape((await fullScrape(f.http4)).body).map((x) => x.hash.toString('hex'))
    assert.deepEqual(all, [...good, edge].map((h) => h.toString('hex')).sort())
    assert.equal((await request(f.http4, '/stats?mode=torr')).body.toString(), '5\n0\nopentracker serving 5 torrents\nopentracker')

    // Restoring the same dump again does not double anything.
    const again = f.tracker.loadStateDump(file(dump))
    assert.equal(again.existing, 5)
    assert.equal(again.torrents, 0)
    assert.equal((await scrape(f.http4, [good[0]!])).get(good[0]!.toString('latin1'))!.downloaded, 42)

    // An announce continues the restored count.
    const a = await announce(f.http4, { infoHash: good[0]!, port: 5, left: 0, event: 'completed' })
    assert.equal(a.downloaded, 43)

    // The cleaner: downloaded 0 goes within minutes, downloaded > 0 stays.
    f.clock!.advance(5 * 60)
    f.tracker.sweep()
    const later = await scrape(f.http4, [good[3]!, good[1]!])
    assert.equal(later.has(good[3]!.toString('latin1')), false)
    assert.equal(later.has(good[1]!.toString('latin1')), true)
    // The edge torrent (just inside 24 h) ages out after the timeout plus the peer timeout.
    f.clock!.advance(86400 + 2700)
    f.tracker.sweep()
    assert.equal((await scrape(f.http4, [edge])).size, 0)
  })

  test('a file of nothing but garbage creates nothing', async () => {
    const f = await fresh()
    const r = f.tracker.loadStateDump(file(garbage.join('\n') + '\n'))
    assert.equal(r.torrents, 0)
    assert.equal(r.rejectedLines, garbage.length)
    assert.equal(f.tracker.store.torrentCount, 0)
    assert.equal((await fullScrape(f.http4)).body.toString(), 'd5:filesdee')
  })

  test('a missing file throws ENOENT (the command logs it and goes on)', async () => {
    const f = await fresh()
    assert.throws(() => f.tracker.loadStateDump(join(dir, 'missing')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT')
  })

  test('a whitelist applies to restored torrents', async () => {
    const wl = file(`${HEX(good[0]!)}\n`)
    const f = await fresh({ whitelistFile: wl })
    const r = f.tracker.loadStateDump(file(dump))
    assert.equal(r.torrents, 1)
    assert.equal(r.denied, 4)
    assert.equal(r.expired, 1)
  })
})

describe('statedump → restore round trip', () => {
  test('a dump loaded into a fresh tracker dumps identically, downloaded counts kept', async () => {
    const a = await fresh()
    const hashes = Array.from({ length: 40 }, (_v, i) => testHash(12000 + i))
    await pool(hashes.length, 8, async (i) => {
      const h = hashes[i]!
      for (let p = 0; p < i % 4; p++) await announce(a.http4, { infoHash: h, port: 100 + p, left: 0, event: 'completed' })
      await announce(a.http6, { infoHash: h, port: 200 })
    })
    const dumpA = (await fullScrape(a.http4, '/stats?mode=statedump')).body
    assert.equal(dumpA.toString().split('\n').length, hashes.length + 1)
    const b = await fresh()
    const r = b.tracker.loadStateDump(file(dumpA))
    assert.deepEqual(r, { torrents: hashes.length, rejectedLines: 0, expired: 0, denied: 0, existing: 0 })
    const dumpB = (await fullScrape(b.http4, '/stats?mode=statedump')).body
    assert.equal(dumpB.toString(), dumpA.toString())
    const scrapeA = parseBenFullScrape((await fullScrape(a.http4)).body)
    const scrapeB = parseBenFullScrape((await fullScrape(b.http4)).body)
    assert.deepEqual(scrapeB.map((x) => [x.hash.toString('hex'), x.downloaded]), scrapeA.map((x) => [x.hash.toString('hex'), x.downloaded]))
    assert.ok(scrapeB.every((x) => x.complete === 0 && x.incomplete === 0), 'a statedump carries no peers')
    // And once more: dump B → C, still not doubled.
    const c = await fresh()
    c.tracker.loadStateDump(file(dumpB))
    c.tracker.loadStateDump(file(dumpB))
    assert.equal((await fullScrape(c.http4, '/stats?mode=statedump')).body.toString(), dumpA.toString())
  })
})

/** Announces a small swarm: returns the hashes with their expected counts. */
async function swarm (f: Fixture, base: number): Promise<Buffer[]> {
  const hs = [testHash(base), testHash(base + 1), testHash(base + 2)]
  await announce(f.http4, { infoHash: hs[0]!, port: 1, left: 0, event: 'completed' })
  await announce(f.http4, { infoHash: hs[0]!, port: 2 })
  await announce(f.http6, { infoHash: hs[0]!, port: 3 })
  await announce(f.http4, { infoHash: hs[1]!, port: 4, left: 0 })
  await announce(f.http6, { infoHash: hs[2]!, port: 5, left: 0, event: 'completed' })
  return hs
}

async function assertSwarmRestored (f: Fixture, hs: Buffer[]): Promise<void> {
  const s = await scrape(f.http4, hs)
  assert.deepEqual(s.get(hs[0]!.toString('latin1')), { complete: 1, downloaded: 1, incomplete: 2 })
  assert.deepEqual(s.get(hs[1]!.toString('latin1')), { complete: 1, downloaded: 0, incomplete: 0 })
  assert.deepEqual(s.get(hs[2]!.toString('latin1')), { complete: 1, downloaded: 1, incomplete: 0 })
  // A new peer immediately gets the old ones.
  const a = await announce(f.http4, { infoHash: hs[0]!, port: 99, numwant: 50 })
  assert.ok(keys(a.peers).includes(v4(1)) && keys(a.peers).includes(v4(2)), `old IPv4 peers in ${keys(a.peers).join(' ')}`)
  assert.deepEqual(keys(a.peers6), [v6(3)])
  assert.equal(a.complete, 1)
  assert.equal(a.incomplete, 3)
}

describe('warm-restart state file (stateFile, saveState)', () => {
  test('saveState() then a new tracker on the same file: full swarms at once', async () => {
    const path = join(dir, 'warm.state')
    const a = await fresh({ stateFile: path })
    const hs = await swarm(a, 13000)
    const r = await a.tracker.saveState()
    assert.ok(r !== null)
    assert.equal(r.torrents, 3)
    assert.equal(r.peers, 5)
    assert.equal(readFileSync(path).length, r.bytes)
    const { logger, log } = capture()
    const b = await fresh({ stateFile: path, logger })
    assert.ok(log.lines.some((l) => l.msg.includes('restored 3 torrents, 5 peers')), JSON.stringify(log.lines))
    await assertSwarmRestored(b, hs)
  })

  test('without a state file configured, saveState() is null; a missing file starts empty', async () => {
    const a = await fresh()
    assert.equal(await a.tracker.saveState(), null)
    const { logger, log } = capture()
    const b = await fresh({ stateFile: join(dir, 'does-not-exist'), logger })
    assert.equal(b.tracker.store.torrentCount, 0)
    assert.ok(log.lines.some((l) => l.level === 30 && l.msg.includes('does not exist yet')))
  })

  for (const [what, damage, why] of [
    ['truncated by one byte', (b: Buffer) => b.subarray(0, b.length - 1), /truncated|length|end marker/],
    ['truncated in the middle', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2)), /truncated|length|end marker/],
    ['a flipped byte in a record', (b: Buffer) => { const c = Buffer.from(b); c[40] = c[40]! ^ 0x01; return c }, /checksum/],
    ['a flipped byte in the trailer counts', (b: Buffer) => { const c = Buffer.from(b); c[c.length - 28] = c[c.length - 28]! ^ 0x01; return c }, /checksum|count/],
    ['bytes appended', (b: Buffer) => Buffer.concat([b, Buffer.from('xx')]), /truncated|length|end marker/],
    ['empty', (_b: Buffer) => Buffer.alloc(0), /too short/],
    ['not a state file', (_b: Buffer) => Buffer.from('A'.repeat(100)), /magic|not an otd state file/]
  ] as Array<[string, (b: Buffer) => Buffer, RegExp]>) {
    test(`a state file with ${what} is refused with a clear error; the tracker starts empty and serves`, async () => {
      const path = join(dir, `bad-${what.replace(/\W+/g, '-')}.state`)
      const a = await fresh({ stateFile: path })
      await swarm(a, 13100)
      assert.ok(await a.tracker.saveState())
      writeFileSync(path, damage(readFileSync(path)))
      const { logger, log } = capture()
      const b = await fresh({ stateFile: path, logger })
      const err = log.lines.find((l) => l.level === 50)
      assert.ok(err !== undefined, `an error line; got ${JSON.stringify(log.lines)}`)
      assert.match(err.msg, new RegExp(`state file ${path} refused: `))
      assert.match(err.msg, why)
      assert.match(err.msg, /starting empty/)
      assert.equal(b.tracker.store.torrentCount, 0, 'nothing half-loaded')
      const r = await announce(b.http4, { infoHash: testHash(13100), port: 50 })
      assert.equal(r.incomplete, 1)
    })
  }

  test('an unwritable state path: saveState() logs the error and resolves null; the tracker keeps serving', async () => {
    const { logger, log } = capture()
    const path = join(dir, 'no-such-dir', 'x.state')
    const f = await fresh({ stateFile: path, logger })
    await swarm(f, 13200)
    assert.equal(await f.tracker.saveState(), null)
    const err = log.lines.find((l) => l.level === 50)
    assert.ok(err !== undefined)
    assert.match(err.msg, /cannot write state file .*no-such-dir.*ENOENT; the previous file is kept/)
    const r = await announce(f.http4, { infoHash: testHash(13200), port: 77 })
    assert.equal(r.incomplete, 3)
  })

  test('saveState() concurrent with announces: every announce answered, the file holds a consistent state', async () => {
    const path = join(dir, 'busy.state')
    const a = await fresh({ stateFile: path })
    const store = a.tracker.store
    const N = 60_000
    for (let i = 0; i < N; i++) store.announce(testHash(200_000 + i), 0, 4, new Uint32Array([0x0a000000 + (i & 0xff)]), 1 + (i % 7), i % 3 === 0, false)
    const save1 = a.tracker.saveState()
    const save2 = a.tracker.saveState()
    assert.equal(save1, save2, 'one write at a time: concurrent callers share it')
    const started = performance.now()
    const lat: number[] = []
    const announces = pool(300, 16, async (i) => {
      const t0 = performance.now()
      const r = await announce(a.http4, { infoHash: testHash(200_000 + (i * 197) % N), port: 40_000 + i, left: i % 2 })
      lat.push(performance.now() - t0)
      return r
    })
    const [report] = await Promise.all([save1, announces])
    assert.ok(report !== null)
    assert.ok(report.torrents >= N)
    // Load into a fresh tracker: the counts there are what the first tracker had (announces may or may not be in it).
    const b = await fresh({ stateFile: path })
    assert.equal(b.tracker.store.torrentCount, N)
    assert.ok(b.tracker.store.peers >= N && b.tracker.store.peers <= N + 300, `${b.tracker.store.peers} peers`)
    // A second save after the announces holds them all.
    assert.ok(await a.tracker.saveState())
    const c = await fresh({ stateFile: path })
    assert.equal(c.tracker.store.peers, a.tracker.store.peers)
    assert.equal(c.tracker.store.seeders, a.tracker.store.seeders)
    lat.sort((x, y) => x - y)
    console.log(`# 300 announces during a state save of ${N} torrents (${report.bytes} bytes, ${report.ms} ms): max ${lat[lat.length - 1]!.toFixed(1)} ms, total ${(performance.now() - started).toFixed(0)} ms`)
  })
})

describe('admin /otd/state (blessed MAY_ADMIN)', () => {
  async function post (ep: Endpoint, body: Buffer, localAddress?: string): Promise<OpsReply> {
    const head = `POST /otd/state HTTP/1.1\r\nContent-Length: ${body.length}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n`
    return parseOpsReply(await sendRaw(ep, Buffer.concat([Buffer.from(head), body]), { timeoutMs: 10_000, ...(localAddress === undefined ? {} : { localAddress }) }))
  }

  test('GET /otd/state from one tracker, POST it to another: same swarms', async () => {
    const a = await fresh({ blessed: [{ net: '127.0.0.1', perms: MAY_ALL }] })
    const hs = await swarm(a, 14000)
    const got = await request(a.http4, '/otd/state', { http11: true })
    assert.equal(got.status, 200)
    assert.equal(hdr(got, 'content-type'), 'application/octet-stream')
    assert.equal(got.body.subarray(0, 8).toString('latin1'), 'OTDSTATE')
    const b = await fresh({ blessed: [{ net: '127.0.0.0/8', perms: MAY_ALL }] })
    const r = await post(b.http4, got.body)
    assert.equal(r.status, 200, r.body.toString())
    const j = JSON.parse(r.body.toString()) as { restored: { format: string, torrents: number, peers: number } }
    assert.equal(j.restored.format, 'otd-state')
    assert.equal(j.restored.torrents, 3)
    assert.equal(j.restored.peers, 5)
    await assertSwarmRestored(b, hs)
    // POSTing it twice adds nothing.
    assert.equal((await post(b.http4, got.body)).status, 200)
    assert.equal(b.tracker.store.peers, 6)
  })

  test('POST an opentracker statedump; garbage and corrupt state → 400, nothing changed', async () => {
    const b = await fresh({ blessed: [{ net: '127.0.0.1', perms: MAY_ALL }] })
    const h = testHash(14100)
    const ok = await post(b.http4, Buffer.from(`${HEX(h)}:${NOW_MIN}:42\n`))
    assert.equal(ok.status, 200)
    assert.equal((JSON.parse(ok.body.toString()) as { restored: { format: string } }).restored.format, 'statedump')
    assert.equal((await scrape(b.http4, [h])).get(h.toString('latin1'))!.downloaded, 42)
    const bad = await post(b.http4, Buffer.from('this is not a state\nat all\n'))
    assert.equal(bad.status, 400)
    const a = await fresh({ blessed: [{ net: '127.0.0.1', perms: MAY_ALL }] })
    await swarm(a, 14200)
    const state = Buffer.from((await request(a.http4, '/otd/state')).body)
    state[30] = state[30]! ^ 0xff
    const corrupt = await post(b.http4, state)
    assert.equal(corrupt.status, 400)
    assert.match(corrupt.body.toString(), /checksum/)
    assert.equal(b.tracker.store.torrentCount, 1)
  })

  test('unblessed, or blessed without MAY_ADMIN → 403', async () => {
    const f = await fresh({ blessed: [{ net: '127.0.0.2', perms: MAY_ALL }, { net: '127.0.0.3', perms: MAY_STAT }] })
    assert.equal((await request(f.http4, '/otd/state')).status, 403)
    assert.equal((await request(f.http4, '/otd/state', { localAddress: '127.0.0.3' })).status, 403)
    assert.equal((await post(f.http4, Buffer.from(`${HEX(testHash(1))}:${NOW_MIN}:1\n`))).status, 403)
    assert.equal(f.tracker.store.torrentCount, 0)
    assert.equal((await request(f.http4, '/otd/state', { localAddress: '127.0.0.2' })).status, 200)
  })
})
