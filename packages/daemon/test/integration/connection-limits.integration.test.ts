// Connection caps of the HTTP front end (http/connection-guard.ts, issue 8): over the overall or
// the per-address cap a connection is reset right after accept, without a byte of reply, while
// the connections already open keep being served. Small caps configured, real sockets, port 0.

import assert from 'node:assert/strict'
import net from 'node:net'
import { after, describe, test } from 'node:test'
import { MAY_PROXY } from '../../src/config.js'
import { createTracker, type Tracker } from '../../src/index.js'
import { renderMetrics } from '../../src/stats/metrics.js'
import { RawConnection, type Endpoint } from '../helpers/http-raw.js'

const SCRAPE = `GET /scrape?info_hash=${'%01'.repeat(20)} HTTP/1.1\r\n\r\n`

async function start (extra: Parameters<typeof createTracker>[0], hosts = ['127.0.0.1']): Promise<{ tracker: Tracker, eps: Endpoint[] }> {
  const tracker = createTracker({ http: hosts.map((host) => ({ host, port: 0 })), udp: [], ...extra })
  const bound = await tracker.listen()
  after(() => tracker.close())
  return { tracker, eps: bound.http.map((b) => ({ address: b.address, port: b.port, family: b.family })) }
}

/**
 * A connection from `localAddress` (127.0.0.2 is another loopback address on Linux), once it is
 * connected or closed: a reset right after accept can beat the client's own connect callback.
 */
async function open (ep: Endpoint, localAddress?: string): Promise<RawConnection> {
  const socket = net.connect({ host: ep.address, port: ep.port, noDelay: true, ...(localAddress !== undefined ? { localAddress } : {}) })
  const c = new RawConnection(socket)
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve)
    socket.once('close', () => resolve())
  })
  return c
}

/** One keep-alive request answered with 200 proves the server admitted and serves the connection. */
async function served (c: RawConnection): Promise<void> {
  await c.write(SCRAPE)
  const res = await c.readResponse()
  assert.equal(res.status, 200)
  assert.equal(c.closed || c.ended, false, 'kept alive')
}

/** The server closed (reset) the connection without sending anything. */
async function refused (c: RawConnection): Promise<void> {
  await c.waitClosed()
  assert.equal(c.received.length, 0, `no reply expected, got ${JSON.stringify(c.received.toString('latin1'))}`)
}

/** Opens connections until one is served: the server may not have seen a client's close yet. */
async function servedEventually (ep: Endpoint, localAddress?: string): Promise<RawConnection> {
  for (let i = 0; i < 50; i++) {
    const c = await open(ep, localAddress)
    await c.write(SCRAPE)
    await c.waitFor(() => c.received.length > 0 || c.closed || c.ended, 'a reply or a close')
    if (c.received.length > 0) return c
    c.destroy()
  }
  throw new Error('no connection admitted after 50 attempts')
}

describe('http.max_connections', () => {
  test('over the cap a new connection is closed unanswered while the open ones are still served', async () => {
    const { tracker, eps } = await start({ httpMaxConnections: 3 })
    const ep = eps[0]!
    const open3 = [await open(ep), await open(ep), await open(ep)]
    for (const c of open3) await served(c)
    const extra = await open(ep)
    await refused(extra)
    for (const c of open3) await served(c)
    assert.ok(tracker.counters.tcpRefusedMaxConnections >= 1)
    assert.equal(tracker.counters.tcpAccepts, 3)
    // A slot freed is a slot for a newcomer.
    open3[0]!.destroy()
    const newcomer = await servedEventually(ep)
    await served(open3[1]!)
    for (const c of [...open3, extra, newcomer]) c.destroy()
  })

  test('the cap counts every listener together (127.0.0.1 and ::1)', async () => {
    const { tracker, eps } = await start({ httpMaxConnections: 2 }, ['127.0.0.1', '::1'])
    const a = await open(eps[0]!)
    const b = await open(eps[1]!)
    await served(a)
    await served(b)
    const c4 = await open(eps[0]!)
    const c6 = await open(eps[1]!)
    await refused(c4)
    await refused(c6)
    await served(a)
    await served(b)
    assert.equal(tracker.counters.tcpRefusedMaxConnections, 2)
    const m = renderMetrics(tracker.stats)
    assert.match(m, /^otd_tcp_refused_total\{reason="max_connections"\} 2$/m)
    assert.match(m, /^otd_tcp_refused_total\{reason="per_address"\} 0$/m)
    for (const c of [a, b, c4, c6]) c.destroy()
  })
})

describe('http.max_connections_per_address', () => {
  test('one address over its cap is refused; another address is still admitted and served', async () => {
    const { tracker, eps } = await start({ httpMaxConnectionsPerAddress: 2, httpMaxConnections: 100 })
    const ep = eps[0]!
    const mine = [await open(ep, '127.0.0.1'), await open(ep, '127.0.0.1')]
    for (const c of mine) await served(c)
    const third = await open(ep, '127.0.0.1')
    await refused(third)
    const other = await open(ep, '127.0.0.2')
    await served(other)
    for (const c of mine) await served(c)
    assert.equal(tracker.counters.tcpRefusedPerAddress, 1)
    assert.equal(tracker.counters.tcpRefusedMaxConnections, 0)
    assert.match(renderMetrics(tracker.stats), /^otd_tcp_refused_total\{reason="per_address"\} 1$/m)
    // Closing one of the address's connections lets it open another.
    mine[0]!.destroy()
    const again = await servedEventually(ep, '127.0.0.1')
    for (const c of [...mine, third, other, again]) c.destroy()
  })

  test('IPv6 addresses count per /64 and IPv4 per address, apart from each other', async () => {
    const { tracker, eps } = await start({ httpMaxConnectionsPerAddress: 1 }, ['127.0.0.1', '::1'])
    const v4 = await open(eps[0]!)
    const v6 = await open(eps[1]!)
    await served(v4)
    await served(v6)
    const v6b = await open(eps[1]!)
    await refused(v6b)
    await served(v6)
    assert.equal(tracker.counters.tcpRefusedPerAddress, 1)
    for (const c of [v4, v6, v6b]) c.destroy()
  })

  test('an address blessed as a proxy (access.proxy) is exempt', async () => {
    const { tracker, eps } = await start({ httpMaxConnectionsPerAddress: 1, blessed: [{ net: '127.0.0.3', perms: MAY_PROXY }] })
    const ep = eps[0]!
    const proxied = [await open(ep, '127.0.0.3'), await open(ep, '127.0.0.3'), await open(ep, '127.0.0.3')]
    for (const c of proxied) await served(c)
    const plain = [await open(ep, '127.0.0.4'), await open(ep, '127.0.0.4')]
    await served(plain[0]!)
    await refused(plain[1]!)
    assert.equal(tracker.counters.tcpRefusedPerAddress, 1)
    for (const c of [...proxied, ...plain]) c.destroy()
  })
})

describe('http.max_request_bytes', () => {
  test('a head growing past the limit in many writes gets the 500 and is closed; another client is served meanwhile', async () => {
    const { tracker, eps } = await start({ httpMaxRequestBytes: 1024 })
    const ep = eps[0]!
    const honest = await open(ep)
    const big = await open(ep)
    await big.write('GET /announce?info_hash=x HTTP/1.1\r\n')
    for (let i = 0; i < 40 && !big.closed && !big.ended; i++) {
      await big.write(`X-Filler-${i}: ${'a'.repeat(40)}\r\n`)
      await served(honest)
    }
    await big.waitClosed()
    assert.match(big.received.toString('latin1'), /^HTTP\/1\.0 500 /)
    assert.equal(tracker.counters.httpHeadTooLarge, 1)
    assert.match(renderMetrics(tracker.stats), /^otd_http_closed_total\{reason="head_too_large"\} 1$/m)
    await served(honest)
    honest.destroy()
  })
})
