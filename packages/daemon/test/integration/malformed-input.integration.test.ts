// Robustness: thousands of random, truncated and bit-flipped UDP packets and a few hundred
// malformed HTTP requests against a tracker running in a child process, then proof that
// normal UDP and HTTP announces still get correct replies and the process did not crash.
// Everything is driven by a fixed PRNG seed, so runs are reproducible.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import type { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { asDict, decodeStrict } from '../helpers/bencode-strict.js'
import { RawConnection, errorReply } from '../helpers/http-raw.js'
import type { Endpoint, RawResponse } from '../helpers/http-raw.js'
import { Prng } from '../helpers/prng.js'
import { announce, announceTarget, keys, pool, testHash, v4, v6 } from '../helpers/tracker-client.js'
import {
  UdpClient,
  announcePacket,
  connectPacket,
  freshTxid,
  parseAnnounceReply,
  scrapePacket,
} from '../helpers/udp-raw.js'

const SEED = 0x07d15eed
const TRACKER_MODULE = new URL('../../src/index.js', import.meta.url).href

const CHILD_SCRIPT = `
import { writeSync } from 'node:fs'
const { createTracker } = await import(process.argv[1])
const tracker = createTracker({
  http: [{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }],
  udp: [{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }],
  httpIdleTimeoutSeconds: 2,
})
const bound = await tracker.listen()
writeSync(3, JSON.stringify(bound) + '\\n')
process.on('SIGTERM', () => { Promise.resolve(tracker.close()).finally(() => process.exit(0)) })
`

interface Bound {
  http: Endpoint[]
  udp: Endpoint[]
}

let child: ChildProcess
let bound: Bound
let output = ''

function tail(): string {
  return output.length > 4000 ? `…${output.slice(-4000)}` : output
}

function keep(stream: Readable | null): void {
  stream?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
    if (output.length > 100_000) output = output.slice(-20_000)
  })
}

function assertAlive(): void {
  assert.equal(child.exitCode, null, `tracker process exited with code ${child.exitCode}; output: ${tail()}`)
  assert.equal(child.signalCode, null, `tracker process killed by ${child.signalCode}; output: ${tail()}`)
}

function ep(list: Endpoint[], i: number): Endpoint {
  const e = list[i]
  if (!e) throw new Error(`missing endpoint #${i}`)
  return e
}

before(async () => {
  child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT, TRACKER_MODULE], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  })
  keep(child.stdout)
  keep(child.stderr)
  const fd3 = child.stdio[3] as Readable
  bound = await new Promise<Bound>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => reject(new Error(`tracker child did not report its endpoints within 15 s; output: ${tail()}`)), 15_000)
    fd3.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8')
      const nl = buf.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        resolve(JSON.parse(buf.slice(0, nl)) as Bound)
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`tracker child exited early (code ${code}, signal ${signal}); output: ${tail()}`))
    })
  })
})

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
})

// ---------------------------------------------------------------------------------------------
// UDP

/** Checks that a datagram from the tracker is a well-formed BEP 15 reply. */
function assertWellFormedUdpReply(b: Buffer): void {
  assert.ok(b.length >= 8, `reply of ${b.length} bytes`)
  const action = b.readUInt32BE(0)
  switch (action) {
    case 0:
      assert.equal(b.length, 16, 'connect reply length')
      break
    case 1:
      assert.ok(b.length >= 20 && ((b.length - 20) % 6 === 0 || (b.length - 20) % 18 === 0), `announce reply length ${b.length}`)
      break
    case 2:
      assert.ok((b.length - 8) % 12 === 0 && b.length <= 8 + 75 * 12, `scrape reply length ${b.length}`)
      break
    case 3:
      assert.equal(b.length, 33, 'error reply length')
      break
    default:
      assert.fail(`unexpected action ${action} in reply ${b.toString('hex').slice(0, 80)}`)
  }
}

class UdpFuzzer {
  sent = 0
  replies = 0
  private pending = 0

  constructor(
    readonly client: UdpClient,
    readonly connId: Buffer,
  ) {}

  static async open(target: Endpoint): Promise<UdpFuzzer> {
    const c = await UdpClient.open(target)
    return new UdpFuzzer(c, await c.connect())
  }

  async send(p: Buffer): Promise<void> {
    await this.client.send(p)
    this.sent++
    if (++this.pending >= 40) await this.barrier()
  }

  /**
   * Waits until the tracker has processed everything sent so far: a connect with a fresh
   * txid is answered only after the packets before it (retried in case of a drop).
   */
  async barrier(): Promise<void> {
    this.pending = 0
    for (let attempt = 0; ; attempt++) {
      const txid = freshTxid()
      await this.client.send(connectPacket(txid))
      try {
        await this.client.recvTx(txid, 1500)
        break
      } catch (err) {
        if (attempt >= 3) throw new Error(`tracker stopped answering UDP after ${this.sent} packets: ${(err as Error).message}; output: ${tail()}`)
      }
    }
    // validate and discard everything else that arrived
    for (;;) {
      const extra = await this.client.recv(0).catch(() => undefined)
      if (!extra) break
      assertWellFormedUdpReply(extra)
      this.replies++
    }
  }
}

function validPackets(connId: Buffer, rng: Prng): Buffer[] {
  const h = testHash(6000 + rng.int(50))
  return [
    connectPacket(rng.u32()),
    announcePacket({
      connId,
      txid: rng.u32(),
      infoHash: h,
      port: rng.range(1, 65535),
      left: rng.chance(0.5) ? 0n : BigInt(rng.u32()),
      event: rng.int(4),
      numWant: rng.pick([0, 1, 50, 0xffffffff]),
    }),
    scrapePacket(connId, rng.u32(), [h, testHash(6000 + rng.int(50)), rng.bytes(20)]),
  ]
}

describe('malformed input robustness (fixed seed)', () => {
  test('several thousand random, truncated and bit-flipped UDP packets', { timeout: 120_000 }, async (t) => {
    const rng = new Prng(SEED)
    const fuzzers = [await UdpFuzzer.open(ep(bound.udp, 0)), await UdpFuzzer.open(ep(bound.udp, 1))]
    try {
      for (const fz of fuzzers) {
        // 1. pure random packets of random length
        for (let i = 0; i < 800; i++) await fz.send(rng.bytes(rng.pick([rng.int(16), rng.int(120), rng.int(1500)])))
        // 2. random packets that carry a valid connection ID and a random action
        for (let i = 0; i < 300; i++) {
          const p = rng.bytes(rng.range(8, 200))
          fz.connId.copy(p, 0, 0, Math.min(8, p.length))
          if (p.length >= 12) p.writeUInt32BE(rng.pick([0, 1, 2, 3, 4, rng.u32()]), 8)
          await fz.send(p)
        }
        // 3. valid connect / announce / scrape packets truncated at every length
        for (const valid of validPackets(fz.connId, rng)) {
          for (let len = 0; len <= valid.length; len++) await fz.send(valid.subarray(0, len))
        }
        // 4. valid packets with 1-4 random byte flips
        for (let i = 0; i < 900; i++) {
          const valid = rng.pick(validPackets(fz.connId, rng))
          await fz.send(rng.flip(valid, rng.range(1, 4)))
        }
        // 5. valid packets with flips confined to the header (connection ID, action, txid)
        for (let i = 0; i < 200; i++) {
          const valid = rng.pick(validPackets(fz.connId, rng))
          await fz.send(rng.flip(valid, 1, 0, 16))
        }
        // 6. oversized datagrams, one at a time
        for (const size of [1500, 8192, 9000, 65_000]) {
          const p = rng.bytes(size)
          fz.connId.copy(p, 0)
          p.writeUInt32BE(rng.pick([1, 2]), 8)
          await fz.send(p)
          await fz.barrier()
        }
        await fz.barrier()
        assertAlive()
      }
      const total = fuzzers.reduce((n, fz) => n + fz.sent, 0)
      const replies = fuzzers.reduce((n, fz) => n + fz.replies, 0)
      t.diagnostic(`sent ${total} fuzz packets, got ${replies} well-formed replies (plus barrier replies)`)
      assert.ok(total >= 4000, `sent ${total} packets`)
    } finally {
      for (const fz of fuzzers) fz.client.close()
    }
    assertAlive()
  })

  test('a few hundred malformed HTTP requests', { timeout: 120_000 }, async (t) => {
    const rng = new Prng(SEED ^ 0x5a5a5a5a)
    const h = testHash(6100)
    const valid = `GET ${announceTarget({ infoHash: h, port: 6881, left: 5 })} HTTP/1.0\r\n\r\n`
    type Mode = 'reply' | 'close-early' | 'half-close' | 'hold'
    const cases: Array<{ name: string; bytes: Buffer; mode: Mode }> = []
    const add = (name: string, bytes: Buffer | string, mode: Mode = 'reply'): void => {
      cases.push({ name, bytes: typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, mode })
    }
    const term = Buffer.from('\r\n\r\n', 'latin1')

    for (let i = 0; i < 60; i++) add(`garbage #${i}`, Buffer.concat([rng.bytes(rng.range(1, 2000)).map((b) => (b === 0x0a ? 0x20 : b)), term]))
    for (let i = 0; i < 40; i++) {
      const cut = rng.range(1, valid.length - 4)
      add(`truncated at ${cut}, closed early`, valid.slice(0, cut), 'close-early')
    }
    for (let i = 0; i < 30; i++) {
      const cut = rng.range(0, valid.length - 4)
      add(`truncated at ${cut}, half-closed`, valid.slice(0, cut), 'half-close')
    }
    for (let i = 0; i < 10; i++) add(`truncated at ${i * 7}, held open`, valid.slice(0, i * 7), 'hold')
    for (let i = 0; i < 10; i++) add(`connect and close #${i}`, '', 'close-early')
    for (const size of [8193, 9000, 16_384, 70_000, 300_000]) {
      add(`oversize header ${size}`, `GET /announce?info_hash=x HTTP/1.0\r\nX-Big: ${'h'.repeat(size)}\r\n\r\n`)
      add(`oversize header ${size}, no terminator`, `GET /announce?info_hash=x HTTP/1.0\r\nX-Big: ${'h'.repeat(size)}`, 'close-early')
    }
    for (let i = 0; i < 20; i++) add(`many headers #${i}`, `GET /scrape?info_hash=${'%41'.repeat(20)} HTTP/1.0\r\n${'X-A: b\r\n'.repeat(rng.range(100, 2000))}\r\n`)
    for (const bad of ['%', '%z', '%zz', '%g0', '%0', '%%', '%00', '%ff%', '%E2%82', '%C0%AF', '%u0041']) {
      add(`bad escape in info_hash ${bad}`, `GET /announce?info_hash=${'%41'.repeat(19)}${bad}&port=1 HTTP/1.0\r\n\r\n`)
      add(`bad escape in path ${bad}`, `GET /ann${bad}ounce?info_hash=${'%41'.repeat(20)} HTTP/1.0\r\n\r\n`)
      add(`bad escape in name ${bad}`, `GET /announce?in${bad}fo=1&info_hash=${'%41'.repeat(20)} HTTP/1.0\r\n\r\n`)
      add(`bad escape in port ${bad}`, `GET /announce?info_hash=${'%41'.repeat(20)}&port=${bad} HTTP/1.0\r\n\r\n`)
      add(`bad escape in scrape ${bad}`, `GET /scrape?info_hash=${bad}${'%41'.repeat(19)} HTTP/1.0\r\n\r\n`)
    }
    for (let i = 0; i < 40; i++) {
      const bin = rng.bytes(rng.range(1, 60)).map((b) => (b === 0x0a || b === 0x0d ? 0x01 : b))
      const where = rng.int(3)
      const req =
        where === 0
          ? Buffer.concat([Buffer.from('GET /announce?info_hash=', 'latin1'), bin, Buffer.from('&port=1 HTTP/1.0\r\n\r\n', 'latin1')])
          : where === 1
            ? Buffer.concat([Buffer.from('GET /', 'latin1'), bin, Buffer.from(' HTTP/1.0\r\n\r\n', 'latin1')])
            : Buffer.concat([Buffer.from(valid.slice(0, -2), 'latin1'), Buffer.from('X-Bin: ', 'latin1'), bin, term])
      add(`binary bytes #${i}`, req)
    }
    for (const n of [100, 1000, 3000, 7000]) {
      add(`huge query ${n} items`, `GET /announce?info_hash=${'%41'.repeat(20)}${'&x=yy'.repeat(n)} HTTP/1.0\r\n\r\n`)
      add(`huge scrape ${n} hashes`, `GET /scrape?${Array.from({ length: n }, () => `info_hash=${'%42'.repeat(20)}`).join('&')} HTTP/1.0\r\n\r\n`)
    }
    for (const req of [
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=1 HTTP/9.9\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=1\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=1 HTTP/1.1 extra\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=1 HTTP/1.0\r\nno colon here\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=1 HTTP/1.0\r\n: empty name\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=1 HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=1 HTTP/1.0\r\nContent-Length: -1\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=1 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&numwant=99999999999999999999999&port=1 HTTP/1.0\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&port=99999999999999999999 HTTP/1.0\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&left=-99999999999999999999999 HTTP/1.0\r\n\r\n`,
      `GET /announce?info_hash=${'%41'.repeat(20)}&event=${'%00'.repeat(50)} HTTP/1.0\r\n\r\n`,
      `GET /announce?=&=&&=x HTTP/1.0\r\n\r\n`,
      `GET /announce?${'&'.repeat(5000)} HTTP/1.0\r\n\r\n`,
      `GET /%00 HTTP/1.0\r\n\r\n`,
      `GET /\x00announce HTTP/1.0\r\n\r\n`,
      `GET /announce?\x00 HTTP/1.0\r\n\r\n`,
      `GET ${'/'.repeat(5000)}announce?info_hash=${'%41'.repeat(20)} HTTP/1.0\r\n\r\n`,
      `GET /scrape?info_hash=${'%41'.repeat(20)}&info_hash HTTP/1.0\r\n\r\n`,
      `\r\n\r\n`,
      `\n\n`,
      `GET\r\n\r\n`,
      `GET /\r\n\r\n`,
      `GET / \r\n\r\n`,
      `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n`,
      `CONNECT 127.0.0.1:80 HTTP/1.1\r\n\r\n`,
      `GET http://127.0.0.1/announce?info_hash=${'%41'.repeat(20)} HTTP/1.1\r\nConnection: close\r\n\r\n`,
    ]) {
      add(`special ${JSON.stringify(req.slice(0, 30))}`, req)
    }
    for (let i = 0; i < 60; i++) {
      // flips anywhere before the terminator, which is kept intact
      add(`flipped valid request #${i}`, rng.flip(Buffer.from(valid, 'latin1'), rng.range(1, 3), 0, valid.length - 4))
    }

    const allowedErrors = new Map<number, string>([
      [400, errorReply(400, 'Invalid Request')],
      [404, errorReply(404, 'Not Found')],
      [500, errorReply(500, 'Internal Server Error')],
    ])
    const problems: string[] = []
    const httpEps = [ep(bound.http, 0), ep(bound.http, 1)]
    const held: RawConnection[] = []

    const statusCounts = new Map<string, number>()
    const checkReply = (name: string, res: RawResponse): void => {
      statusCounts.set(String(res.status), (statusCounts.get(String(res.status)) ?? 0) + 1)
      if (res.status === 200) {
        try {
          assert.equal(res.statusLine, 'HTTP/1.1 200 OK')
          asDict(decodeStrict(res.body))
        } catch (err) {
          problems.push(`${name}: bad 200 reply (${(err as Error).message})`)
        }
        return
      }
      const expected = allowedErrors.get(res.status)
      if (expected === undefined) problems.push(`${name}: unexpected status line ${JSON.stringify(res.statusLine)}`)
      else if (res.raw.toString('latin1') !== expected) problems.push(`${name}: malformed error reply ${JSON.stringify(res.raw.toString('latin1'))}`)
    }

    await pool(cases.length, 16, async (i) => {
      const c = cases[i]
      if (!c) return
      const conn = await RawConnection.connect(httpEps[i % 2] as Endpoint)
      try {
        if (c.bytes.length > 0) await conn.write(c.bytes)
        switch (c.mode) {
          case 'reply': {
            try {
              checkReply(c.name, await conn.readResponse(5000))
            } catch (err) {
              // an oversize request may be cut off with a reset before the 500 arrives
              const reset = conn.error !== undefined && /ECONNRESET|EPIPE/.test(conn.error.message)
              if (!(reset && c.bytes.length > 8192)) problems.push(`${c.name}: ${(err as Error).message.slice(0, 300)}`)
            }
            break
          }
          case 'close-early':
            break
          case 'half-close':
            conn.socket.end()
            try {
              await conn.waitClosed(5000)
              if (conn.buffer.length > 0) checkReply(c.name, await conn.readResponse(100))
            } catch (err) {
              problems.push(`${c.name}: ${(err as Error).message.slice(0, 300)}`)
            }
            break
          case 'hold':
            held.push(conn)
            return
        }
      } finally {
        if (c.mode !== 'hold') conn.destroy()
      }
    })
    for (const conn of held) conn.destroy()

    t.diagnostic(`${cases.length} HTTP cases; replies by status: ${JSON.stringify(Object.fromEntries(statusCounts))}`)
    assert.ok(cases.length >= 300, `${cases.length} cases`)
    assert.deepEqual(problems, [], `problems:\n${problems.join('\n')}`)
    assertAlive()
  })

  test('afterwards: normal UDP and HTTP announces get correct replies and the process is alive', async () => {
    assertAlive()
    const h = testHash(6200)
    const u4 = await UdpClient.open(ep(bound.udp, 0))
    const u6 = await UdpClient.open(ep(bound.udp, 1))
    try {
      const first = await u4.announce({ infoHash: h, port: 7001 })
      assert.deepEqual([first.leechers, first.seeders, first.peers.length], [1, 0, 0])
      await u6.announce({ infoHash: h, port: 7002, left: 0n })
      const txid = freshTxid()
      const raw = await u4.request(announcePacket({ connId: await u4.connect(), txid, infoHash: h, port: 7003 }))
      const r = parseAnnounceReply(raw, 'IPv4')
      assert.equal(r.txid, txid)
      assert.ok(r.interval >= 1620 && r.interval <= 1979)
      assert.deepEqual([r.leechers, r.seeders], [2, 1])
      assert.deepEqual(keys(r.peers), [v4(7001)])
    } finally {
      u4.close()
      u6.close()
    }
    const viaHttp4 = await announce(ep(bound.http, 0), { infoHash: h, port: 7004 })
    assert.deepEqual(keys(viaHttp4.peers), [v4(7001), v4(7003)])
    assert.deepEqual(keys(viaHttp4.peers6), [v6(7002)])
    assert.deepEqual([viaHttp4.complete, viaHttp4.incomplete], [1, 3])
    const viaHttp6 = await announce(ep(bound.http, 1), { infoHash: h, port: 7005 })
    assert.deepEqual([viaHttp6.complete, viaHttp6.incomplete], [1, 4])
    assertAlive()
  })
})
