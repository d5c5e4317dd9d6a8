// Daemon-level fuzz run (issue 8, "Input"): the real `otd` binary in a child process gets a seeded
// mix of random and mutated UDP packets and raw HTTP requests for a bounded time, then must
// still answer correctly, and its resident memory must not have grown beyond a set bound.
//
// - Time: OTD_FUZZ_SECONDS (default 15, what CI runs); e.g. OTD_FUZZ_SECONDS=120 for a long run.
//   Seed: OTD_FUZZ_SEED (default fixed). The counts, statuses and RSS timeline are printed as
//   test diagnostics.
// - UDP: random datagrams; valid connect/announce/scrape packets, mutated (bit flips in the
//   header, the fields or anywhere; truncation; BEP 41 tails); wrong connection ids; unknown
//   actions; scrapes over the 75-hash cap; oversized datagrams up to 65,507 bytes (an announce
//   that would pass the connection id check keeps a bounded hash and port, see Memory). Every 64
//   packets a connect "barrier" proves the tracker has processed everything before it (and
//   refreshes the connection id); every datagram received must be a well-formed BEP 15 reply.
// - HTTP: connections carrying 1-12 pipelined requests, written in random pieces, then a FIN:
//   valid announces/scrapes/stats/metrics/full scrapes/admin and sync POSTs, the same mutated
//   (flips, inserted tokens such as huge numbers, bad escapes, bare CR/LF), garbage, oversized
//   heads and a truncated last request. Whatever comes back must be a sequence of well-framed
//   HTTP responses with an expected status.
// - Afterwards: the process is alive; UDP connect + announce + scrape and HTTP announce + scrape
//   of fresh hashes give exactly the right counts and peers; /stats and /metrics answer.
// - Memory: VmRSS of the otd process (/proc/<pid>/status), sampled every 250 ms. The first
//   third of the run (at least 5 s) is warm-up, in which V8 sizes its heap for the load
//   (~66 MiB idle -> 110-135 MiB); from then to the end RSS may grow by less than
//   RSS_GROWTH_BOUND_MB = 96 MiB. The tracker's legitimate state is kept bounded (announces use
//   64 hashes and 63 ports: at most 4,032 peers, under 1 MiB), so what is left is V8, malloc
//   and buffers awaiting garbage collection: V8 may still double its young generation after the
//   warm-up (+32 MiB of heap), and in 14 runs of 15 s the growth was 0.3-50 MiB (two near 50,
//   the rest under 20), so 96 MiB leaves a margin of about as much again. A leak of ~450 B per
//   request exceeds it within the ~225,000 requests after a 15 s run's warm-up; a 120 s run
//   (~2 million requests after its warm-up) catches ~50 B per request.
// - Found by this run and fixed in otd: a streamed reply (full scrape, tpbs/statedump dump) to a
//   client that half-closes after its request was cut short (the HTTP server now allows half-open
//   sockets); and each peer_id kept for the dictionary model (compact=0, 20% of announces here)
//   was a 20-byte slice of Node's shared 8 KiB buffer pool that kept the whole block alive
//   (~66 MiB of array buffers after a two-minute run; the store now copies into its own memory).

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { RawConnection, pctAll } from '../helpers/http-raw.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { request } from '../helpers/ops-http.js'
import { startOtd } from '../helpers/otd-child.js'
import type { RunningOtd } from '../helpers/otd-child.js'
import { Prng } from '../helpers/prng.js'
import { announce, keys, scrape, testHash, v4 } from '../helpers/tracker-client.js'
import { UdpClient, announcePacket, connectPacket, freshTxid, parseConnectReply, scrapePacket } from '../helpers/udp-raw.js'

const FUZZ_SECONDS = Math.max(1, Number(process.env.OTD_FUZZ_SECONDS ?? '15') || 15)
const SEED = Number(process.env.OTD_FUZZ_SEED ?? '') || 0x0f022ed
const RSS_GROWTH_BOUND_MB = 96
/** The first third of the run (at least 5 s) is warm-up: V8 grows its heap to working size. */
const WARM_UP_SECONDS = Math.min(FUZZ_SECONDS, Math.max(5, Math.round(FUZZ_SECONDS / 3)))
/** A plain ceiling on the end RSS, whatever the baseline. */
const RSS_CEILING_MB = 400
/** Concurrent HTTP fuzz connections (the per-address cap is 128). */
const HTTP_WORKERS = 6
/** UDP packets between two barriers. */
const UDP_WINDOW = 64

/** Announces use these hashes and ports 1..PORTS only, so the tracker's state stays bounded (4,032 peers). */
const HASHES = Array.from({ length: 64 }, (_, i) => testHash(9000 + i))
const PORTS = 63

let otd: RunningOtd
let rssAtStartKb = 0
let peakRssKb = 0

/** VmRSS of a process in KiB, or 0 where /proc is not available. */
function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

function outputTail(): string {
  const s = otd.proc.stdout + otd.proc.stderr
  return s.length > 3000 ? `…${s.slice(-3000)}` : s
}

function assertAlive(): void {
  assert.equal(otd.proc.exit, undefined, `otd exited: ${JSON.stringify(otd.proc.exit)}\n${outputTail()}`)
  assert.doesNotThrow(() => process.kill(otd.proc.pid, 0), 'otd process is gone')
}

function ep(list: Endpoint[]): Endpoint {
  const e = list[0]
  if (!e) throw new Error('otd reported no endpoint')
  return e
}

before(async () => {
  otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0'])
  // One valid exchange of each kind first, so that start-up allocation is in the baseline.
  const u = await UdpClient.open(ep(otd.udp))
  await u.announce({ infoHash: testHash(8999), port: 1 })
  u.close()
  await announce(ep(otd.http), { infoHash: testHash(8999), port: 1 })
  rssAtStartKb = rssKb(otd.proc.pid)
  peakRssKb = rssAtStartKb
})

after(async () => {
  if (otd) await otd.proc.stop()
})

// ---------------------------------------------------------------------------------------------
// UDP

/** Well-formed BEP 15 replies (what may come back for any datagram). */
function udpReplyProblem(b: Buffer): string | null {
  if (b.length < 8) return `reply of ${b.length} bytes`
  const action = b.readUInt32BE(0)
  if (action === 0) return b.length === 16 ? null : `connect reply of ${b.length} bytes`
  if (action === 1) return b.length >= 20 && (b.length - 20) % 6 === 0 ? null : `announce reply of ${b.length} bytes`
  if (action === 2) return (b.length - 8) % 12 === 0 && b.length <= 8 + 75 * 12 ? null : `scrape reply of ${b.length} bytes`
  if (action === 3) return b.length > 8 && b.length <= 100 ? null : `error reply of ${b.length} bytes`
  return `unknown action ${action} in ${b.subarray(0, 40).toString('hex')}`
}

class UdpFuzzer {
  sent = 0
  replies = 0
  barriers = 0
  readonly kinds = new Map<string, number>()
  readonly problems: string[] = []
  private pending = 0

  private constructor(readonly client: UdpClient, public connId: Buffer, readonly rng: Prng) {}

  static async open(target: Endpoint, rng: Prng): Promise<UdpFuzzer> {
    const c = await UdpClient.open(target)
    return new UdpFuzzer(c, await c.connect(), rng)
  }

  private validAnnounce(connId = this.connId): Buffer {
    const r = this.rng
    return announcePacket({
      connId,
      txid: r.u32(),
      infoHash: r.pick(HASHES),
      peerId: r.bytes(20),
      port: r.range(1, PORTS),
      left: r.chance(0.4) ? 0n : BigInt(r.u32()),
      downloaded: BigInt(r.u32()),
      event: r.int(5),
      numWant: r.pick([0, 1, 50, 200, 0xffffffff, r.u32()]),
      key: r.u32(),
    })
  }

  private validScrape(connId = this.connId): Buffer {
    const r = this.rng
    const n = r.pick([0, 1, 2, 5, 74, 75, 76, 100])
    const hashes = Array.from({ length: n }, () => (r.chance(0.8) ? r.pick(HASHES) : r.bytes(20)))
    return scrapePacket(connId, r.u32(), hashes)
  }

  /** A mutated copy: byte flips in one region, truncation, a tail, or a changed action. */
  private mutate(p: Buffer): Buffer {
    const r = this.rng
    switch (r.int(6)) {
      case 0: return r.flip(p, r.range(1, 3), 0, 16) // connection id, action, txid
      case 1: return p.length > 56 ? r.flip(p, r.range(1, 4), 56, p.length) : r.flip(p, 1) // counters, event, ip, key, num_want, port
      case 2: return r.flip(p, r.range(1, 6)) // anywhere, hashes included
      case 3: return p.subarray(0, r.int(p.length + 1)) // truncated
      case 4: return Buffer.concat([p, r.bytes(r.range(1, 64))]) // BEP 41 options or junk after it
      default: {
        const q = Buffer.from(p)
        if (q.length >= 12) q.writeUInt32BE(r.pick([0, 1, 2, 3, 4, 0xffffffff, r.u32()]), 8)
        return q
      }
    }
  }

  private next(): [string, Buffer] {
    const r = this.rng
    const roll = r.int(100)
    if (roll < 15) return ['random', r.bytes(r.pick([r.int(16), r.int(120), r.int(1500)]))]
    if (roll < 22) {
      const c = connectPacket(r.u32())
      return ['connect', r.chance(0.5) ? c : this.mutate(c)]
    }
    if (roll < 50) return ['announce', r.chance(0.3) ? this.validAnnounce() : this.mutate(this.validAnnounce())]
    if (roll < 70) return ['scrape', r.chance(0.3) ? this.validScrape() : this.mutate(this.validScrape())]
    if (roll < 85) {
      const wrong = r.bytes(8)
      return ['wrong connection id', r.chance(0.5) ? this.validAnnounce(wrong) : this.validScrape(wrong)]
    }
    if (roll < 99) {
      const p = r.bytes(r.range(12, 200))
      this.connId.copy(p, 0)
      p.writeUInt32BE(r.pick([0, 1, 2, 3, 4, 5, r.u32()]), 8)
      return ['valid id, random action and body', p]
    }
    const big = r.bytes(r.range(1500, 65_507))
    this.connId.copy(big, 0)
    big.writeUInt32BE(r.pick([1, 2]), 8)
    return ['oversized', big]
  }

  /**
   * Keeps the tracker's legitimate state bounded, so that memory growth means a leak: an announce
   * that would pass the connection id check gets one of the 64 hashes and one of PORTS ports (any
   * 20 bytes are a valid info_hash, so fuzzing them finds nothing; it would only grow the store).
   */
  private bounded(p: Buffer): Buffer {
    if (p.length >= 98 && p.readUInt32BE(8) === 1 && p.compare(this.connId, 0, 8, 0, 8) === 0) {
      this.rng.pick(HASHES).copy(p, 16)
      p.writeUInt16BE(this.rng.range(1, PORTS), 96)
    }
    return p
  }

  async send(): Promise<void> {
    const [kind, generated] = this.next()
    const p = this.bounded(Buffer.from(generated))
    await this.client.send(p)
    this.sent++
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1)
    if (++this.pending >= UDP_WINDOW) await this.barrier()
  }

  /**
   * A connect with a fresh txid, answered only after the datagrams before it (retried in case a
   * datagram was dropped). Its reply refreshes the connection id. Then checks every reply that
   * arrived meanwhile.
   */
  async barrier(): Promise<void> {
    this.pending = 0
    this.barriers++
    for (let attempt = 0; ; attempt++) {
      const txid = freshTxid()
      await this.client.send(connectPacket(txid))
      try {
        this.connId = parseConnectReply(await this.client.recvTx(txid, 2000)).connId
        break
      } catch (err) {
        if (attempt >= 4) throw new Error(`otd stopped answering UDP after ${this.sent} packets: ${(err as Error).message}\n${outputTail()}`)
      }
    }
    for (;;) {
      const reply = await this.client.recv(0).catch(() => undefined)
      if (!reply) break
      this.replies++
      const problem = udpReplyProblem(reply)
      if (problem !== null && this.problems.length < 20) this.problems.push(problem)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

const INTERESTING = ['99999999999999999999', '-1', '%', '%zz', '%00', '&', '=', '?', '#', '\r', '\n', '\r\n', ' ', '\0', '\xff', '%ff%',
  'HTTP/1.1', 'Connection: close\r\n', 'Content-Length: 99999\r\n', 'X-Forwarded-For: 1.2.3.4\r\n', '/../', '%2f', 'info_hash=']

class HttpFuzzer {
  connections = 0
  requests = 0
  responses = 0
  resets = 0
  readonly statuses = new Map<number, number>()
  readonly kinds = new Map<string, number>()
  readonly problems: string[] = []

  constructor(readonly target: Endpoint, readonly rng: Prng) {}

  private headers(): string {
    const r = this.rng
    let h = ''
    if (r.chance(0.3)) h += 'Host: tracker\r\n'
    if (r.chance(0.2)) h += `Accept-Encoding: ${r.pick(['gzip', 'zstd', 'gzip;q=0.5, zstd', 'identity;q=0', '*'])}\r\n`
    if (r.chance(0.1)) h += 'X-Forwarded-For: 10.0.0.1\r\n'
    if (r.chance(0.05)) h += 'Connection: close\r\n'
    if (r.chance(0.05)) h += `X-Pad: ${'p'.repeat(r.int(3000))}\r\n`
    return h
  }

  private valid(): [string, string] {
    const r = this.rng
    const version = r.chance(0.85) ? 'HTTP/1.1' : 'HTTP/1.0'
    const eol = r.chance(0.9) ? '\r\n' : '\n'
    const roll = r.int(100)
    let kind: string
    let target: string
    if (roll < 50) {
      kind = 'announce'
      const ev = r.pick(['', '&event=started', '&event=stopped', '&event=completed', '&event=paused'])
      // The dictionary model (compact=0) makes otd keep the peer_id (see the header comment).
      const dict = r.chance(0.2)
      target = `/announce?info_hash=${pctAll(r.pick(HASHES))}&peer_id=${pctAll(r.bytes(20))}&port=${r.range(1, PORTS)}` +
        `&uploaded=0&downloaded=0&left=${r.chance(0.4) ? 0 : r.u32()}${ev}&numwant=${r.pick([0, 1, 50, 200, 1000])}` +
        `&compact=${dict ? 0 : 1}${r.chance(0.1) ? '&no_peer_id' : ''}&key=${r.u32().toString(16)}`
    } else if (roll < 75) {
      kind = 'scrape'
      target = `/scrape?${Array.from({ length: r.range(1, 5) }, () => `info_hash=${pctAll(r.pick(HASHES))}`).join('&')}`
    } else {
      kind = 'operator'
      target = r.pick(['/stats', '/stats?mode=peer', '/stats?mode=conn', '/stats?mode=torr', '/stats?mode=everything&format=json',
        '/stats?mode=tpbs&format=txt', '/stats?mode=bogus', '/metrics', '/', '/favicon.ico', '/scrape', '/otd/status', '/sync'])
    }
    if (kind === 'operator' && r.chance(0.15)) {
      const body = r.bytes(r.int(200)).toString('latin1')
      const path = r.pick(['/sync', '/otd/reload', '/otd/peers', '/announce'])
      return ['post', `POST ${path} ${version}${eol}Content-Length: ${body.length}${eol}${this.headers().replaceAll('\r\n', eol)}${eol}${body}`]
    }
    return [kind, `GET ${target} ${version}${eol}${this.headers().replaceAll('\r\n', eol)}${eol}`]
  }

  /** One request: valid, mutated, garbage or oversized (its head complete unless `last`). */
  private request(last: boolean): [string, Buffer] {
    const r = this.rng
    const roll = r.int(100)
    if (roll < 40) {
      const [kind, text] = this.valid()
      return [kind, Buffer.from(text, 'latin1')]
    }
    if (roll < 80) {
      const [kind, text] = this.valid()
      let b: Buffer = Buffer.from(text, 'latin1')
      const headLen = b.indexOf('\n\n') >= 0 ? b.indexOf('\n\n') : b.indexOf('\r\n\r\n')
      // Mutation sites, applied from the last to the first so that each offset stays valid. The
      // info_hash and port values are left alone (as for UDP: that only grows the store).
      const hashAt = text.indexOf('info_hash=') + 10
      const portAt = text.indexOf('&port=') + 6
      const isProtected = (at: number): boolean => (hashAt >= 10 && at >= hashAt && at < hashAt + 60) ||
        (portAt >= 6 && at >= portAt && at <= text.indexOf('&', portAt))
      const sites = Array.from({ length: r.range(1, 3) }, () => r.int(Math.max(1, headLen))).filter((at) => !isProtected(at)).sort((x, y) => y - x)
      for (const at of sites) {
        if (r.chance(0.6)) b = r.flip(b, 1, at, at + 1)
        else b = Buffer.concat([b.subarray(0, at), Buffer.from(r.pick(INTERESTING), 'latin1'), b.subarray(at)])
      }
      return [`mutated ${kind}`, b]
    }
    if (roll < 90) {
      const junk = r.bytes(r.range(1, 2000))
      for (let i = 0; i < junk.length; i++) if (junk[i] === 10) junk[i] = 32 // one head: no line feeds inside
      return ['garbage', Buffer.concat([junk, Buffer.from('\r\n\r\n')])]
    }
    if (roll < 95 || !last) return ['oversized head', Buffer.from(`GET /announce?info_hash=x HTTP/1.1\r\nX-Big: ${'h'.repeat(r.range(8000, 20_000))}\r\n\r\n`)]
    const [, text] = this.valid()
    return ['truncated', Buffer.from(text.slice(0, r.int(text.length - 2)), 'latin1')]
  }

  /** One connection: a batch of pipelined requests written in pieces, then FIN; checks the replies. */
  async session(): Promise<void> {
    const r = this.rng
    const n = r.range(1, 12)
    const parts: Buffer[] = []
    for (let i = 0; i < n; i++) {
      const [kind, b] = this.request(i === n - 1)
      parts.push(b)
      this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1)
    }
    const all = Buffer.concat(parts)
    const conn = await RawConnection.connect(this.target)
    this.connections++
    this.requests += n
    try {
      let at = 0
      for (let pieces = r.range(1, 4); pieces > 0 && at < all.length; pieces--) {
        const end = pieces === 1 ? all.length : at + r.int(all.length - at + 1)
        await conn.write(all.subarray(at, end))
        at = end
      }
      conn.socket.end()
      await conn.waitClosed(10_000)
    } catch (err) {
      this.problems.push(`connection did not close: ${(err as Error).message.slice(0, 300)}`)
    } finally {
      conn.destroy()
    }
    const reset = conn.error !== undefined && /ECONNRESET|EPIPE/.test(conn.error.message)
    if (reset) this.resets++
    this.checkResponses(conn.received, reset)
  }

  /** `data` must be a sequence of complete, well-framed responses (the last may be cut by a reset). */
  private checkResponses(data: Buffer, reset: boolean): void {
    let off = 0
    const problem = (what: string): void => {
      if (this.problems.length < 20) this.problems.push(`${what}: ${JSON.stringify(data.subarray(off, off + 200).toString('latin1'))}`)
    }
    while (off < data.length) {
      const headEnd = data.indexOf('\r\n\r\n', off)
      if (headEnd < 0) { if (!reset) problem('incomplete response head'); return }
      const lines = data.toString('latin1', off, headEnd).split('\r\n')
      const m = /^HTTP\/1\.[01] (\d{3}) [A-Za-z ]+$/.exec(lines[0] ?? '')
      if (!m) { problem('bad status line'); return }
      const status = Number(m[1])
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1)
      if (![200, 302, 400, 403, 404, 413, 429, 500, 503].includes(status)) problem(`unexpected status ${status}`)
      const header = (name: string): string | undefined => lines.slice(1).find((l) => l.toLowerCase().startsWith(name + ':'))?.slice(name.length + 1).trim()
      let p = headEnd + 4
      const cl = header('content-length')
      if (header('transfer-encoding') === 'chunked') {
        // (Streamed replies, full scrapes and dumps, must be complete even though the client
        // half-closed after its request: this run found them cut short before allowHalfOpen.)
        for (;;) {
          const eol = data.indexOf('\r\n', p)
          if (eol < 0) { if (!reset) problem('incomplete chunk size'); return }
          const size = Number.parseInt(data.toString('latin1', p, eol), 16)
          if (!Number.isInteger(size) || size < 0) { problem('bad chunk size'); return }
          p = eol + 2 + size + 2
          if (p > data.length) { if (!reset) problem('incomplete chunk'); return }
          if (size === 0) break
        }
      } else if (cl !== undefined) {
        if (!/^\d+$/.test(cl)) { problem('bad Content-Length'); return }
        p += Number(cl)
        if (p > data.length) { if (!reset) problem('body shorter than Content-Length'); return }
      } else {
        p = data.length // delimited by the close
      }
      this.responses++
      off = p
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe(`fuzz: random and mutated UDP and HTTP against the otd binary for ${FUZZ_SECONDS} s (seed ${SEED})`, () => {
  test('otd survives, stays correct and within its memory bound', { timeout: (FUZZ_SECONDS + 120) * 1000 }, async (t) => {
    const rng = new Prng(SEED)
    const deadline = Date.now() + FUZZ_SECONDS * 1000
    const started = Date.now()
    const timeline: string[] = []
    let lastMark = started
    let rssWarmKb = 0
    const sampler = setInterval(() => {
      const kb = rssKb(otd.proc.pid)
      peakRssKb = Math.max(peakRssKb, kb)
      if (rssWarmKb === 0 && Date.now() - started >= WARM_UP_SECONDS * 1000) rssWarmKb = kb
      if (Date.now() - lastMark >= 5000) {
        lastMark = Date.now()
        timeline.push(`${Math.round((lastMark - started) / 1000)}s ${(kb / 1024).toFixed(0)}`)
      }
    }, 250)

    const udp = await UdpFuzzer.open(ep(otd.udp), new Prng(rng.u32()))
    const udpRun = (async () => {
      while (Date.now() < deadline) await udp.send()
      await udp.barrier()
    })()
    const http = Array.from({ length: HTTP_WORKERS }, () => new HttpFuzzer(ep(otd.http), new Prng(rng.u32())))
    const httpRuns = http.map(async (h) => { while (Date.now() < deadline) await h.session() })
    try {
      await Promise.all([udpRun, ...httpRuns])
    } finally {
      clearInterval(sampler)
      udp.client.close()
    }

    const sum = <K>(maps: Array<Map<K, number>>): Record<string, number> => {
      const out: Record<string, number> = {}
      for (const m of maps) for (const [k, v] of m) out[String(k)] = (out[String(k)] ?? 0) + v
      return out
    }
    const httpRequests = http.reduce((n, h) => n + h.requests, 0)
    const httpConnections = http.reduce((n, h) => n + h.connections, 0)
    t.diagnostic(`seed ${SEED}, ${FUZZ_SECONDS} s`)
    t.diagnostic(`UDP: ${udp.sent} datagrams sent (${JSON.stringify(Object.fromEntries(udp.kinds))}), ` +
      `${udp.replies} replies checked, ${udp.barriers} barriers`)
    t.diagnostic(`HTTP: ${httpRequests} requests on ${httpConnections} connections (${JSON.stringify(sum(http.map((h) => h.kinds)))}), ` +
      `${http.reduce((n, h) => n + h.responses, 0)} responses checked, statuses ${JSON.stringify(sum(http.map((h) => h.statuses)))}, ` +
      `${http.reduce((n, h) => n + h.resets, 0)} connections reset`)

    assertAlive()
    assert.deepEqual(udp.problems.slice(0, 10), [], `${udp.problems.length} malformed UDP replies`)
    const httpProblems = http.flatMap((h) => h.problems)
    assert.deepEqual(httpProblems.slice(0, 10), [], `${httpProblems.length} malformed HTTP replies`)
    assert.ok(udp.sent >= 1000 * Math.min(FUZZ_SECONDS, 10) / 10, `only ${udp.sent} UDP datagrams sent`)
    assert.ok(httpRequests >= 100 * Math.min(FUZZ_SECONDS, 10) / 10, `only ${httpRequests} HTTP requests sent`)

    // Still correct: fresh hashes, so the counts are exact.
    const hu = testHash(9500)
    const a = await UdpClient.open(ep(otd.udp))
    try {
      const id = await a.connect()
      const first = await a.announce({ connId: id, infoHash: hu, port: 6881, left: 1000n })
      assert.deepEqual([first.leechers, first.seeders, first.peers.length], [1, 0, 0])
      const second = await a.announce({ connId: id, infoHash: hu, port: 6882, left: 0n })
      assert.deepEqual([second.leechers, second.seeders], [1, 1])
      assert.deepEqual(keys(second.peers), [v4(6881)])
      const [entry] = await a.scrape([hu], id)
      assert.deepEqual(entry, { seeders: 1, completed: 0, leechers: 1 })
    } finally {
      a.close()
    }
    const hh = testHash(9501)
    const h1 = await announce(ep(otd.http), { infoHash: hh, port: 1, left: 0 })
    assert.deepEqual([h1.complete, h1.incomplete], [1, 0])
    const h2 = await announce(ep(otd.http), { infoHash: hh, port: 2, left: 5 })
    assert.deepEqual([h2.complete, h2.incomplete], [1, 1])
    assert.deepEqual(keys(h2.peers), [v4(1)])
    const s = await scrape(ep(otd.http), [hh])
    assert.deepEqual(s.get(hh.toString('latin1')), { complete: 1, downloaded: 0, incomplete: 1 })
    const stats = await request(ep(otd.http), '/stats')
    assert.equal(stats.status, 200)
    const m = /^(\d+)\n(\d+)\nopentracker serving (\d+) torrents\nopentracker$/.exec(stats.body.toString('latin1'))
    assert.ok(m, `/stats body ${JSON.stringify(stats.body.toString('latin1'))}`)
    assert.ok(Number(m[3]) >= 2, `torrents ${m[3]}`)
    t.diagnostic(`otd holds ${m[1]} peers (${m[2]} seeds) in ${m[3]} torrents`)
    const json = await request(ep(otd.http), '/stats?mode=everything&format=json')
    assert.equal(json.status, 200)
    assert.doesNotThrow(() => JSON.parse(json.body.toString('utf8')))
    assertAlive()

    const metrics = await request(ep(otd.http), '/metrics')
    assert.equal(metrics.status, 200)
    const mem = [...metrics.body.toString('latin1').matchAll(/^otd_memory_bytes\{kind="(\w+)"\} (\d+)/gm)]
      .map(([, k, v]) => `${k} ${(Number(v) / 1048576).toFixed(1)}`)
    t.diagnostic(`otd's own memory figures (MiB): ${mem.join(', ')}`)

    const endKb = rssKb(otd.proc.pid)
    peakRssKb = Math.max(peakRssKb, endKb)
    if (rssAtStartKb === 0) {
      t.diagnostic('no /proc/<pid>/status here: RSS not checked')
      return
    }
    const mib = (kb: number): string => (kb / 1024).toFixed(1)
    if (rssWarmKb === 0) rssWarmKb = endKb
    const growthMb = (endKb - rssWarmKb) / 1024
    t.diagnostic(`RSS of otd (MiB): ${mib(rssAtStartKb)} after start-up, ${mib(rssWarmKb)} after the ${WARM_UP_SECONDS} s warm-up, ` +
      `peak ${mib(peakRssKb)}, ${mib(endKb)} at the end: growth after warm-up ${growthMb.toFixed(1)} (bound ${RSS_GROWTH_BOUND_MB}); ` +
      `every 5 s: ${timeline.join(', ')}`)
    assert.ok(growthMb < RSS_GROWTH_BOUND_MB, `RSS grew by ${growthMb.toFixed(1)} MiB after the warm-up, over the ${RSS_GROWTH_BOUND_MB} MiB bound`)
    assert.ok(endKb / 1024 < RSS_CEILING_MB, `RSS ${mib(endKb)} MiB at the end, over the ${RSS_CEILING_MB} MiB ceiling`)
  })
})
