// Slow and silent clients (http/connection-guard.ts, issue 8): deadlines for the first byte, for
// a complete request head (slowloris: trickled bytes do not extend it) and for idle keep-alive.
// Deadlines are swept once a second, so a deadline of N s fires between N and N + 1 s (later on a
// busy machine, never earlier); the timeouts configured here are 1-2 s. Trickles are paced by a
// timer (that is the attack's shape); every wait for the server is on an event.

import assert from 'node:assert/strict'
import net from 'node:net'
import { after, test } from 'node:test'
import { createTracker, type Tracker } from '../../src/index.js'
import { renderMetrics } from '../../src/stats/metrics.js'
import { RawConnection, type Endpoint } from '../helpers/http-raw.js'

const SCRAPE = `GET /scrape?info_hash=${'%01'.repeat(20)} HTTP/1.1\r\n\r\n`

async function start (extra: Parameters<typeof createTracker>[0]): Promise<{ tracker: Tracker, ep: Endpoint }> {
  const tracker = createTracker({ http: [{ host: '127.0.0.1', port: 0 }], udp: [], ...extra })
  const b = (await tracker.listen()).http[0]!
  after(() => tracker.close())
  return { tracker, ep: { address: b.address, port: b.port, family: b.family } }
}

function open (ep: Endpoint): Promise<RawConnection> {
  return RawConnection.connect(ep)
}

async function served (c: RawConnection): Promise<void> {
  await c.write(SCRAPE)
  assert.equal((await c.readResponse()).status, 200)
}

const ended = (c: RawConnection): boolean => c.closed || c.ended

/** Writes one byte of `text` every `everyMs` until the server closes the connection or the text runs out. */
function trickle (c: RawConnection, text: string, everyMs: number): Promise<number> {
  return new Promise((resolve) => {
    let i = 0
    const timer = setInterval(() => {
      if (ended(c) || i >= text.length) { clearInterval(timer); resolve(i); return }
      void c.write(text[i++]!)
    }, everyMs)
  })
}

test('slowloris: a head trickled byte by byte is cut off by http.request_timeout while an honest client is served', async () => {
  const { tracker, ep } = await start({ httpRequestTimeoutSeconds: 1, httpIdleTimeoutSeconds: 30, httpFirstByteTimeoutSeconds: 30 })
  const honest = await open(ep)
  const slow = await open(ep)
  const t0 = Date.now()
  const sent = trickle(slow, `GET /announce?info_hash=${'%01'.repeat(20)}&port=1${'&x=1'.repeat(200)} HTTP/1.1\r\n\r\n`, 50)
  let answered = 0
  while (!ended(slow)) {
    await served(honest)
    answered++
    await honest.waitFor(() => ended(slow), 'the slow client to be closed', 50).catch(() => {})
  }
  const elapsed = Date.now() - t0
  const bytes = await sent
  await slow.waitClosed()
  assert.equal(slow.received.length, 0, 'no reply to the slow client')
  assert.ok(elapsed >= 900 && elapsed < 4000, `closed ${elapsed} ms after its first byte (deadline 1 s, swept each second)`)
  assert.ok(bytes > 5, `bytes kept arriving (${bytes})`)
  assert.ok(answered > 5, `honest client answered ${answered} times meanwhile`)
  await served(honest)
  assert.equal(tracker.counters.httpClosedRequestTimeout, 1)
  assert.equal(tracker.counters.httpClosedIdleTimeout, 0)
  assert.match(renderMetrics(tracker.stats), /^otd_http_closed_total\{reason="request_timeout"\} 1$/m)
  honest.destroy()
})

test('a keep-alive connection that completes each request in time outlives the request deadline', async () => {
  const { tracker, ep } = await start({ httpRequestTimeoutSeconds: 1, httpIdleTimeoutSeconds: 2 })
  const c = await open(ep)
  const t0 = Date.now()
  // Each request is split in two writes, so every one of them passes through the pending-head path.
  while (Date.now() - t0 < 3500) {
    await c.write(SCRAPE.slice(0, 30))
    await c.write(SCRAPE.slice(30))
    assert.equal((await c.readResponse()).status, 200)
    await c.quietFor(300)
    assert.equal(ended(c), false, `closed after ${Date.now() - t0} ms`)
  }
  assert.equal(tracker.counters.httpClosedRequestTimeout + tracker.counters.httpClosedIdleTimeout, 0)
  c.destroy()
})

test('a request head split anywhere in its terminator is answered (pending-head rescans start near its end)', async () => {
  const { ep } = await start({})
  const c = await open(ep)
  const probe = await open(ep)
  for (const term of ['\r\n\r\n', '\n\n', '\r\n\n']) {
    const req = `GET /scrape?info_hash=${'%01'.repeat(20)} HTTP/1.1${term}`
    for (let cut = req.length - term.length - 2; cut < req.length; cut++) {
      await c.write(req.slice(0, cut))
      await served(probe) // the server has read the first part before the second is sent
      await c.write(req.slice(cut))
      assert.equal((await c.readResponse()).status, 200, `cut at ${cut} of ${JSON.stringify(req)}`)
    }
  }
  c.destroy()
  probe.destroy()
})

test('a connection that never sends a byte is closed after http.first_byte_timeout, not the idle timeout', async () => {
  const { tracker, ep } = await start({ httpFirstByteTimeoutSeconds: 1, httpIdleTimeoutSeconds: 30 })
  const honest = await open(ep)
  await served(honest) // its first byte comes in time; from then on only the 30 s idle timeout applies
  const silent = await open(ep)
  const t0 = Date.now()
  await silent.waitClosed(5000)
  const elapsed = Date.now() - t0
  assert.ok(elapsed >= 900 && elapsed < 4000, `closed after ${elapsed} ms`)
  assert.equal(silent.received.length, 0)
  await served(honest)
  assert.equal(tracker.counters.httpClosedFirstByteTimeout, 1)
  honest.destroy()
})

test('an idle keep-alive connection is closed after http.idle_timeout; a busy one on the same server is not', async () => {
  const { tracker, ep } = await start({ httpIdleTimeoutSeconds: 1, httpFirstByteTimeoutSeconds: 1 })
  const idle = await open(ep)
  const busy = await open(ep)
  await served(idle)
  const t0 = Date.now()
  while (!ended(idle)) {
    await served(busy)
    await busy.waitFor(() => ended(idle), 'the idle connection to be closed', 200).catch(() => {})
  }
  const elapsed = Date.now() - t0
  assert.ok(elapsed >= 900 && elapsed < 4000, `closed ${elapsed} ms after its last reply`)
  assert.equal(idle.buffer.length, 0, 'nothing after the reply')
  await served(busy)
  assert.equal(tracker.counters.httpClosedIdleTimeout, 1)
  assert.match(renderMetrics(tracker.stats), /^otd_http_closed_total\{reason="idle_timeout"\} 1$/m)
  busy.destroy()
})

test('a client that is answered with Connection: close but keeps its end open is closed after the idle timeout', async () => {
  const { tracker, ep } = await start({ httpIdleTimeoutSeconds: 1 })
  const s = net.connect({ host: ep.address, port: ep.port, allowHalfOpen: true })
  const c = new RawConnection(s)
  await c.write(`GET /scrape?info_hash=${'%01'.repeat(20)} HTTP/1.0\r\n\r\n`)
  await c.waitFor(() => c.ended, 'the reply and the server\'s FIN')
  assert.match(c.received.toString('latin1'), /^HTTP\/1\.[01] 200 /)
  // Bytes sent now are ignored by the server (it is closing) and do not keep the connection;
  // once the server has dropped it they draw a reset.
  const t0 = Date.now()
  for (let i = 0; i < 40 && !c.closed && c.error === undefined; i++) {
    await c.write('x')
    await c.waitFor(() => c.closed || c.error !== undefined, 'a reset', 100).catch(() => {})
  }
  assert.ok(c.closed || c.error !== undefined, 'the server dropped the half-open connection')
  assert.ok(Date.now() - t0 >= 800, `dropped after ${Date.now() - t0} ms`)
  assert.equal(tracker.counters.httpClosedIdleTimeout, 1)
  c.destroy()
})

test('a client that half-closes right after its request still gets every reply, a streamed full scrape included', async () => {
  const { tracker, ep } = await start({})
  // Enough torrents for a full scrape of many chunks (over 1 MB), announced through HTTP.
  const hash = (i: number): string => '%00'.repeat(16) + [24, 16, 8, 0].map((s) => '%' + ((i >>> s) & 255).toString(16).padStart(2, '0')).join('')
  for (let batch = 0; batch < 20; batch++) {
    const reqs: string[] = []
    for (let i = batch * 1000; i < (batch + 1) * 1000; i++) {
      reqs.push(`GET /announce?info_hash=${hash(i)}&peer_id=${hash(i)}&port=${1000 + (i % 60000)}&left=0&compact=1 HTTP/1.${i % 1000 === 999 ? 0 : 1}\r\n\r\n`)
    }
    const c = await open(ep)
    await c.write(reqs.join(''))
    await c.waitClosed()
  }
  assert.equal(tracker.store.torrentCount, 20_000)
  const replies: Buffer[] = []
  for (const request of ['GET /scrape HTTP/1.1\r\n\r\n', SCRAPE.replace('HTTP/1.1', 'HTTP/1.0')]) {
    const s = net.connect({ host: ep.address, port: ep.port, allowHalfOpen: true })
    const c = new RawConnection(s)
    s.end(request) // request, then our FIN at once
    await c.waitFor(() => c.ended, 'the server to finish and close its side', 10_000)
    replies.push(c.received)
    c.destroy()
  }
  const full = replies[0]!.toString('latin1')
  assert.match(full, /^HTTP\/1\.1 200 OK\r\n/)
  assert.ok(full.endsWith('\r\n0\r\n\r\n'), `the chunked body is complete (${full.length} bytes, ends ${JSON.stringify(full.slice(-20))})`)
  assert.ok(full.length > 1_000_000)
  assert.match(replies[1]!.toString('latin1'), /^HTTP\/1\.[01] 200 OK\r\n/)
})
