// Network edges through real sockets: the `-r` redirect (reference §3.9), X-Forwarded-For from
// trusted proxies only (§3.10, checklist §13.9 item 67), and BEP 24 `external ip`.
// The address an announce is recorded under is checked the way a client sees it: in the peer
// list another client receives.

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseArgs } from '../../src/cli-args.js'
import { asDict, asList, decodeStrict, getBytes } from '../helpers/bencode-strict.js'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { exchangeFrom } from '../helpers/http-from.js'
import { REPLY_404, exchange, header } from '../helpers/http-raw.js'
import type { Endpoint, RawResponse } from '../helpers/http-raw.js'
import { cleanup, startOtd, tempDir, writeWorldFile } from '../helpers/otd-child.js'
import { announce, announceTarget, keys, parseAnnounce, testHash } from '../helpers/tracker-client.js'
import type { AnnounceResult } from '../helpers/tracker-client.js'

let hashNo = 67000
const fresh = (): Buffer => testHash(hashNo++)

const URL_ = 'https://example.org/tracker?from=otd'

function redirect302(url: string): string {
  return `HTTP/1.0 302 Found\r\nContent-Length: 0\r\nLocation: ${url}\r\n\r\n`
}

async function get(ep: Endpoint, target: string): Promise<RawResponse> {
  return exchange(ep, `GET ${target} HTTP/1.0\r\n\r\n`)
}

describe('-r / tracker.redirect_url (reference §3.9)', () => {
  let f: Fixture
  before(async () => {
    f = await startTracker({ redirectUrl: URL_ })
  })
  after(async () => {
    await f?.close()
  })

  test('GET / and GET // answer 302 with Location and Content-Length 0, over IPv4 and IPv6', async () => {
    for (const ep of [f.http4, f.http6]) {
      for (const target of ['/', '//']) {
        const res = await get(ep, target)
        assert.equal(res.status, 302, target)
        assert.equal(header(res, 'Location'), URL_)
        assert.equal(res.raw.toString('latin1'), redirect302(URL_))
      }
    }
  })

  test('GET /?x and GET /index.html are 404', async () => {
    for (const target of ['/?x', '/?', '/index.html']) {
      const res = await get(f.http4, target)
      assert.equal(res.raw.toString('latin1'), REPLY_404, target)
    }
  })

  test('without a redirect URL, GET / is 404', async () => {
    const g = await startTracker()
    try {
      assert.equal((await get(g.http4, '/')).raw.toString('latin1'), REPLY_404)
    } finally {
      await g.close()
    }
  })

  test('the real command: -r URL', async () => {
    const otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-r', URL_])
    try {
      const ep = otd.http[0] as Endpoint
      const res = await get(ep, '/')
      assert.equal(res.raw.toString('latin1'), redirect302(URL_))
      assert.equal((await get(ep, '/?x')).status, 404)
    } finally {
      await otd.proc.stop()
    }
  })
})

describe('X-Forwarded-For (reference §3.10, checklist 67)', () => {
  let f: Fixture
  let dir: string

  before(async () => {
    // access.proxy with a CIDR net (127.0.0.2 and 127.0.0.3) in a config file, and -A, as an operator writes them.
    dir = tempDir('otd-xff-')
    const r = parseArgs(['-f', writeWorldFile(dir, 'otd.conf', 'access.proxy 127.0.0.2/31\n'), '-A', '127.0.0.10'])
    if (r.kind !== 'run') throw new Error(JSON.stringify(r))
    f = await startTracker({ blessed: r.settings.tracker.blessed })
  })
  after(async () => {
    await f?.close()
    cleanup(dir)
  })

  /** Announces `hash` from `from` with the given X-Forwarded-For header line(s) and returns what an observer then sees. */
  async function viaProxy(from: string, headerLines: string[], port: number): Promise<{ self: AnnounceResult; seen: string[]; seen6: string[] }> {
    const hash = fresh()
    const target = announceTarget({ infoHash: hash, port, left: 1000, numwant: 0 })
    const res = await exchangeFrom(f.http4, from, `GET ${target} HTTP/1.0\r\n${headerLines.map((l) => l + '\r\n').join('')}\r\n`)
    const self = parseAnnounce(res)
    const obs = await announce(f.http4, { infoHash: hash, port: 1, left: 1000 })
    return { self, seen: keys(obs.peers), seen6: keys(obs.peers6) }
  }

  test('from a trusted proxy: the forwarded address is recorded', async () => {
    const { seen, seen6 } = await viaProxy('127.0.0.2', ['X-Forwarded-For: 10.1.2.3'], 6001)
    assert.deepEqual([seen, seen6], [['10.1.2.3:6001'], []])
  })

  test('from another address of the trusted CIDR net', async () => {
    const { seen } = await viaProxy('127.0.0.3', ['X-Forwarded-For: 10.1.2.4'], 6002)
    assert.deepEqual(seen, ['10.1.2.4:6002'])
  })

  test('from an address blessed with -A (every permission, proxy included)', async () => {
    const { seen } = await viaProxy('127.0.0.10', ['X-Forwarded-For: 10.1.2.10'], 6010)
    assert.deepEqual(seen, ['10.1.2.10:6010'])
  })

  test('from an unblessed address the header is ignored', async () => {
    for (const from of ['127.0.0.4', '127.0.0.1']) {
      const { seen } = await viaProxy(from, ['X-Forwarded-For: 10.1.2.5'], 6003)
      assert.deepEqual(seen, [`${from}:6003`])
    }
  })

  test('a list: the first address is used', async () => {
    const { seen } = await viaProxy('127.0.0.2', ['X-Forwarded-For: 10.9.9.9, 10.8.8.8'], 6004)
    assert.deepEqual(seen, ['10.9.9.9:6004'])
    const { seen: seen2 } = await viaProxy('127.0.0.2', ['X-Forwarded-For: 10.9.9.8,10.8.8.8'], 6005)
    assert.deepEqual(seen2, ['10.9.9.8:6005'])
  })

  test('an address with a port: the address is used (v4:port and [v6]:port)', async () => {
    const { seen } = await viaProxy('127.0.0.2', ['X-Forwarded-For: 10.1.2.3:8080'], 6010)
    assert.deepEqual(seen, ['10.1.2.3:6010'])
    const { seen6 } = await viaProxy('127.0.0.2', ['X-Forwarded-For: [2001:db8::18]:8080, 10.8.8.8'], 6011)
    assert.deepEqual(seen6, ['[2001:db8::18]:6011'])
  })

  test('garbage: the proxy\'s own address is used', async () => {
    for (const value of ['garbage', '', '10.1.2', '999.1.2.3']) {
      const { seen } = await viaProxy('127.0.0.2', [`X-Forwarded-For: ${value}`], 6006)
      assert.deepEqual(seen, ['127.0.0.2:6006'], JSON.stringify(value))
    }
  })

  test('the header name is case-insensitive, blanks before the value are skipped, the first header counts', async () => {
    const { seen } = await viaProxy('127.0.0.2', ['x-FORWARDED-for:\t  10.7.7.7', 'X-Forwarded-For: 10.6.6.6'], 6007)
    assert.deepEqual(seen, ['10.7.7.7:6007'])
  })

  test('an IPv6 address behind an IPv4 proxy becomes an IPv6 peer', async () => {
    const { seen, seen6 } = await viaProxy('127.0.0.2', ['X-Forwarded-For: 2001:db8::17'], 6008)
    assert.deepEqual([seen, seen6], [[], ['[2001:db8::17]:6008']])
  })

  test('an IPv4 address behind an IPv6 proxy becomes an IPv4 peer', async () => {
    const g = await startTracker({ blessed: [{ net: '::1', perms: 2 }] })
    try {
      const hash = fresh()
      const target = announceTarget({ infoHash: hash, port: 6009, left: 1000, numwant: 0 })
      parseAnnounce(await exchange(g.http6, `GET ${target} HTTP/1.0\r\nX-Forwarded-For: 10.5.5.5\r\n\r\n`))
      const obs = await announce(g.http6, { infoHash: hash, port: 1 })
      assert.deepEqual([keys(obs.peers), keys(obs.peers6)], [['10.5.5.5:6009'], []])
    } finally {
      await g.close()
    }
  })

  test('a stopped event through the proxy removes the forwarded peer', async () => {
    const hash = fresh()
    const send = (event?: string): Promise<RawResponse> =>
      exchangeFrom(f.http4, '127.0.0.2', `GET ${announceTarget({ infoHash: hash, port: 6011, left: 1000, numwant: 0, ...(event ? { event } : {}) })} HTTP/1.0\r\nX-Forwarded-For: 10.4.4.4\r\n\r\n`)
    parseAnnounce(await send())
    assert.deepEqual(keys((await announce(f.http4, { infoHash: hash, port: 1 })).peers), ['10.4.4.4:6011'])
    await send('stopped')
    assert.deepEqual(keys((await announce(f.http4, { infoHash: hash, port: 2 })).peers), ['127.0.0.1:1'])
  })
})

describe('BEP 24 external ip (tracker.external_ip)', () => {
  let on: Fixture
  let off: Fixture
  before(async () => {
    const r = parseArgs(['-f', '/dev/null', '-A', '127.0.0.2'])
    if (r.kind !== 'run') throw new Error(JSON.stringify(r))
    on = await startTracker({ externalIp: true, blessed: r.settings.tracker.blessed })
    off = await startTracker()
  })
  after(async () => {
    await Promise.all([on?.close(), off?.close()])
  })

  test('IPv4 client: 4 bytes, its own address', async () => {
    const r = await announce(on.http4, { infoHash: fresh(), port: 6101 })
    assert.deepEqual(getBytes(r.dict, 'external ip'), Buffer.from([127, 0, 0, 1]))
    const r2 = parseAnnounce(await exchangeFrom(on.http4, '127.0.0.9', `GET ${announceTarget({ infoHash: fresh(), port: 6102, left: 1 })} HTTP/1.0\r\n\r\n`))
    assert.deepEqual(getBytes(r2.dict, 'external ip'), Buffer.from([127, 0, 0, 9]))
  })

  test('IPv6 client: 16 bytes', async () => {
    const r = await announce(on.http6, { infoHash: fresh(), port: 6103 })
    assert.deepEqual(getBytes(r.dict, 'external ip'), Buffer.from('00000000000000000000000000000001', 'hex'))
  })

  test('behind a trusted proxy: the forwarded address', async () => {
    const target = announceTarget({ infoHash: fresh(), port: 6104, left: 1 })
    const r = parseAnnounce(await exchangeFrom(on.http4, '127.0.0.2', `GET ${target} HTTP/1.0\r\nX-Forwarded-For: 10.3.3.3\r\n\r\n`))
    assert.deepEqual(getBytes(r.dict, 'external ip'), Buffer.from([10, 3, 3, 3]))
  })

  test('in the compact=0 dictionary model too', async () => {
    const res = await exchange(on.http4, `GET ${announceTarget({ infoHash: fresh(), port: 6105, left: 1, extra: [['compact', 0]] })} HTTP/1.0\r\n\r\n`)
    const d = asDict(decodeStrict(res.body), 'announce')
    assert.deepEqual(getBytes(d, 'external ip'), Buffer.from([127, 0, 0, 1]))
    asList(d.get('peers'), 'peers')
  })

  test('off by default: no external ip key', async () => {
    const r = await announce(off.http4, { infoHash: fresh(), port: 6106 })
    assert.equal(r.dict.has('external ip'), false, r.res.body.toString('latin1'))
  })
})
