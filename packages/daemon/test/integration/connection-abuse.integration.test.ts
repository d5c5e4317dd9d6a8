// The real `otd` binary under connection abuse (issue 8), configured through its config file with
// small limits: a connection flood from one address, a flood over the overall cap from many,
// then slowloris trickles and silent connections, while an honest client on its own address keeps
// asking. Every attacker outcome is checked (admitted, reset, closed by which deadline), and so
// is /metrics. docs/security.md quotes this test.

import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, test } from 'node:test'
import { cleanup, startOtd, tempDir, writeWorldFile, type RunningOtd } from '../helpers/otd-child.js'
import { RawConnection, type Endpoint } from '../helpers/http-raw.js'
import { sendRaw } from '../helpers/ops-http.js'

const MAX = 300
const PER_ADDRESS = 50
const SCRAPE = `GET /scrape?info_hash=${'%01'.repeat(20)} HTTP/1.1\r\n\r\n`

let dir: string
let otd: RunningOtd
let ep: Endpoint

before(async () => {
  dir = tempDir()
  const conf = writeWorldFile(dir, 'otd.conf', [
    `http.max_connections ${MAX}`,
    `http.max_connections_per_address ${PER_ADDRESS}`,
    'http.first_byte_timeout 2',
    'http.request_timeout 2',
    'http.idle_timeout 5'
  ].join('\n') + '\n')
  otd = await startOtd(['-f', conf, '-i', '127.0.0.1', '-p', '0'])
  ep = otd.http[0]!
})
after(async () => {
  await otd?.proc.stop()
  cleanup(dir)
})

/** Connects from `localAddress`; resolves once connected or closed (a reset can come first). */
async function open (localAddress: string): Promise<RawConnection> {
  const c = new RawConnection(net.connect({ host: ep.address, port: ep.port, localAddress }))
  await new Promise<void>((resolve) => {
    c.socket.once('connect', resolve)
    c.socket.once('close', () => resolve())
  })
  return c
}

/** Opens `n` connections from `localAddress` at once, each sending a keep-alive request: how many were served, how many reset. */
async function flood (localAddress: string, n: number): Promise<{ served: RawConnection[], refused: number }> {
  const conns = await Promise.all(Array.from({ length: n }, async () => {
    const c = await open(localAddress)
    await c.write(SCRAPE)
    await c.waitFor(() => c.received.length > 0 || c.closed || c.ended, 'a reply or a reset')
    return c
  }))
  const served = conns.filter((c) => c.received.length > 0)
  for (const c of conns) if (c.received.length === 0) c.destroy()
  return { served, refused: n - served.length }
}

/** The honest client: one keep-alive connection asking in a loop until `done()`; its worst reply time. */
async function honestWhile (done: () => boolean): Promise<{ answered: number, worstMs: number }> {
  const c = await open('127.0.0.200')
  let answered = 0
  let worstMs = 0
  while (!done() || answered === 0) {
    const t = Date.now()
    await c.write(SCRAPE)
    assert.equal((await c.readResponse()).status, 200)
    worstMs = Math.max(worstMs, Date.now() - t)
    answered++
    await c.waitFor(done, 'the attack to end', 20).catch(() => {})
  }
  c.destroy()
  return { answered, worstMs }
}

/**
 * /metrics from an address of its own; retried while the server has not yet seen the attackers'
 * connections go. Each refused try is itself reset over the overall cap and counted as such, so
 * the number of tries refused comes back with the text.
 */
async function metrics (): Promise<{ text: string, refused: number }> {
  for (let i = 0; i < 50; i++) {
    const r = (await sendRaw(ep, 'GET /metrics HTTP/1.0\r\n\r\n', { localAddress: '127.0.0.201' }).catch(() => Buffer.alloc(0))).toString('latin1')
    if (r !== '') return { text: r, refused: i }
  }
  throw new Error('/metrics refused 50 times')
}

function metric (text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  assert.ok(line !== undefined, `${series} in /metrics`)
  return Number(line.slice(series.length + 1))
}

test('connection floods: one address gets its cap, many addresses the overall cap; an honest client is served throughout', async (t) => {
  let attacking = true
  const honest = honestWhile(() => !attacking)
  const one = await flood('127.0.0.1', 400)
  assert.equal(one.served.length, PER_ADDRESS, 'one address: exactly its cap admitted')
  assert.equal(one.refused, 400 - PER_ADDRESS)
  // Ten more addresses at their cap each: the overall cap (300, the honest client and the 50 above included) stops them.
  const many = await Promise.all(Array.from({ length: 10 }, (_, i) => flood(`127.0.1.${i + 1}`, PER_ADDRESS)))
  const admitted = many.reduce((n, f) => n + f.served.length, 0)
  assert.equal(admitted, MAX - PER_ADDRESS - 1, 'the overall cap is exact')
  for (const f of [one, ...many]) for (const c of f.served) { await c.write(SCRAPE); assert.equal((await c.readResponse()).status, 200) }
  attacking = false
  const h = await honest
  assert.ok(h.answered > 0)
  t.diagnostic(`attackers: 400 from one address (${one.served.length} admitted), 500 from ten (${admitted} admitted); honest client: ${h.answered} replies, worst ${h.worstMs} ms`)
  for (const f of [one, ...many]) for (const c of f.served) c.destroy()
  const m = await metrics()
  if (m.refused > 0) t.diagnostic(`/metrics was refused ${m.refused} times before the floods' connections were seen to close`)
  assert.equal(metric(m.text, 'otd_tcp_refused_total{reason="per_address"}'), 400 - PER_ADDRESS)
  assert.equal(metric(m.text, 'otd_tcp_refused_total{reason="max_connections"}'), 10 * PER_ADDRESS - admitted + m.refused,
    `the floods' refusals, plus ${m.refused} /metrics tries made before the server saw the floods' connections close`)
})

test('slowloris trickles and silent connections are closed by their deadlines; an honest client is served meanwhile', async (t) => {
  const t0 = Date.now()
  const slow = await Promise.all(Array.from({ length: 40 }, () => open('127.0.2.1')))
  const silent = await Promise.all(Array.from({ length: 40 }, () => open('127.0.2.2')))
  const request = `GET /announce?info_hash=${'%01'.repeat(20)}&port=1${'&x=1'.repeat(100)} HTTP/1.1\r\n\r\n`
  let i = 0
  const trickle = setInterval(() => {
    for (const c of slow) if (!c.closed && !c.ended) void c.write(request[i % request.length]!)
    i++
  }, 100)
  const all = [...slow, ...silent]
  const honest = honestWhile(() => all.every((c) => c.closed || c.ended))
  await Promise.all(all.map((c) => c.waitClosed(8000)))
  clearInterval(trickle)
  const elapsed = Date.now() - t0
  const h = await honest
  for (const c of all) assert.equal(c.received.length, 0, 'no attacker got a byte')
  assert.ok(i > 15, `the trickle kept going (${i} bytes each)`)
  assert.ok(elapsed >= 1900 && elapsed < 6000, `all closed within ${elapsed} ms (deadlines 2 s, idle 5 s)`)
  assert.ok(h.answered > 10, `honest client answered ${h.answered} times, worst ${h.worstMs} ms`)
  t.diagnostic(`40 trickling + 40 silent connections all closed after ${elapsed} ms (${i} trickle rounds); honest client: ${h.answered} replies, worst ${h.worstMs} ms`)
  const m = (await metrics()).text
  assert.equal(metric(m, 'otd_http_closed_total{reason="request_timeout"}'), 40)
  assert.equal(metric(m, 'otd_http_closed_total{reason="first_byte_timeout"}'), 40)
})
