// http/connection-guard.ts without sockets: caps, per-address keys, and the deadline sweep moved
// by calling sweep() (one call = one tick), plus the config keys. Integration tests with real
// sockets: integration/connection-limits and integration/slow-client.

import assert from 'node:assert/strict'
import type net from 'node:net'
import { describe, test } from 'node:test'
import { Blessings } from '../../src/access/blessings.js'
import { MAY_PROXY, MAY_STAT, resolveOptions, type TrackerOptions } from '../../src/config.js'
import { Counters } from '../../src/counters.js'
import { CONN_CLOSING, CONN_HEAD, CONN_IDLE, ConnectionGuard, type GuardedConnection } from '../../src/http/connection-guard.js'
import { applyConfigText, formatSettings, newSettings } from '../../src/settings.js'

/** Just what the guard uses of a socket; `close()` plays the socket's 'close' event. */
class FakeSocket {
  destroyed = false
  reset = false
  private onClose: (() => void) | null = null
  constructor (readonly remoteAddress: string) {}
  once (_event: 'close', f: () => void): this { this.onClose = f; return this }
  destroy (): this { this.destroyed = true; return this }
  resetAndDestroy (): this { this.reset = true; this.destroyed = true; return this }
  close (): void { this.onClose?.() }
}

function guard (o: Partial<TrackerOptions> = {}, blessings: Blessings | null = null): { g: ConnectionGuard, counters: Counters } {
  const counters = new Counters()
  const g = new ConnectionGuard(resolveOptions({ http: [], udp: [], ...o }), counters, blessings)
  return { g, counters }
}

function admit (g: ConnectionGuard, address: string): { s: FakeSocket, c: GuardedConnection | null } {
  const s = new FakeSocket(address)
  const c = g.admit(s as unknown as net.Socket)
  return { s, c }
}

describe('caps', () => {
  test('the overall cap resets the connection over it; a close frees a slot', () => {
    const { g, counters } = guard({ httpMaxConnections: 2 })
    const a = admit(g, '10.0.0.1')
    admit(g, '10.0.0.2')
    const over = admit(g, '10.0.0.3')
    assert.equal(over.c, null)
    assert.equal(over.s.reset, true)
    assert.equal(counters.tcpRefusedMaxConnections, 1)
    assert.equal(g.openConnections, 2)
    a.s.close()
    assert.notEqual(admit(g, '10.0.0.3').c, null)
    g.stop()
  })

  test('the per-address cap counts IPv4 per address, IPv4-mapped IPv6 as IPv4, IPv6 per /64', () => {
    const { g, counters } = guard({ httpMaxConnectionsPerAddress: 1 })
    assert.notEqual(admit(g, '10.0.0.1').c, null)
    assert.equal(admit(g, '::ffff:10.0.0.1').c, null)
    assert.notEqual(admit(g, '10.0.0.2').c, null)
    assert.notEqual(admit(g, '2001:db8:0:1::1').c, null)
    assert.equal(admit(g, '2001:db8:0:1:ffff::2').c, null, 'same /64')
    assert.notEqual(admit(g, '2001:db8:0:2::1').c, null, 'another /64')
    assert.equal(counters.tcpRefusedPerAddress, 2)
    g.stop()
  })

  test('only proxies are exempt from the per-address cap; the count map forgets closed addresses', () => {
    const { g } = guard({ httpMaxConnectionsPerAddress: 1 },
      new Blessings([{ net: '10.1.0.0/16', perms: MAY_PROXY }, { net: '10.2.0.1', perms: MAY_STAT }]))
    const proxied = [admit(g, '10.1.2.3'), admit(g, '10.1.2.3'), admit(g, '10.1.2.3')]
    for (const p of proxied) assert.notEqual(p.c, null)
    assert.notEqual(admit(g, '10.2.0.1').c, null)
    assert.equal(admit(g, '10.2.0.1').c, null, 'stats permission is no exemption')
    for (const p of proxied) p.s.close()
    assert.equal(g.openConnections, 1)
    g.stop()
  })
})

describe('deadline sweep', () => {
  test('a silent connection goes after http.first_byte_timeout ticks, not one earlier', () => {
    const { g, counters } = guard({ httpFirstByteTimeoutSeconds: 3, httpIdleTimeoutSeconds: 30 })
    const { s } = admit(g, '10.0.0.1')
    for (let i = 0; i < 3; i++) { g.sweep(); assert.equal(s.destroyed, false, `tick ${g.tick}`) }
    g.sweep()
    assert.equal(s.destroyed, true)
    assert.equal(counters.httpClosedFirstByteTimeout, 1)
    g.stop()
  })

  test('the first-byte deadline is never longer than the idle timeout', () => {
    const { g } = guard({ httpFirstByteTimeoutSeconds: 10, httpIdleTimeoutSeconds: 2 })
    const { s } = admit(g, '10.0.0.1')
    g.sweep(); g.sweep()
    assert.equal(s.destroyed, false)
    g.sweep()
    assert.equal(s.destroyed, true)
    g.stop()
  })

  test('a head counts from its first byte: activity does not extend it (slowloris)', () => {
    const { g, counters } = guard({ httpRequestTimeoutSeconds: 2, httpIdleTimeoutSeconds: 30 })
    const { s, c } = admit(g, '10.0.0.1')
    c!.state = CONN_HEAD
    c!.headTick = c!.lastTick = g.tick
    for (let i = 0; i < 2; i++) {
      g.sweep()
      c!.lastTick = g.tick // a byte every tick
      assert.equal(g.headExpired(c!), false)
      assert.equal(s.destroyed, false)
    }
    g.sweep()
    assert.equal(g.headExpired(c!), true)
    assert.equal(s.destroyed, true)
    assert.equal(counters.httpClosedRequestTimeout, 1)
    g.stop()
  })

  test('keep-alive and closing connections go after http.idle_timeout without a byte; bytes reset it', () => {
    const { g, counters } = guard({ httpIdleTimeoutSeconds: 2 })
    const idle = admit(g, '10.0.0.1')
    const closing = admit(g, '10.0.0.2')
    const busy = admit(g, '10.0.0.3')
    idle.c!.state = CONN_IDLE
    closing.c!.state = CONN_CLOSING
    busy.c!.state = CONN_IDLE
    for (let i = 0; i < 2; i++) { g.sweep(); busy.c!.lastTick = g.tick }
    assert.equal(idle.s.destroyed || closing.s.destroyed, false)
    g.sweep()
    assert.equal(idle.s.destroyed && closing.s.destroyed, true)
    assert.equal(busy.s.destroyed, false)
    assert.equal(counters.httpClosedIdleTimeout, 2)
    g.stop()
  })

  test('a connection destroyed otherwise (client reset, head deadline seen on data) is dropped from the sweep uncounted', () => {
    const { g, counters } = guard({ httpIdleTimeoutSeconds: 1 })
    const { s, c } = admit(g, '10.0.0.1')
    c!.state = CONN_IDLE
    s.destroy()
    for (let i = 0; i < 3; i++) g.sweep()
    assert.equal(counters.httpClosedIdleTimeout, 0)
    s.close()
    assert.equal(g.openConnections, 0)
    g.stop()
  })

  test('a taken-over connection is left alone but still counts against the caps', () => {
    const { g } = guard({ httpIdleTimeoutSeconds: 1, httpMaxConnections: 1 })
    const t = admit(g, '10.0.0.1')
    g.takeOver(t.c!)
    for (let i = 0; i < 5; i++) g.sweep()
    assert.equal(t.s.destroyed, false)
    assert.equal(admit(g, '10.0.0.2').c, null)
    t.s.close()
    assert.equal(g.openConnections, 0)
    g.stop()
  })
})

describe('config keys', () => {
  test('http.* limit keys are applied, printed back and validated', () => {
    const s = newSettings()
    assert.equal(applyConfigText(s, [
      'http.max_connections 500', 'http.max_connections_per_address 20', 'http.first_byte_timeout 4', 'http.request_timeout 6'
    ].join('\n'), 'x.conf'), null)
    assert.equal(s.tracker.httpMaxConnections, 500)
    assert.equal(s.tracker.httpMaxConnectionsPerAddress, 20)
    assert.equal(s.tracker.httpFirstByteTimeoutSeconds, 4)
    assert.equal(s.tracker.httpRequestTimeoutSeconds, 6)
    const printed = formatSettings(s)
    for (const line of ['http.max_connections 500', 'http.max_connections_per_address 20', 'http.first_byte_timeout 4', 'http.request_timeout 6']) {
      assert.ok(printed.split('\n').includes(line), line)
    }
    assert.match(applyConfigText(newSettings(), 'http.max_connections 0', 'x.conf') ?? '', /x\.conf:1: http\.max_connections/)
    assert.match(applyConfigText(newSettings(), 'http.request_timeout soon', 'x.conf') ?? '', /x\.conf:1/)
    assert.throws(() => resolveOptions({ httpMaxConnectionsPerAddress: 0 }), /httpMaxConnectionsPerAddress/)
  })
})
