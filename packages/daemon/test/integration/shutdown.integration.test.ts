// SIGTERM / SIGINT on the real `otd` command: stop accepting, finish replies in flight (a full
// scrape completes; one whose client stopped reading is cut only after the grace period), write
// the state file, exit 0 within a few seconds. Idle keep-alive connections do not hold it up.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { RawConnection } from '../helpers/http-raw.js'
import { OtdProcess, tempDir } from '../helpers/ops-otd-bin.js'
import { dechunk, parseBenFullScrape } from '../helpers/ops-http.js'
import { OTD_BIN, spawnOtd } from '../helpers/otd-child.js'
import { parseAnnounce } from '../helpers/tracker-client.js'

const dir = tempDir('otd-shutdown-')
const procs: OtdProcess[] = []
after(async () => {
  await Promise.all(procs.map((p) => p.kill()))
  rmSync(dir, { recursive: true, force: true })
})

const N = 200_000
let dump: string
before(() => {
  const minute = Math.floor(Date.now() / 60_000)
  const parts: string[] = []
  for (let i = 0; i < N; i++) parts.push(`${createHash('sha1').update(`sd-${i}`).digest('hex').toUpperCase()}:${minute}:${i + 1}\n`)
  dump = join(dir, 'dump.txt')
  writeFileSync(dump, parts.join(''), { mode: 0o644 })
})

async function start (args: string[]): Promise<OtdProcess> {
  const p = await OtdProcess.start(args, { cwd: dir })
  procs.push(p)
  await p.waitForLog((l) => l.msg.includes(' listening: '), 'start-up')
  return p
}

/** A client that sends a full scrape request, waits for the reply head and then stops reading. */
async function stalledScrape (otd: OtdProcess): Promise<{ socket: net.Socket, received: () => Buffer, closed: Promise<void> }> {
  const socket = net.connect({ host: otd.http.address, port: otd.http.port })
  const parts: Buffer[] = []
  const closed = new Promise<void>((resolve) => { socket.on('close', () => resolve()); socket.on('error', () => {}) })
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write('GET /scrape HTTP/1.1\r\n\r\n')
  await new Promise<void>((resolve) => {
    const onData = (c: Buffer): void => {
      parts.push(c)
      if (Buffer.concat(parts).includes('\r\n\r\n')) { socket.off('data', onData); socket.pause(); resolve() }
    }
    socket.on('data', onData)
  })
  return {
    socket,
    closed,
    received: () => Buffer.concat(parts)
  }
}

/**
 * Whether a new connection is refused or, if the kernel completed the handshake in the instant
 * before the listener closed, reset without a reply.
 */
function notServed (otd: OtdProcess): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: otd.http.address, port: otd.http.port })
    let got = 0
    s.on('data', (d: Buffer) => { got += d.length })
    s.once('connect', () => s.write(`GET /announce?info_hash=${'%cc'.repeat(20)}&port=1 HTTP/1.0\r\n\r\n`))
    s.once('error', (e: NodeJS.ErrnoException) => { s.destroy(); resolve(e.code === 'ECONNREFUSED' || (e.code === 'ECONNRESET' && got === 0)) })
    s.once('close', () => resolve(got === 0))
  })
}

describe('graceful shutdown', () => {
  test('SIGTERM during a full scrape: new connections refused, the scrape completes, exit 0', async () => {
    const state = join(dir, 'a.state')
    const otd = await start(['-l', dump, '--statefile', state])
    const c = await stalledScrape(otd)
    const t0 = Date.now()
    otd.child.kill('SIGTERM')
    await otd.waitForLog((l) => l.msg.startsWith('SIGTERM: finishing replies in flight'), 'the SIGTERM line')
    assert.equal(await notServed(otd), true, 'no longer accepting')
    assert.equal(otd.child.exitCode, null, 'still running while the scrape is in flight')
    // Read the rest.
    const parts = [c.received()]
    c.socket.on('data', (d: Buffer) => parts.push(d))
    c.socket.resume()
    await c.closed
    const raw = Buffer.concat(parts)
    const body = dechunk(raw.subarray(raw.indexOf('\r\n\r\n') + 4)).body
    assert.equal(parseBenFullScrape(body).length, N, 'the whole scrape arrived')
    const { code } = await otd.waitExit(8000)
    assert.equal(code, 0)
    assert.ok(Date.now() - t0 < 6000, `exited ${Date.now() - t0} ms after SIGTERM`)
    assert.ok(existsSync(state), 'the state file is written')
    assert.ok(otd.logs.some((l) => l.msg === 'stopped'))
  })

  test('a full scrape whose client never reads again is cut only after the grace period; still exit 0 and the state is written', async () => {
    const state = join(dir, 'b.state')
    const otd = await start(['-l', dump, '--statefile', state])
    const c = await stalledScrape(otd)
    const { code, ms } = await otd.stop('SIGTERM', 12_000)
    assert.equal(code, 0)
    assert.ok(ms >= 3500, `cut after ${ms} ms, before the grace period`)
    assert.ok(ms < 8000, `exit took ${ms} ms`)
    assert.ok(otd.logs.some((l) => new RegExp(`state file ${state} written: ${N} torrents`).test(l.msg)), otd.output.slice(-2000))
    // The client, reading now, finds the scrape cut short.
    const parts = [c.received()]
    c.socket.on('data', (d: Buffer) => parts.push(d))
    c.socket.resume()
    await c.closed
    const raw = Buffer.concat(parts)
    assert.throws(() => dechunk(raw.subarray(raw.indexOf('\r\n\r\n') + 4)), 'no terminating chunk: the client can tell it was cut')
  })

  test('SIGINT with an idle keep-alive connection open: exit 0 at once, the connection is closed', async () => {
    const state = join(dir, 'c.state')
    const otd = await start(['--statefile', state])
    const conn = await RawConnection.connect(otd.http)
    await conn.write(`GET /announce?info_hash=${'%bb'.repeat(20)}&port=7 HTTP/1.1\r\n\r\n`)
    parseAnnounce(await conn.readResponse())
    const { code, ms } = await otd.stop('SIGINT')
    assert.equal(code, 0)
    assert.ok(ms < 2000, `exit took ${ms} ms`)
    await conn.waitClosed()
    assert.ok(otd.logs.some((l) => /written: 1 torrents, 1 peers/.test(l.msg)))
    assert.ok(otd.logs.some((l) => l.msg.startsWith('SIGINT: finishing replies in flight')))
  })

  test('a second signal while shutting down exits at once', async () => {
    const otd = await start(['-l', dump])
    await stalledScrape(otd)
    otd.child.kill('SIGTERM')
    await otd.waitForLog((l) => l.msg.startsWith('SIGTERM: finishing'), 'the SIGTERM line')
    const { code, ms } = await otd.stop('SIGTERM')
    assert.ok(ms < 1500, `exit took ${ms} ms`)
    assert.equal(code, 1)
    assert.ok(otd.logs.some((l) => l.msg === 'SIGTERM again: exiting now'))
  })

  test('SIGTERM after the reader of stdout went away (EPIPE on every log line): exit 0, no hang', async () => {
    // `otd | head`, or a log shipper that died: the log pipe has no reader left. pino's default
    // destination then looped forever in its exit-time flush, and the tracker never exited.
    const child = spawn(process.execPath, [OTD_BIN, '-i', '127.0.0.1', '-p', '0', '-P', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
    let signal: string | null = null
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code, sig) => { signal = sig; resolve(code) }))
    await new Promise<void>((resolve, reject) => {
      let seen = ''
      child.stdout.on('data', (d: Buffer) => { seen += d.toString(); if (seen.includes(' listening: ')) resolve() })
      child.once('exit', () => reject(new Error(`otd exited before listening: ${seen}`)))
    })
    child.stdout.destroy()
    const t0 = Date.now()
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000)
    const code = await exited
    clearTimeout(timer)
    assert.equal(code, 0, `exit code ${code}, signal ${signal} after ${Date.now() - t0} ms (SIGKILL: killed after 8 s, it hung)`)
  })

  test('SIGTERM during start-up is not fatal: start-up completes, then a clean shutdown, exit 0', async () => {
    // The whitelist is a FIFO, so start-up is held while otd reads it: our open for writing
    // returns exactly when otd is reading it. The same holds for a signal sent the moment the
    // "listening" line is read, before start-up has returned (CI once lost that race: killed by
    // SIGTERM's default action).
    const list = join(dir, 'white.fifo')
    execFileSync('mkfifo', ['-m', '0666', list])
    const proc = spawnOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-w', list], { cwd: dir })
    try {
      const fh = await open(list, 'w')
      try {
        proc.signal('SIGTERM')
        await proc.waitLog(/^SIGTERM during start-up/)
        assert.equal(proc.exit, undefined, `otd died of the SIGTERM: ${JSON.stringify(proc.exit)}`)
        await fh.writeFile(`${'ab'.repeat(20)}\n`)
      } finally {
        await fh.close()
      }
      const e = await proc.exited
      assert.deepEqual(e, { code: 0, signal: null })
      const msgs = proc.logs.map((l) => l.msg)
      const listening = msgs.findIndex((m) => m.includes(' listening: '))
      assert.ok(listening >= 0, 'start-up completed')
      assert.ok(msgs.indexOf('stopped') > listening, `then shut down: ${msgs.join(' | ')}`)
    } finally {
      await proc.stop()
    }
  })
})
