import assert from 'node:assert/strict'
import { test } from 'node:test'
import { UDP_ANNOUNCE, UDP_SCRAPE, UdpRequest, decodeUdpRequest, writeAnnounceRequest } from '@otd/proto'
import { ReproHttpSource, WorkloadHttpSource, reproHashes } from '../src/http-source.js'
import { PEER_PORT_BASE, PeerPool, TorrentPool, Workload } from '../src/pool.js'
import { PreloadSource } from '../src/preload.js'
import { parseTarget, type Target } from '../src/target.js'
import { KIND_ANNOUNCE, KIND_SCRAPE, OUTCOME_ERROR, OUTCOME_OK, OUTCOME_TIMEOUT, UDP_MAX_REQUEST_BYTES } from '../src/udp-client.js'
import { WorkloadUdpSource, writeDrawnAnnounce } from '../src/udp-flood.js'

function workload (scrapeShare = 0): Workload {
  return new Workload(new TorrentPool(1000, 1), new PeerPool(500, 1, 0.3), { scrapeShare, events: [0.25, 0.25, 0.25, 0.25], numwant: 50, scrapeHashes: 4 }, 1)
}

const target = (url: string): Target => {
  const r = parseTarget(url)
  assert.ok(r.ok)
  return r.target
}

test('a drawn announce is byte for byte what proto\'s encoder writes for the same fields', () => {
  const w = workload()
  const d = { torrent: 0, peer: 0, event: 0, left: 0 }
  for (let i = 0; i < 200; i++) {
    w.drawAnnounce(d)
    const mine = Buffer.alloc(98)
    writeDrawnAnnounce(mine, w, d, 50)
    const ref = Buffer.alloc(98)
    writeAnnounceRequest(ref, 0, {
      connectionIdHigh: 0,
      connectionIdLow: 0,
      transactionId: 0,
      infoHash: w.torrents.hashes.subarray(20 * d.torrent, 20 * d.torrent + 20),
      peerId: w.peers.peerIds.subarray(20 * d.peer, 20 * d.peer + 20),
      left: d.left,
      event: d.event,
      key: w.peers.keys[d.peer]!,
      numWant: 50,
      port: w.peers.ports[d.peer]!
    })
    assert.deepEqual(mine, ref)
  }
})

test('the UDP source hands out announces and scrapes the tracker\'s decoder accepts', () => {
  const src = new WorkloadUdpSource(workload(0.5))
  const buf = Buffer.alloc(UDP_MAX_REQUEST_BYTES)
  const slot = { kind: 0, token: 0 }
  const req = new UdpRequest()
  const kinds = new Set<number>()
  for (let i = 0; i < 100; i++) {
    const n = src.next(buf, slot)
    kinds.add(slot.kind)
    const kind = decodeUdpRequest(buf, n, req)
    if (slot.kind === KIND_ANNOUNCE) {
      assert.equal(kind, UDP_ANNOUNCE)
      assert.equal(req.numWant, 50)
    } else {
      assert.equal(slot.kind, KIND_SCRAPE)
      assert.equal(kind, UDP_SCRAPE)
      assert.equal(req.scrapeCount, 4)
    }
  }
  assert.deepEqual([...kinds].sort(), [KIND_ANNOUNCE, KIND_SCRAPE])
})

test('preload announces every (torrent, peer) pair once and re-sends what timed out or was refused', () => {
  const pool = new TorrentPool(7, 1)
  const src = new PreloadSource(pool, 3, 1, 0.5)
  const buf = Buffer.alloc(UDP_MAX_REQUEST_BYTES)
  const slot = { kind: 0, token: 0 }
  const req = new UdpRequest()
  const seen = new Set<string>()
  const tokens: number[] = []
  for (;;) {
    const n = src.next(buf, slot)
    if (n === 0) break
    assert.equal(decodeUdpRequest(buf, n, req), UDP_ANNOUNCE)
    assert.equal(req.numWant, 0)
    const t = pool.hashes.indexOf(buf.subarray(16, 36)) / 20
    seen.add(`${t}:${req.port - PEER_PORT_BASE}`)
    tokens.push(slot.token)
  }
  assert.equal(seen.size, 21)
  assert.equal(src.done, false)
  src.finish(tokens[0]!, OUTCOME_TIMEOUT)
  for (const t of tokens.slice(2)) src.finish(t, OUTCOME_OK)
  assert.equal(src.done, false)
  assert.ok(src.next(buf, slot) > 0)
  assert.equal(slot.token, tokens[0])
  assert.equal(src.next(buf, slot), 0)
  src.finish(tokens[0]!, OUTCOME_OK)
  // An announce refused five times is re-sent each time, then counted as rejected.
  src.finish(tokens[1]!, OUTCOME_ERROR)
  for (let i = 0; i < 5; i++) {
    assert.ok(src.next(buf, slot) > 0)
    assert.equal(slot.token, tokens[1])
    src.finish(slot.token, OUTCOME_ERROR)
  }
  assert.equal(src.next(buf, slot), 0)
  assert.equal(src.done, true)
  assert.equal(src.acked, 20)
  assert.equal(src.rejected, 1)
  assert.equal(src.resent, 6)
  assert.throws(() => new PreloadSource(pool, 70_000, 1, 0), /at most 64512/)
})

test('HTTP announces carry the percent-encoded hash, peer id, port, left, numwant and compact=1', () => {
  const w = workload()
  const src = new WorkloadHttpSource(w, target('http://127.0.0.1:6969/announce'), { version: '1.1', host: '127.0.0.1:6969' })
  const text = src.next()
  assert.equal(src.kind, KIND_ANNOUNCE)
  assert.match(text, /^GET \/announce\?info_hash=(%[0-9A-F]{2}){20}&peer_id=-OB0100-[0-9A-Za-z]{12}&port=\d+&uploaded=0&downloaded=0&left=\d+(&event=(started|completed|stopped))?&numwant=50&compact=1&key=[0-9a-f]+ HTTP\/1\.1\r\nHost: 127\.0\.0\.1:6969\r\nUser-Agent: otbench\r\n\r\n$/)
  const scrapes = new WorkloadHttpSource(workload(1), target('http://h:1/announce'), { version: '1.0', host: 'h:1' })
  const s = scrapes.next()
  assert.equal(scrapes.kind, KIND_SCRAPE)
  assert.match(s, /^GET \/scrape\?info_hash=(%[0-9A-F]{2}){20}(&info_hash=(%[0-9A-F]{2}){20}){3} HTTP\/1\.0\r\n/)
})

test('repro-10k requests have testsuite.sh\'s shape: 16 hashes, ip=A.B.13.16, port 0-255, HTTP/1.0', () => {
  const src = new ReproHttpSource(target('http://127.0.0.1:6969/announce'), 1, true)
  const hashes = new Set<string>()
  for (let i = 0; i < 2000; i++) {
    const m = /^GET \/announce\?info_hash=0123456789012345678%0([0-9A-F])&ip=(\d+)\.(\d+)\.13\.16&port=(\d+) HTTP\/1\.0\r\n\r\n$/.exec(src.next())
    assert.ok(m !== null)
    hashes.add(m[1]!)
    assert.ok(Number(m[2]) < 16 && Number(m[3]) < 16 && Number(m[4]) < 256)
  }
  assert.equal(hashes.size, 16)
  assert.doesNotMatch(new ReproHttpSource(target('http://h:1/announce'), 1, false).next(), /ip=/)
  assert.equal(reproHashes()[15]!.toString('latin1'), '0123456789012345678\x0f')
})
