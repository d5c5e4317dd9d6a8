// Bounded memory: a flood of unique info_hashes against a real otd with tracker.memory_limit
// cannot push its store past the budget or its RSS past budget + runtime overhead; eviction
// keeps it answering, and the evictions show in stats and metrics.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { get as httpGet } from '../helpers/http-raw.js'
import { cleanup, startOtd, tempDir, writeWorldFile, type RunningOtd } from '../helpers/otd-child.js'
import { ACTION_ANNOUNCE, UdpClient, announcePacket } from '../helpers/udp-raw.js'

const BUDGET = 4 << 20
/** Unique info_hashes sent: about four times what fits in the budget (~80 bytes per one-peer torrent). */
const FLOOD = 200_000
const WINDOW = 256

let dir: string
let otd: RunningOtd

before(async () => {
  dir = tempDir()
  const conf = writeWorldFile(dir, 'otd.conf', `tracker.memory_limit ${BUDGET}\n`)
  otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-f', conf])
})

after(async () => {
  await otd.proc.stop()
  cleanup(dir)
})

function rssBytes (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
  assert.ok(m !== null)
  return Number(m[1]) * 1024
}

/** Sends `count` announces for fresh random info_hashes, `WINDOW` in flight, each resent until answered. */
async function flood (connId: Buffer, count: number): Promise<void> {
  const target = otd.udp[0]!
  const sock = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve))
  const hashes = randomBytes(20 * count)
  const pending = new Map<number, Buffer>()
  let next = 0
  let done = 0
  const send = (i: number): void => {
    const p = announcePacket({ connId, txid: i, infoHash: hashes.subarray(20 * i, 20 * i + 20), port: 1 + (i % 60000), numWant: 0 })
    pending.set(i, p)
    sock.send(p, target.port, target.address)
  }
  await new Promise<void>((resolve) => {
    sock.on('message', (msg) => {
      if (msg.length < 8 || msg.readUInt32BE(0) !== ACTION_ANNOUNCE) return
      const txid = msg.readUInt32BE(4)
      if (!pending.delete(txid)) return
      done++
      if (next < count) send(next++)
      else if (done === count) resolve()
    })
    // Lost datagrams (a full socket buffer) are resent.
    const timer = setInterval(() => { for (const [, p] of pending) sock.send(p, target.port, target.address) }, 500)
    sock.once('close', () => clearInterval(timer))
    while (next < Math.min(WINDOW, count)) send(next++)
  }).finally(() => sock.close())
}

async function statsJson (): Promise<Record<string, any>> {
  const r = await httpGet(otd.http[0]!, '/stats?mode=everything&format=json')
  assert.equal(r.status, 200)
  return JSON.parse(r.body.toString())
}

test('a flood of unique info_hashes stays within tracker.memory_limit, and otd keeps answering', { timeout: 120_000 }, async () => {
  const client = await UdpClient.open(otd.udp[0]!)
  try {
    const connId = await client.connect()
    const rss0 = rssBytes(otd.proc.child.pid!)
    await flood(connId, FLOOD / 2)
    const half = await statsJson()
    const rssHalf = rssBytes(otd.proc.child.pid!)
    await flood(connId, FLOOD / 2)
    const s = await statsJson()
    const rss1 = rssBytes(otd.proc.child.pid!)
    const mib = (n: number): string => (n / 2 ** 20).toFixed(1)
    console.log(`store live ${mib(s.store.live_bytes)} MiB of ${mib(BUDGET)} MiB; torrents ${s.torrents} of ${FLOOD} announced; ` +
      `evicted ${s.evicted.torrents}; RSS +${mib(rssHalf - rss0)} MiB after ${FLOOD / 2}, +${mib(rss1 - rss0)} MiB after ${FLOOD}`)

    assert.ok(s.store.live_bytes <= BUDGET, `store ${s.store.live_bytes} B within the budget`)
    assert.ok(s.torrents < FLOOD / 2, 'torrents were evicted')
    // Resent announces (a reply lost in a full socket buffer) may recreate a torrent evicted meanwhile.
    assert.ok(s.torrents + s.evicted.torrents >= FLOOD, 'every torrent is either held or counted as evicted')
    assert.ok(half.evicted.torrents > 0)
    // The store is capped; the rest of the growth is the runtime's (young generation, socket buffers),
    // which does not scale with the flood: the second half adds little.
    assert.ok(rss1 - rss0 < BUDGET + (48 << 20), `RSS grew ${mib(rss1 - rss0)} MiB`)
    assert.ok(rss1 - rssHalf < 8 << 20, `RSS grew ${mib(rss1 - rssHalf)} MiB in the second half of the flood`)

    const metrics = (await httpGet(otd.http[0]!, '/metrics')).body.toString()
    assert.match(metrics, new RegExp(`^otd_evicted_torrents_total ${s.evicted.torrents}$`, 'm'))
    assert.match(metrics, /^otd_store_memory_limit_bytes 4194304$/m)

    // Still a working tracker: a new torrent gets its peer back.
    const hash = randomBytes(20)
    await client.announce({ connId, infoHash: hash, port: 7001, left: 0n })
    const reply = await client.announce({ connId, infoHash: hash, port: 7002 })
    assert.equal(reply.seeders, 1)
    assert.equal(reply.peers.length, 1)
  } finally {
    client.close()
  }
})
