// Full scrapes under load, with the tracker in its own process (so its event loop and memory are
// measured apart from the test's): announces keep being answered quickly while full scrapes of
// 100 000 torrents stream (the real `otd` command), and a client that stops reading does not
// make the daemon buffer the scrape (a child with --expose-gc: retained memory stays flat,
// back-pressure reaches the producer).

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { RawConnection, tryParseResponse } from '../helpers/http-raw.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { OtdProcess, tempDir } from '../helpers/ops-otd-bin.js'
import { dechunk, parseBenFullScrape, parseOpsReply, sendRaw } from '../helpers/ops-http.js'
import { parseAnnounce } from '../helpers/tracker-client.js'

const dir = tempDir('otd-fsload-')
const procs: OtdProcess[] = []
after(async () => {
  await Promise.all(procs.map((p) => p.kill()))
  rmSync(dir, { recursive: true, force: true })
})

/** An opentracker statedump of `n` torrents (downloaded = i + 1), written for the daemon to load with -l. */
function writeDump (name: string, n: number): string {
  const minute = Math.floor(Date.now() / 60_000)
  const parts: string[] = []
  for (let i = 0; i < n; i++) {
    parts.push(`${createHash('sha1').update(`load-${i}`).digest('hex').toUpperCase()}:${minute}:${i + 1}\n`)
  }
  const path = join(dir, name)
  writeFileSync(path, parts.join(''), { mode: 0o644 })
  return path
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]!
}

const ANNOUNCE_HASH = '%aa'.repeat(20)

/** Sequential keep-alive HTTP/1.1 announces until `stop()` is true; returns each latency in ms. */
async function announceLoop (ep: Endpoint, stop: () => boolean): Promise<number[]> {
  const conn = await RawConnection.connect(ep)
  const lat: number[] = []
  try {
    for (let i = 0; !stop(); i++) {
      const t0 = performance.now()
      await conn.write(`GET /announce?info_hash=${ANNOUNCE_HASH}&port=${1 + (i % 500)}&left=1 HTTP/1.1\r\n\r\n`)
      const res = await conn.readResponse(5000)
      lat.push(performance.now() - t0)
      assert.equal(res.status, 200)
      assert.ok(res.body.toString('latin1').startsWith('d8:complete'), res.body.toString('latin1'))
    }
  } finally {
    conn.destroy()
  }
  return lat
}

describe('announces during full scrapes of 100 000 torrents', () => {
  const N = 100_000
  let otd: OtdProcess
  before(async () => {
    otd = await OtdProcess.start(['-l', writeDump('load-100k.txt', N)], { cwd: dir })
    procs.push(otd)
    await otd.waitForLog((l) => /100000 torrents restored/.test(l.msg), 'the statedump load')
  })

  test('announce latency stays low while full scrapes (identity, gzip, zstd) stream', async (t) => {
    const idle = await announceLoop(otd.http, ((n) => () => n-- === 0)(200))
    let scraping = true
    const during = announceLoop(otd.http, () => !scraping)
    const sizes: Record<string, number> = {}
    const scrapeMs: number[] = []
    for (const enc of ['identity', 'gzip', 'zstd', 'identity', 'gzip']) {
      const t0 = performance.now()
      const raw = await sendRaw(otd.http, `GET /scrape HTTP/1.1\r\nAccept-Encoding: ${enc}\r\n\r\n`, { timeoutMs: 30_000 })
      scrapeMs.push(performance.now() - t0)
      const r = parseOpsReply(raw)
      assert.equal(r.status, 200)
      assert.equal(r.body.subarray(0, 9).toString(), 'd5:filesd')
      sizes[enc] = r.body.length
    }
    scraping = false
    const lat = (await during).sort((a, b) => a - b)
    const idleSorted = idle.sort((a, b) => a - b)
    assert.equal(sizes.identity, sizes.gzip)
    assert.equal(sizes.identity, sizes.zstd)
    assert.ok(sizes.identity! > N * 70, `a scrape of ${N} torrents is ${sizes.identity} bytes`)
    const report = `full scrape of ${N} torrents (${sizes.identity} bytes): ${scrapeMs.map((m) => m.toFixed(0)).join('/')} ms (identity/gzip/zstd/identity/gzip); ` +
      `${lat.length} announces meanwhile: p50 ${percentile(lat, 50).toFixed(2)} ms, p99 ${percentile(lat, 99).toFixed(2)} ms, max ${lat[lat.length - 1]!.toFixed(2)} ms; ` +
      `idle: p50 ${percentile(idleSorted, 50).toFixed(2)} ms, p99 ${percentile(idleSorted, 99).toFixed(2)} ms`
    t.diagnostic(report)
    console.log(`# ${report}`)
    assert.ok(lat.length >= 50, `only ${lat.length} announces were answered during ${scrapeMs.reduce((a, b) => a + b, 0).toFixed(0)} ms of full scrapes`)
    assert.ok(percentile(lat, 99) < 50, `p99 announce latency during full scrapes: ${percentile(lat, 99).toFixed(2)} ms`)
    // A producer that does not yield shows up as one long stall (about 100 ms for 100 000 torrents
    // without the snapshot's yields), which the p99 of a thousand samples hides.
    assert.ok(lat[lat.length - 1]! < 150, `slowest announce during full scrapes: ${lat[lat.length - 1]!.toFixed(2)} ms`)
  })
})

/**
 * The tracker in a child process started with --expose-gc: asked over IPC, it collects garbage
 * and reports its memory, so what the daemon *retains* is measured without GC noise.
 */
const TRACKER_MODULE = new URL('../../src/index.js', import.meta.url).href
const CHILD_SCRIPT = `
import { createHash } from 'node:crypto'
const { createTracker } = await import(process.argv[1])
const n = Number(process.argv[2])
const tracker = createTracker({ http: [{ host: '127.0.0.1', port: 0 }], udp: [] })
const bound = await tracker.listen()
const ip = new Uint32Array([0x0a000001])
for (let i = 0; i < n; i++) {
  const hash = createHash('sha1').update('slow-' + i).digest()
  tracker.store.announce(hash, 0, 4, ip, 1 + (i % 1000), i % 2 === 0, i % 4 === 0)
}
process.on('message', () => {
  globalThis.gc(); globalThis.gc()
  const m = process.memoryUsage()
  process.send({ rss: m.rss, arrayBuffers: m.arrayBuffers, heapUsed: m.heapUsed })
})
process.on('disconnect', () => { void tracker.close().finally(() => process.exit(0)) })
process.send({ port: bound.http[0].port })
`

interface Mem { rss: number, arrayBuffers: number, heapUsed: number }

describe('a client that does not read its full scrape', () => {
  const N = 400_000
  let child: ChildProcess
  let ep: Endpoint
  const replies: Array<(m: Mem) => void> = []
  const mem = (): Promise<Mem> => new Promise((resolve) => { replies.push(resolve); child.send('mem') })
  before(async () => {
    child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD_SCRIPT, TRACKER_MODULE, String(N)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port))
      child.once('exit', (code) => reject(new Error(`tracker child exited with ${code}`)))
    })
    child.on('message', (m) => replies.shift()?.(m as Mem))
    ep = { address: '127.0.0.1', port, family: 'IPv4' }
  })
  after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      await exited
    }
  })

  test('does not make the daemon buffer the scrape (retained memory stays flat); the scrape completes when it reads again', async (t) => {
    // A complete scrape first: its size, and warm code paths.
    const full = parseOpsReply(await sendRaw(ep, 'GET /scrape HTTP/1.1\r\n\r\n', { timeoutMs: 30_000 }))
    const size = full.body.length
    assert.equal(parseBenFullScrape(full.body).length, N)
    const base = await mem()

    // The slow client: sends the request and reads nothing.
    const socket = net.connect({ host: ep.address, port: ep.port })
    socket.pause()
    const closed = new Promise<void>((resolve, reject) => { socket.on('close', () => resolve()); socket.on('error', reject) })
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write('GET /scrape HTTP/1.1\r\n\r\n')

    // Watch the daemon until what it retains is steady (at least 1 s, at most 6 s).
    const samples: Mem[] = []
    const started = Date.now()
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      samples.push(await mem())
      const last = samples.slice(-5).map((m) => m.arrayBuffers)
      const steady = last.length === 5 && Math.max(...last) - Math.min(...last) < 64 * 1024
      if ((steady && Date.now() - started > 1000) || Date.now() - started > 6000) break
    }
    // The daemon still answers meanwhile.
    const ann = await sendRaw(ep, `GET /announce?info_hash=${ANNOUNCE_HASH}&port=9 HTTP/1.0\r\n\r\n`)
    parseAnnounce(tryParseResponse(ann, true)!.response)

    // Now read: the whole scrape arrives, intact.
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.resume()
    await closed
    const raw = Buffer.concat(chunks)
    const body = dechunk(raw.subarray(raw.indexOf('\r\n\r\n') + 4)).body
    assert.equal(body.length, size)
    assert.ok(body.equals(full.body), 'the slow client got the same scrape')

    const maxAb = Math.max(...samples.map((m) => m.arrayBuffers))
    const maxRss = Math.max(...samples.map((m) => m.rss))
    const maxHeap = Math.max(...samples.map((m) => m.heapUsed))
    const mb = (n: number): string => (n / 1e6).toFixed(2)
    const report = `stalled full scrape of ${N} torrents (${mb(size)} MB), after GC: Buffer memory ${mb(base.arrayBuffers)} → max ${mb(maxAb)} MB ` +
      `(+${mb(maxAb - base.arrayBuffers)}), heap ${mb(base.heapUsed)} → max ${mb(maxHeap)} MB (+${mb(maxHeap - base.heapUsed)}), ` +
      `RSS ${mb(base.rss)} → max ${mb(maxRss)} MB (+${mb(maxRss - base.rss)}), ${samples.length} samples`
    t.diagnostic(report)
    console.log(`# ${report}`)
    assert.ok(maxAb - base.arrayBuffers < 2 * 1024 * 1024, `Buffer memory retained by the daemon grew by ${maxAb - base.arrayBuffers} bytes for a ${size}-byte scrape`)
    assert.ok(maxHeap - base.heapUsed < size / 4, `heap grew by ${maxHeap - base.heapUsed} bytes for a ${size}-byte scrape`)
    assert.ok(maxRss - base.rss < size / 2, `RSS grew by ${maxRss - base.rss} bytes for a ${size}-byte scrape`)
  })
})
