// `otd --workers 2` (docs/workers.md) through real sockets: two worker threads share the UDP and
// TCP ports (the kernel spreads clients by source address and port), each owns the torrents whose
// info_hash starts with an even (worker 0) or odd (worker 1) byte. Requests come from many source
// ports so that both workers receive some; the per-worker figures of /stats prove it. Whatever a
// client asks, through whichever worker, it must see one tracker: the same swarms, totals, full
// scrapes, state, access lists and sync.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SYNC_FLAG_SEEDING, decodeChangeset, encodeChangeset, writeChangesetRecord4 } from '@otd/proto'
import { MAY_ALL, MAY_SYNC } from '../../src/config.js'
import { createTracker } from '../../src/index.js'
import { exchangeFrom } from '../helpers/http-from.js'
import { RawConnection, exchange, header, pctAll, type Endpoint } from '../helpers/http-raw.js'
import { asDict, decodeStrict, type BDict, type BValue } from '../helpers/bencode-strict.js'
import { assertSortedUnique, parseBenFullScrape, request } from '../helpers/ops-http.js'
import { cleanup, startOtd, tempDir, writeWorldFile } from '../helpers/otd-child.js'
import { announce, announceTarget, parseAnnounce, parseScrape, pool, rawAnnounce, scrape, scrapeTarget, testHash } from '../helpers/tracker-client.js'
import { UdpClient } from '../helpers/udp-raw.js'
import { workersPool, type WorkersFixture } from '../helpers/workers.js'

const start = workersPool()
const dirs: string[] = []
after(() => { for (const d of dirs) cleanup(d) })
function dir (): string {
  const d = tempDir('otd-workers-')
  dirs.push(d)
  return d
}

/** `n` test hashes owned by worker 0 (even first byte) and `n` owned by worker 1, from `base` on. */
function hashesOfBothShards (n: number, base: number): { even: Buffer[], odd: Buffer[], all: Buffer[] } {
  const even: Buffer[] = []
  const odd: Buffer[] = []
  for (let i = base; even.length < n || odd.length < n; i++) {
    const h = testHash(i)
    const list = h[0]! % 2 === 0 ? even : odd
    if (list.length < n) list.push(h)
  }
  return { even, odd, all: [...even, ...odd] }
}

interface WorkerFigures { worker: number, torrents: number, peers: number, udpPackets: number, httpRequests: number, udpForwarded: number, httpForwarded: number, scrapeGathers: number }

async function statsJson (ep: Endpoint, mode = 'everything'): Promise<Record<string, unknown>> {
  const r = await request(ep, `/stats?mode=${mode}&format=json`)
  assert.equal(r.status, 200, r.raw.toString('latin1').slice(0, 300))
  return JSON.parse(r.body.toString('utf8')) as Record<string, unknown>
}

async function workerFigures (ep: Endpoint): Promise<WorkerFigures[]> {
  const w = (await statsJson(ep)).workers as WorkerFigures[] | undefined
  assert.ok(Array.isArray(w) && w.length === 2, 'stats list two workers')
  return w
}

async function udpClients (ep: Endpoint, n: number): Promise<UdpClient[]> {
  const cs: UdpClient[] = []
  for (let i = 0; i < n; i++) cs.push(await UdpClient.open(ep))
  after(() => { for (const c of cs) c.close() })
  return cs
}

describe('--workers 2: one tracker on shared ports', () => {
  let f: WorkersFixture
  const { even, odd, all } = hashesOfBothShards(4, 81000)
  before(async () => { f = await start() })

  test('UDP announces from 32 source ports reach both workers, and every client sees every peer of both shards', async () => {
    const clients = await udpClients(f.udp4, 32)
    // One connect per client, answered by whichever worker the kernel picked; its id then
    // validates for announces of both shards, that is, in both workers.
    const ids = await Promise.all(clients.map((c) => c.connect()))
    for (const [i, c] of clients.entries()) {
      for (const h of all) await c.announce({ connId: ids[i]!, infoHash: h, port: 10000 + i })
    }
    for (const [i, c] of clients.entries()) {
      const entries = await c.scrape(all, ids[i]!)
      assert.deepEqual(entries.map((e) => e.leechers), all.map(() => 32), `scrape through client ${i}`)
      assert.deepEqual(entries.map((e) => e.seeders), all.map(() => 0))
    }
    // A re-announce returns the 31 other peers, whichever worker received it and whichever owns the torrent.
    for (const h of [even[0]!, odd[0]!]) {
      const r = await clients[5]!.announce({ connId: ids[5]!, infoHash: h, port: 10005, numWant: 100 })
      assert.equal(r.leechers, 32)
      assert.deepEqual(r.peers.map((p) => p.port).sort((a, b) => a - b), Array.from({ length: 32 }, (_, i) => 10000 + i).filter((p) => p !== 10005))
    }
    const w = await workerFigures(f.http4)
    for (const x of w) {
      assert.ok(x.udpForwarded > 0, `worker ${x.worker} received announces of the other shard and handed them on: ${JSON.stringify(w)}`)
      assert.ok(x.udpPackets > 0, `worker ${x.worker} answered packets: ${JSON.stringify(w)}`)
      assert.equal(x.torrents, 4, `worker ${x.worker} holds its 4 torrents`)
    }
  })

  test('scrapes spanning shards keep request order (UDP) or sorted keys (HTTP), with unknown hashes of either shard', async () => {
    const unknown = hashesOfBothShards(1, 81900)
    const ask = [unknown.odd[0]!, even[1]!, odd[2]!, unknown.even[0]!, odd[1]!]
    const clients = await udpClients(f.udp4, 8)
    for (const c of clients) {
      assert.deepEqual((await c.scrape(ask)).map((e) => e.leechers), [0, 32, 32, 0, 32])
    }
    for (let k = 0; k < 6; k++) {
      const m = await scrape(f.http4, ask)
      assert.deepEqual([...m.keys()], [even[1]!, odd[2]!, odd[1]!].map((h) => h.toString('latin1')).sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'))))
    }
    const w = await workerFigures(f.http4)
    assert.ok(w.every((x) => x.scrapeGathers > 0), `both workers gathered counts from the other: ${JSON.stringify(w)}`)
  })

  test('UDP over IPv6: seeders announced through both workers are counted once', async () => {
    const clients = await udpClients(f.udp6, 16)
    const h = [testHash(81500), testHash(81501)]
    for (const [i, c] of clients.entries()) for (const x of h) await c.announce({ infoHash: x, port: 20000 + i, left: 0n })
    for (const c of clients.slice(0, 6)) {
      assert.deepEqual((await c.scrape(h)).map((e) => [e.seeders, e.leechers]), [[16, 0], [16, 0]])
    }
  })

  test('HTTP announces on 40 connections build the same swarms; scrapes through either worker see them', async () => {
    const hs = hashesOfBothShards(3, 82000).all
    await pool(40, 8, async (i) => {
      for (const h of hs) await announce(f.http4, { infoHash: h, port: 30000 + i, left: i % 4 === 0 ? 0 : 1000 })
    })
    for (let k = 0; k < 10; k++) {
      const m = await scrape(f.http4, hs)
      // One bencoded dictionary, sorted by hash, though the counts came from two workers.
      assert.deepEqual([...m.keys()], hs.map((h) => h.toString('latin1')).sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'))))
      for (const v of m.values()) assert.deepEqual(v, { complete: 10, downloaded: 0, incomplete: 30 })
    }
    const r = await announce(f.http4, { infoHash: hs[0]!, port: 30000, numwant: 200 })
    assert.equal(r.peers.length, 39)
    const w = await workerFigures(f.http4)
    assert.ok(w.every((x) => x.httpRequests > 0), `both workers answered HTTP requests: ${JSON.stringify(w)}`)
    assert.ok(w.some((x) => x.httpForwarded > 0), `announces were handed to their owner: ${JSON.stringify(w)}`)
  })

  test('pipelined keep-alive requests for both shards come back in order', async () => {
    const hs = hashesOfBothShards(4, 83000).all
    for (let round = 0; round < 4; round++) {
      const conn = await RawConnection.connect(f.http4)
      try {
        const reqs = hs.map((h, i) => `GET ${announceTarget({ infoHash: h, port: 40000 + i, left: 1000 })} HTTP/1.1\r\nHost: t\r\n\r\n`)
        reqs.push(`GET ${scrapeTarget(hs)} HTTP/1.1\r\nHost: t\r\n\r\n`)
        await conn.write(reqs.join(''))
        for (let i = 0; i < hs.length; i++) {
          const a = parseAnnounce(await conn.readResponse())
          assert.equal(a.incomplete, 1, `reply ${i} belongs to request ${i}`)
        }
        const m = parseScrape(await conn.readResponse())
        assert.equal(m.size, hs.length)
      } finally {
        conn.destroy()
      }
    }
  })

  test('an announce handed to its owner keeps every parameter: compact=0, no_peer_id, numwant, stopped, HTTP/1.0 keep-alive', async () => {
    // Eight connections (the kernel spreads them over both workers) each announce to a torrent of
    // either shard, so every parameter crosses from one worker to the other on some of them.
    const hs = hashesOfBothShards(2, 84000).all
    const peerId = (n: number): Buffer => Buffer.from(`-OT0001-${String(n).padStart(12, '0')}`, 'latin1')
    // compact=0 from the start: a torrent keeps peer ids only once someone asked for them.
    for (const h of hs) {
      for (let p = 1; p <= 3; p++) {
        const res = await rawAnnounce(f.http4, { infoHash: h, port: 51000 + p, peerId: peerId(p), left: p === 1 ? 0 : 1000, extra: [['compact', 0]] })
        assert.equal(res.status, 200)
      }
    }
    for (let c = 0; c < 8; c++) {
      const conn = await RawConnection.connect(f.http4)
      try {
        for (const [i, h] of hs.entries()) {
          const get = async (p: Parameters<typeof announceTarget>[0]): Promise<BDict> => {
            await conn.write(`GET ${announceTarget(p)} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`)
            const res = await conn.readResponse()
            assert.equal(res.status, 200)
            assert.equal(header(res, 'connection')?.toLowerCase(), 'keep-alive', `connection ${c}, hash ${i}: HTTP/1.0 keep-alive kept`)
            const d = asDict(decodeStrict(res.body), 'announce')
            assert.ok(!d.has('failure reason'), res.body.toString('latin1'))
            return d
          }
          const me = 52000 + c * 10 + i
          const dict = await get({ infoHash: h, port: me, peerId: peerId(9), left: 1000, extra: [['compact', 0]] })
          const peers = dict.get('peers') as BValue[]
          assert.equal(peers.length, 3, `connection ${c}, hash ${i}: the three seeded peers, not itself`)
          const ids = peers.map((x) => ((x as BDict).get('peer id') as Buffer).toString('latin1')).sort()
          assert.deepEqual(ids, [1, 2, 3].map((n) => peerId(n).toString('latin1')))
          const bare = await get({ infoHash: h, port: me, left: 1000, extra: [['compact', 0], ['no_peer_id', 1]] })
          assert.ok((bare.get('peers') as BValue[]).every((x) => !(x as BDict).has('peer id')), 'no_peer_id honoured')
          const one = await get({ infoHash: h, port: me, left: 1000, numwant: 1 })
          assert.equal((one.get('peers') as Buffer).length, 6, 'numwant=1: one compact peer')
          assert.equal(one.get('complete'), 1)
          assert.equal(one.get('incomplete'), 3, 'the two seeded leechers and this one')
          const gone = await get({ infoHash: h, port: me, left: 1000, event: 'stopped' })
          assert.equal(gone.get('incomplete'), 2, 'stopped removed this peer')
        }
      } finally {
        conn.destroy()
      }
    }
    const w = await workerFigures(f.http4)
    assert.ok(w.every((x) => x.httpForwarded > 0), `both workers handed announces over: ${JSON.stringify(w)}`)
  })

  test('/stats and /metrics count both shards, whichever worker answers', async () => {
    for (let k = 0; k < 6; k++) {
      const e = await statsJson(f.http4)
      const w = e.workers as WorkerFigures[]
      assert.equal(e.torrents, w.reduce((a, x) => a + x.torrents, 0))
      assert.equal(e.peers, w.reduce((a, x) => a + x.peers, 0))
      assert.ok((e.torrents as number) >= 8 + 2 + 6 + 8)
      const peer = await statsJson(f.http4, 'peer')
      assert.equal(peer.peers, e.peers)
      const top = await statsJson(f.http4, 'top10')
      const peers = top.peers as Array<{ hash: string, count: number }>
      assert.equal(peers.length, 10)
      assert.equal(peers[0]!.count, 40, 'the top torrent (an HTTP one of 40 peers) whichever shard holds it')
    }
    const m = await request(f.http4, '/metrics')
    const text = m.body.toString('utf8')
    assert.match(text, /^otd_workers 2$/m)
    assert.match(text, /^otd_worker_torrents\{worker="0"\} \d+$/m)
    assert.match(text, /^otd_worker_forwarded_total\{worker="1",kind="udp"\} [1-9]\d*$/m)
  })

  test('a full scrape lists the torrents of both shards, sorted, in every format', async () => {
    const e = await statsJson(f.http4)
    for (let k = 0; k < 4; k++) {
      const rows = parseBenFullScrape((await request(f.http4, '/scrape')).body)
      assert.equal(rows.length, e.torrents)
      assertSortedUnique(rows.map((r) => r.hash))
      assert.ok(rows.some((r) => r.hash[0]! % 2 === 0) && rows.some((r) => r.hash[0]! % 2 === 1))
      const byHash = new Map(rows.map((r) => [r.hash.toString('hex'), r]))
      for (const h of all) assert.equal(byHash.get(h.toString('hex'))?.incomplete, 32)
    }
    const gz = await request(f.http4, '/scrape', { headers: ['Accept-Encoding: gzip'], http11: true })
    assert.equal(parseBenFullScrape(gz.body).length, e.torrents)
    const txt = (await request(f.http4, '/stats?mode=tpbs&format=txt')).body.toString('latin1').trim().split('\n')
    assert.equal(txt.length, e.torrents)
    assert.deepEqual(txt, [...txt].sort())
    const dump = (await request(f.http4, '/stats?mode=statedump')).body.toString('latin1').trim().split('\n')
    assert.equal(dump.length, e.torrents)
    for (const line of dump) assert.match(line, /^[0-9A-F]{40}:\d+:\d+$/)
  })
})

describe('--workers 2: state', () => {
  test('the state file written at shutdown holds both shards; one tracker or two workers restore all of it', async () => {
    const d = dir()
    const file = join(d, 'otd.state')
    const hs = hashesOfBothShards(5, 84000).all
    const a = await start({ stateFile: file })
    const clients = await udpClients(a.udp4, 12)
    for (const [i, c] of clients.entries()) for (const h of hs) await c.announce({ infoHash: h, port: 5000 + i })
    await a.tracker.shutdown(200)
    assert.ok(readFileSync(file).length > 0)

    const one = createTracker({ http: [{ host: '127.0.0.1', port: 0 }], udp: [], stateFile: file })
    after(() => one.close())
    const bound = await one.listen()
    const m = await scrape({ ...bound.http[0]!, family: 'IPv4' }, hs)
    for (const v of m.values()) assert.equal(v.incomplete, 12)
    assert.equal(m.size, hs.length)

    const b = await start({ stateFile: file })
    for (let k = 0; k < 5; k++) {
      const again = await scrape(b.http4, hs)
      assert.equal(again.size, hs.length)
      for (const v of again.values()) assert.equal(v.incomplete, 12)
    }
  })

  test('an opentracker statedump (-l) is loaded into both shards', async () => {
    const d = dir()
    const hs = hashesOfBothShards(3, 85000).all
    const minute = Math.floor(Date.now() / 60000)
    const path = writeWorldFile(d, 'dump', hs.map((h, i) => `${h.toString('hex').toUpperCase()}:${minute}:${i + 1}`).join('\n') + '\nnot a line\n')
    const f = await start()
    const r = await f.tracker.loadStateDump(path)
    assert.equal(r.torrents, hs.length)
    assert.equal(r.rejectedLines, 1)
    const m = await scrape(f.http4, hs)
    assert.deepEqual(hs.map((h) => m.get(h.toString('latin1'))?.downloaded), hs.map((_, i) => i + 1))
  })

  test('GET /otd/state has every shard; POST /otd/state restores into every shard', async () => {
    const admin = { blessed: [{ net: '127.0.0.1', perms: MAY_ALL }] }
    const hs = hashesOfBothShards(3, 86000).all
    const a = await start(admin)
    const clients = await udpClients(a.udp4, 8)
    for (const [i, c] of clients.entries()) for (const h of hs) await c.announce({ infoHash: h, port: 6000 + i })
    const got = await request(a.http4, '/otd/state')
    assert.equal(got.status, 200)
    const b = await start(admin)
    const body = got.body
    const res = await exchange(b.http4, Buffer.concat([Buffer.from(`POST /otd/state HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), body]))
    assert.equal(res.status, 200, res.body.toString())
    const restored = (JSON.parse(res.body.toString()) as { restored: { torrents: number, peers: number } }).restored
    assert.equal(restored.torrents, hs.length)
    assert.equal(restored.peers, hs.length * 8)
    const m = await scrape(b.http4, hs)
    for (const v of m.values()) assert.equal(v.incomplete, 8)
  })
})

describe('--workers 2: access lists', () => {
  test('a reload and an admin change apply in both workers', async () => {
    const d = dir()
    const { even, odd } = hashesOfBothShards(2, 87000)
    const list = writeWorldFile(d, 'white', `${even[0]!.toString('hex')}\n${odd[0]!.toString('hex')}\n`)
    const f = await start({ whitelistFile: list, blessed: [{ net: '127.0.0.1', perms: MAY_ALL }] })
    const denied = async (h: Buffer): Promise<boolean> => {
      const res = await exchange(f.http4, `GET ${announceTarget({ infoHash: h, port: 7000, left: 1 })} HTTP/1.0\r\n\r\n`)
      return res.body.toString('latin1').includes('failure reason')
    }
    // New connections land on both workers: every answer must agree.
    for (let k = 0; k < 6; k++) {
      assert.equal(await denied(even[0]!), false)
      assert.equal(await denied(odd[0]!), false)
      assert.equal(await denied(even[1]!), true)
      assert.equal(await denied(odd[1]!), true)
    }
    writeFileSync(list, `${even[1]!.toString('hex')}\n${odd[0]!.toString('hex')}\n`)
    const reports = await f.tracker.reload()
    assert.deepEqual(reports.map((r) => [r.list, r.ok, r.entries]), [['white', true, 2]])
    for (let k = 0; k < 6; k++) {
      assert.equal(await denied(even[0]!), true)
      assert.equal(await denied(even[1]!), false)
      assert.equal(await denied(odd[0]!), false)
    }
    const add = await exchange(f.http4, `POST /otd/access/white/add HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n${odd[1]!.toString('hex')}`)
    assert.equal(add.status, 200, add.body.toString())
    for (let k = 0; k < 6; k++) assert.equal(await denied(odd[1]!), false)
    const udp = await udpClients(f.udp4, 8)
    for (const c of udp) assert.equal((await c.announce({ infoHash: odd[1]!, port: 7100 })).interval > 0, true)
    // The admin endpoint's reload reloads every worker too.
    writeFileSync(list, `${even[0]!.toString('hex')}\n`)
    const reload = await exchange(f.http4, 'POST /otd/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')
    assert.equal(reload.status, 200)
    for (let k = 0; k < 6; k++) {
      assert.equal(await denied(even[0]!), false)
      assert.equal(await denied(odd[1]!), true)
    }
  })
})

describe('--workers 2: rate limits', () => {
  let f: WorkersFixture
  before(async () => { f = await start({ announceRatePerSecond: 0.01, announceBurst: 3 }) })

  test('a connection\'s announces to both shards are charged once each: the burst passes, the rest are refused in order', async () => {
    const hs = hashesOfBothShards(3, 87000).all
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(hs.map((h, i) => `GET ${announceTarget({ infoHash: h, port: 41000 + i, left: 1000 })} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''))
      const bodies: string[] = []
      for (let i = 0; i < hs.length; i++) bodies.push((await conn.readResponse()).body.toString('latin1'))
      assert.deepEqual(bodies.map((b) => b.includes('rate limited')), [false, false, false, true, true, true], bodies.join('\n'))
    } finally {
      conn.destroy()
    }
  })

})

describe('--workers 2: half-closed connections', () => {
  let f: WorkersFixture
  before(async () => { f = await start() })

  test('a client that half-closes right after its request still gets the reply another worker produces', async () => {
    const hs = hashesOfBothShards(1, 88000).all
    // 12 connections from fresh source ports: both workers accept some, so some replies come
    // from the other worker while the client's FIN is already in.
    for (let k = 0; k < 12; k++) {
      const conn = await RawConnection.connect(f.http4)
      try {
        const h = hs[k % 2]!
        conn.socket.end(`GET ${announceTarget({ infoHash: h, port: 42000 + k, left: 0 })} HTTP/1.1\r\nHost: t\r\n\r\n`)
        const res = await conn.readResponse()
        assert.ok(res.body.includes('8:completei'), res.body.toString('latin1'))
        await conn.waitClosed()
      } finally {
        conn.destroy()
      }
    }
    const w = (await statsJson(f.http4)).workers as WorkerFigures[]
    assert.ok(w.some((x) => x.httpForwarded > 0), `some announces were handed over: ${JSON.stringify(w)}`)
  })
})

describe('--workers 2: access-list FIFOs', () => {
  test('a line written to the add FIFO (read by worker 0) allows the hash in both workers; the delete FIFO removes it from both', async () => {
    const d = dir()
    const { even, odd } = hashesOfBothShards(1, 87500)
    const list = writeWorldFile(d, 'white', '')
    const add = join(d, 'add')
    const del = join(d, 'delete')
    const f = await start({ whitelistFile: list, fifoAddPath: add, fifoDeletePath: del })
    const allowedEverywhere = async (h: Buffer): Promise<boolean> => {
      // Six new connections: both workers answer some, and the owner decides.
      for (let k = 0; k < 6; k++) {
        const res = await exchange(f.http4, `GET ${announceTarget({ infoHash: h, port: 7200 + k, left: 1 })} HTTP/1.0\r\n\r\n`)
        if (res.body.toString('latin1').includes('failure reason')) return false
      }
      return true
    }
    const until = async (what: string, pred: () => Promise<boolean>): Promise<void> => {
      const end = Date.now() + 5000
      while (!(await pred())) {
        if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    assert.equal(await allowedEverywhere(even[0]!), false)
    await writeFile(add, `${even[0]!.toString('hex')}\n${odd[0]!.toString('hex')}\n`)
    await until('both hashes to be allowed', async () => await allowedEverywhere(even[0]!) && await allowedEverywhere(odd[0]!))
    await writeFile(del, `${even[0]!.toString('hex')}\n${odd[0]!.toString('hex')}\n`)
    await until('both hashes to be refused again', async () => {
      for (const h of [even[0]!, odd[0]!]) {
        const res = await exchange(f.http4, `GET ${announceTarget({ infoHash: h, port: 7300, left: 1 })} HTTP/1.0\r\n\r\n`)
        if (!res.body.toString('latin1').includes('failure reason')) return false
      }
      return true
    })
    // Refused through the UDP sockets of both workers too.
    const udp = await udpClients(f.udp4, 8)
    for (const c of udp) await assert.rejects(c.announce({ infoHash: odd[0]!, port: 7400 }), /action 3/)
  })
})

describe('--workers 2: /sync', () => {
  const SYNC_HOST = '127.0.0.2'
  const blessed = { blessed: [{ net: SYNC_HOST, perms: MAY_SYNC }] }

  test('an export carries the peers of both shards; an import reaches both shards', async () => {
    const f = await start(blessed)
    const { all: hs } = hashesOfBothShards(2, 88000)
    const clients = await udpClients(f.udp4, 6)
    for (const [i, c] of clients.entries()) for (const h of hs) await c.announce({ infoHash: h, port: 8000 + i })
    for (let k = 0; k < 4; k++) {
      const res = await exchangeFrom(f.http4, SYNC_HOST, 'GET /sync HTTP/1.0\r\n\r\n')
      assert.equal(res.status, 200)
      const r = decodeChangeset(res.body)
      assert.ok(r.ok)
      const keys = r.torrents.map((t) => res.body.toString('hex', t.hashOffset, t.hashOffset + 20))
      assert.deepEqual(keys, hs.map((h) => h.toString('hex')).sort(), 'one sorted dictionary over both shards')
      assert.ok(r.torrents.every((t) => t.count === 6))
    }
    const other = hashesOfBothShards(2, 88500).all
    const rec = Buffer.alloc(8)
    writeChangesetRecord4(rec, 0, 0x0a000001, 6881, SYNC_FLAG_SEEDING, 0)
    const cs = encodeChangeset(other.map((h) => ({ infoHash: h, family: 4 as const, records: rec })))
    const imp = await exchangeFrom(f.http4, SYNC_HOST, `GET /sync?changeset=${pctAll(cs)} HTTP/1.0\r\n\r\n`)
    assert.equal(imp.status, 200, imp.body.toString())
    assert.match(imp.headers.find(([n]) => n === 'X-Otd-Sync-Result')?.[1] ?? '', /added=4 /)
    const m = await scrape(f.http4, other)
    for (const v of m.values()) assert.deepEqual(v, { complete: 1, downloaded: 0, incomplete: 0 })
  })
})

describe('otd --workers 2 (the command)', () => {
  test('binds, drops privileges, reloads on SIGHUP in every worker and writes one state file on SIGTERM', async () => {
    const d = dir()
    const { even, odd } = hashesOfBothShards(1, 89000)
    const list = writeWorldFile(d, 'white', `${even[0]!.toString('hex')}\n`)
    const state = join(d, 'state')
    const otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '--workers', '2', '-w', list, '--statefile', state])
    try {
      assert.ok(otd.proc.logs.some((l) => / listening: .*, 2 workers$/.test(l.msg)))
      if (process.getuid?.() === 0) {
        // Bound as root, then dropped: every thread of the process (main and both workers) runs as nobody.
        assert.ok(otd.proc.logs.some((l) => l.msg === 'running as nobody'))
        const nobody = Number(execFileSync('id', ['-u', 'nobody']).toString().trim())
        const tasks = readdirSync(`/proc/${otd.proc.pid}/task`)
        assert.ok(tasks.length >= 3, `main thread and two workers: ${tasks.length} threads`)
        for (const t of tasks) {
          const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(readFileSync(`/proc/${otd.proc.pid}/task/${t}/status`, 'latin1'))
          assert.deepEqual(uids?.slice(1).map(Number), [nobody, nobody, nobody, nobody], `thread ${t}`)
        }
      }
      const http = otd.http[0]!
      const deniedOdd = async (): Promise<boolean> =>
        (await exchange(http, `GET ${announceTarget({ infoHash: odd[0]!, port: 9000, left: 1 })} HTTP/1.0\r\n\r\n`)).body.toString('latin1').includes('failure reason')
      for (let k = 0; k < 4; k++) assert.equal(await deniedOdd(), true)
      writeFileSync(list, `${even[0]!.toString('hex')}\n${odd[0]!.toString('hex')}\n`)
      const from = otd.proc.logs.length
      otd.proc.signal('SIGHUP')
      await otd.proc.waitLog(/access lists reloaded in 2 workers/, from)
      for (let k = 0; k < 4; k++) assert.equal(await deniedOdd(), false)
      const clients = await udpClients(otd.udp[0]!, 8)
      for (const [i, c] of clients.entries()) for (const h of [even[0]!, odd[0]!]) await c.announce({ infoHash: h, port: 9100 + i })
    } finally {
      const e = await otd.proc.stop()
      assert.equal(e.code, 0, otd.proc.stdout + otd.proc.stderr)
    }
    const one = createTracker({ http: [{ host: '127.0.0.1', port: 0 }], udp: [], stateFile: state })
    after(() => one.close())
    const bound = await one.listen()
    const m = await scrape({ ...bound.http[0]!, family: 'IPv4' }, [even[0]!, odd[0]!])
    // 8 UDP peers each, and the HTTP announce of the odd one once it was allowed.
    assert.deepEqual([m.get(even[0]!.toString('latin1'))?.incomplete, m.get(odd[0]!.toString('latin1'))?.incomplete], [8, 9])
  })
})

describe('--workers 2: live sync', () => {
  const KEY = '5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed'

  /** Scrapes `hs` on `ep` until every one has `n` peers (live sync is asynchronous by nature). */
  async function untilPeers (ep: Endpoint, hs: Buffer[], n: number, what: string): Promise<void> {
    const end = Date.now() + 5000
    for (;;) {
      const m = await scrape(ep, hs)
      if (hs.every((h) => { const v = m.get(h.toString('latin1')); return v !== undefined && v.complete + v.incomplete === n })) return
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${JSON.stringify([...m.values()])}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  test('announces to both shards reach another node; its announces reach both shards', async () => {
    const b = createTracker({
      http: [{ host: '127.0.0.1', port: 0 }],
      udp: [],
      livesyncUnicastListen: { host: '127.0.0.1', port: 0 },
      livesyncKey: KEY,
      livesyncFlushMs: 20
    })
    after(() => b.close())
    const bb = await b.listen()
    const bHttp = { ...bb.http[0]!, family: 'IPv4' }
    const bLive = bb.livesync!.find((x) => x.kind === 'unicast')!
    const a = await start({
      livesyncUnicastListen: { host: '127.0.0.1', port: 0 },
      livesyncPeers: [{ host: bLive.address, port: bLive.port }],
      livesyncKey: KEY,
      livesyncFlushMs: 20
    })
    const hs = hashesOfBothShards(2, 90000).all
    const clients = await udpClients(a.udp4, 10)
    for (const [i, c] of clients.entries()) for (const h of hs) await c.announce({ infoHash: h, port: 11000 + i })
    await untilPeers(bHttp, hs, 10, 'B to learn the peers announced to both of A\'s workers')

    // B → A: B sends to A's live-sync socket (worker 0's), which hands each record to its owner.
    const aLive = a.livesync.find((x) => x.kind === 'unicast')!
    b.sync.setPeers([{ host: aLive.address, port: aLive.port }])
    const others = hashesOfBothShards(2, 90500).all
    for (let i = 0; i < 5; i++) for (const h of others) await announce(bHttp, { infoHash: h, port: 12000 + i })
    await untilPeers(a.http4, others, 5, 'both of A\'s workers to learn B\'s peers')
    const w = await workerFigures(a.http4)
    assert.ok(w.every((x) => x.peers >= 2 * 10 + 2 * 5), `both shards hold their part: ${JSON.stringify(w)}`)
  })
})
