// The real `otd` command: a -f config file with every opentracker key the issue lists (each one
// checked by its effect on the running tracker), config errors (file:line, exit 1), --print-config
// round trip, -v/-h, unknown options, and bind failures (exit 111, reference §2.1).

import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { lstatSync, readFileSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { VERSION } from '../../src/version.js'
import { asDict, decodeStrict, getBytes, getInt } from '../helpers/bencode-strict.js'
import { exchangeFrom } from '../helpers/http-from.js'
import { exchange } from '../helpers/http-raw.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { cleanup, runOtd, startOtd, tempDir, writeWorldFile } from '../helpers/otd-child.js'
import type { RunningOtd } from '../helpers/otd-child.js'
import { announceTarget, keys, parseAnnounce, testHash } from '../helpers/tracker-client.js'
import { UdpClient } from '../helpers/udp-raw.js'

const DENIED_BODY = 'd14:failure reason63:Requested download is not authorized for use with this tracker.e'
const IS_ROOT = process.getuid?.() === 0

let hashNo = 68000
const fresh = (): Buffer => testHash(hashNo++)
const hex = (h: Buffer): string => h.toString('hex')

const dirs: string[] = []
after(() => {
  for (const d of dirs) cleanup(d)
})
function dir(): string {
  const d = tempDir('otd-cli-')
  dirs.push(d)
  return d
}

describe('-f with every opentracker key (reference §2.2)', () => {
  let otd: RunningOtd
  let root: string
  let conf: string
  const allowed = fresh()
  const both = fresh()
  const unlisted = fresh()

  before(async () => {
    root = dir()
    writeWorldFile(root, 'white', `${hex(allowed)}\n${hex(both)}\n`)
    writeWorldFile(root, 'black', `${hex(both)}\n`)
    conf = writeWorldFile(root, 'otd.conf', [
      '# every key opentracker knows that applies to otd, plus some of otd\'s own',
      '',
      '   listen.tcp_udp 127.0.0.1:0   ',
      'listen.tcp [::1]:0',
      'listen.udp [::1]:0',
      'listen.udp.workers 4',
      `tracker.rootdir ${root}`,
      'tracker.user nobody',
      'tracker.redirect_url https://example.org/tracker',
      'access.whitelist white',
      'access.blacklist black',
      'access.fifo_add add.fifo',
      `access.fifo_delete ${join(root, 'delete.fifo')}`,
      'access.stats 127.0.0.3',
      'access.stats_path secret-stats',
      'access.proxy 127.0.0.2',
      'livesync.cluster.listen 127.0.0.1:0', // port 0: no fixed port in tests
      'livesync.cluster.node_ip 127.0.0.9',
      'batchsync.cluster.admin_ip 127.0.0.10',
      'tracker.interval 900',
      'tracker.interval_jitter 0',
      'tracker.external_ip yes',
      'log.level info',
      '',
    ].join('\n'))
    // Started elsewhere: relative list and FIFO paths must resolve in tracker.rootdir.
    otd = await startOtd(['-f', conf], { cwd: dir() })
  })
  after(async () => {
    await otd?.proc.stop()
  })

  function ep(list: Endpoint[], family: string): Endpoint {
    const e = list.find((x) => x.family === family)
    assert.ok(e, `no ${family} listener in ${JSON.stringify(list)}`)
    return e
  }

  test('listen.tcp_udp, listen.tcp and listen.udp bind what they say', () => {
    assert.deepEqual(otd.http.map((e) => e.address), ['127.0.0.1', '::1'])
    assert.deepEqual(otd.udp.map((e) => e.address), ['127.0.0.1', '::1'])
    assert.ok([...otd.http, ...otd.udp].every((e) => e.port > 0))
  })

  test('listen.udp.workers is accepted with a warning; livesync.cluster.listen starts live sync', () => {
    const warnings = otd.proc.logs.filter((l) => l.level === 40).map((l) => l.msg)
    assert.ok(warnings.some((m) => /listen\.udp\.workers has no effect/.test(m)), JSON.stringify(warnings))
    const infos = otd.proc.logs.filter((l) => l.level === 30).map((l) => l.msg)
    assert.ok(infos.some((m) => /^live sync: multicast 0\.0\.0\.0:\d+, group 224\.0\.23\.5/.test(m)), JSON.stringify(infos))
  })

  test('tracker.rootdir: the working directory', { skip: process.platform !== 'linux' }, () => {
    assert.equal(readlinkSync(`/proc/${otd.proc.pid}/cwd`), root)
  })

  test('tracker.user: runs as nobody', { skip: !IS_ROOT || process.platform !== 'linux' }, () => {
    const status = readFileSync(`/proc/${otd.proc.pid}/status`, 'latin1')
    assert.match(status, /^Uid:\t65534\t65534\t65534\t65534$/m)
  })

  test('tracker.redirect_url: GET / redirects', async () => {
    const res = await exchange(ep(otd.http, 'IPv4'), 'GET / HTTP/1.0\r\n\r\n')
    assert.equal(res.status, 302)
    assert.equal(res.headers.find(([n]) => n === 'Location')?.[1], 'https://example.org/tracker')
  })

  test('access.whitelist + access.blacklist (relative to the root dir): deny wins; tracker.interval/_jitter; tracker.external_ip', async () => {
    const http4 = ep(otd.http, 'IPv4')
    const res = await exchange(http4, `GET ${announceTarget({ infoHash: allowed, port: 6201, left: 1 })} HTTP/1.0\r\n\r\n`)
    const d = asDict(decodeStrict(res.body), 'announce')
    assert.equal(d.has('failure reason'), false, res.body.toString('latin1'))
    assert.equal(getInt(d, 'interval'), 900, 'interval 900, jitter 0')
    assert.equal(getInt(d, 'min interval'), 450)
    assert.deepEqual(getBytes(d, 'external ip'), Buffer.from([127, 0, 0, 1]))
    for (const h of [both, unlisted]) {
      const r = await exchange(http4, `GET ${announceTarget({ infoHash: h, port: 6202, left: 1 })} HTTP/1.0\r\n\r\n`)
      assert.equal(r.body.toString('latin1'), DENIED_BODY)
    }
  })

  test('listen.udp on ::1 answers announces', async () => {
    const c = await UdpClient.open(ep(otd.udp, 'IPv6'))
    try {
      const r = await c.announce({ infoHash: allowed, port: 6203 })
      assert.equal(r.interval, 900)
    } finally {
      c.close()
    }
  })

  test('access.fifo_add (relative) and access.fifo_delete: created as FIFOs', () => {
    assert.ok(lstatSync(join(root, 'add.fifo')).isFIFO())
    assert.ok(lstatSync(join(root, 'delete.fifo')).isFIFO())
  })

  test('access.stats + access.stats_path: stats at /secret-stats, for 127.0.0.3 only', async () => {
    const http4 = ep(otd.http, 'IPv4')
    const ok = await exchangeFrom(http4, '127.0.0.3', 'GET /secret-stats?mode=version HTTP/1.0\r\n\r\n')
    assert.equal(ok.status, 200)
    assert.equal((await exchangeFrom(http4, '127.0.0.1', 'GET /secret-stats?mode=version HTTP/1.0\r\n\r\n')).status, 403)
    assert.equal((await exchangeFrom(http4, '127.0.0.3', 'GET /stats?mode=version HTTP/1.0\r\n\r\n')).status, 404)
  })

  test('access.proxy: X-Forwarded-For from 127.0.0.2 is honoured, from 127.0.0.4 not', async () => {
    const http4 = ep(otd.http, 'IPv4')
    const h = allowed
    const from = async (src: string, xff: string, port: number): Promise<void> => {
      parseAnnounceLoose(await exchangeFrom(http4, src, `GET ${announceTarget({ infoHash: h, port, left: 1, numwant: 0 })} HTTP/1.0\r\nX-Forwarded-For: ${xff}\r\n\r\n`))
    }
    await from('127.0.0.2', '10.1.2.3', 6204)
    await from('127.0.0.4', '10.1.2.4', 6205)
    const res = await exchange(http4, `GET ${announceTarget({ infoHash: h, port: 1, left: 1, numwant: 50 })} HTTP/1.0\r\n\r\n`)
    const peers = keys(parseAnnounceLoose(res).peers)
    assert.ok(peers.includes('10.1.2.3:6204'), JSON.stringify(peers))
    assert.ok(peers.includes('127.0.0.4:6205'), JSON.stringify(peers))
    assert.ok(!peers.includes('10.1.2.4:6205'), JSON.stringify(peers))
  })

  test('batchsync.cluster.admin_ip (otd): /sync is refused to others, served to it', async () => {
    const http4 = ep(otd.http, 'IPv4')
    assert.equal((await exchangeFrom(http4, '127.0.0.1', 'GET /sync HTTP/1.0\r\n\r\n')).status, 403)
    const res = await exchangeFrom(http4, '127.0.0.10', 'GET /sync HTTP/1.0\r\n\r\n')
    assert.equal(res.status, 200)
    assert.match(res.body.toString('latin1'), /^d4:syncd/)
  })
})

/** parseAnnounce without its interval-range check (this tracker is configured with 900 s). */
function parseAnnounceLoose(res: Parameters<typeof parseAnnounce>[0]): { peers: Array<{ ip: string; port: number }> } {
  const d = asDict(decodeStrict(res.body), 'announce')
  assert.equal(d.has('failure reason'), false, res.body.toString('latin1'))
  const raw = d.get('peers')
  const peers: Array<{ ip: string; port: number }> = []
  if (Buffer.isBuffer(raw)) {
    for (let o = 0; o + 6 <= raw.length; o += 6) peers.push({ ip: [...raw.subarray(o, o + 4)].join('.'), port: raw.readUInt16BE(o + 4) })
  }
  return { peers }
}

describe('configuration errors are fatal (exit 1) and name the file and line', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown key', 'listen.tcp 127.0.0.1:0\n# fine\ntracker.intervall 900\n', /:3: tracker\.intervall: unknown key "tracker\.intervall"/],
    ['a bad port', 'listen.tcp 127.0.0.1:99999\n', /:1: listen\.tcp: ip\[:port\] is required/],
    ['a bad address', '\n\nlisten.udp 1.2.3\n', /:3: listen\.udp: /],
    ['a bad CIDR', 'access.proxy 10.0.0.0/33\n', /:1: access\.proxy: an IPv4 or IPv6 address, optionally with \/bits/],
    ['a bad number', 'tracker.interval soon\n', /:1: tracker\.interval: a whole number of seconds/],
    ['a bad switch', 'tracker.external_ip maybe\n', /:1: tracker\.external_ip: yes or no is required/],
    ['a missing value', 'listen.tcp 127.0.0.1:0\naccess.whitelist\n', /:2: a value is missing/],
    ['a second live sync address', 'livesync.cluster.listen 10.0.0.1\nlivesync.cluster.listen 10.0.0.2\n', /:2: livesync\.cluster\.listen: .*only once/],
    ['an inline comment (not supported, as in opentracker)', 'tracker.interval 900 # seconds\n', /:1: tracker\.interval: /],
  ]
  for (const [name, text, re] of cases) {
    test(name, async () => {
      const d = dir()
      const conf = writeWorldFile(d, 'bad.conf', text)
      const r = await runOtd(['-i', '127.0.0.1', '-p', '0', '-f', conf])
      assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`)
      assert.ok(r.stderr.includes(`${conf}:`), `stderr names the file: ${r.stderr}`)
      assert.match(r.stderr, re)
      assert.equal(r.stdout, '', 'nothing was started (no log lines)')
    })
  }

  test('a missing config file', async () => {
    const conf = join(dir(), 'nope.conf')
    const r = await runOtd(['-f', conf])
    assert.equal(r.code, 1)
    assert.ok(r.stderr.includes(conf) && /ENOENT/.test(r.stderr), r.stderr)
  })

  test('a bad value after a good -f is still fatal (later flags are checked too)', async () => {
    const conf = writeWorldFile(dir(), 'ok.conf', 'listen.tcp 127.0.0.1:0\n')
    const r = await runOtd(['-f', conf, '-p', '70000'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /-p: not a port number/)
  })

  test('an unknown option prints the error and a hint, exit 1', async () => {
    const r = await runOtd(['-x'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /unknown option: -x/)
    assert.match(r.stderr, /otd -h/)
  })
})

describe('--print-config', () => {
  test('prints the effective configuration; read back, it prints the same', async () => {
    const d = dir()
    const conf = writeWorldFile(d, 'otd.conf', [
      'listen.tcp_udp 127.0.0.1:0', 'listen.tcp [::1]:7001', 'listen.udp ::1', 'tracker.user daemon', 'access.whitelist /etc/otd/white',
      'access.blacklist /etc/otd/black', 'access.fifo_add /run/otd/add', 'access.fifo_delete /run/otd/delete', 'access.stats 10.1.0.0/16',
      'access.stats_path s3cret', 'access.proxy 192.0.2.0/24', 'access.admin ::1', 'livesync.cluster.listen 10.0.0.1',
      'livesync.cluster.node_ip 10.0.0.0/24', 'tracker.interval 900', 'tracker.numwant 30', 'tracker.external_ip yes',
      'tracker.statefile /var/lib/otd/state', 'access.fullscrape_interval 300', 'log.level warn', '',
    ].join('\n'))
    const first = await runOtd(['-f', conf, '-A', '10.0.0.0/8', '-r', 'https://example.org/', '-d', '/var/lib/otd', '--print-config'])
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stderr, '')
    const text = first.stdout
    for (const line of ['listen.tcp_udp 127.0.0.1:0', 'listen.tcp [::1]:7001', 'listen.udp [::1]:6969', 'tracker.user daemon',
      'tracker.rootdir /var/lib/otd', 'tracker.redirect_url https://example.org/', 'access.whitelist /etc/otd/white', 'access.bless 10.0.0.0/8',
      'access.stats 10.1.0.0/16', 'access.stats_restricted yes', 'access.stats_path s3cret', 'access.proxy 192.0.2.0/24',
      'access.admin ::1', 'livesync.cluster.listen 10.0.0.1:9696', 'tracker.interval 900', 'tracker.numwant 30', 'tracker.external_ip yes',
      'tracker.statefile /var/lib/otd/state', 'access.fullscrape_interval 300', 'log.level warn', '# tracker.peer_timeout 2700']) {
      assert.ok(text.split('\n').includes(line), `missing ${JSON.stringify(line)} in:\n${text}`)
    }
    const printed = writeWorldFile(d, 'printed.conf', text)
    const second = await runOtd(['-f', printed, '--print-config'])
    assert.equal(second.code, 0, second.stderr)
    const body = (t: string): string => t.split('\n').filter((l) => !l.startsWith('# otd effective configuration')).join('\n')
    assert.equal(body(second.stdout), body(text))
  })

  test('does not bind or start anything', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    try {
      const port = (blocker.address() as net.AddressInfo).port
      const r = await runOtd(['-i', '127.0.0.1', '-p', String(port), '--print-config'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^listen\\.tcp 127\\.0\\.0\\.1:${port}$`, 'm'))
    } finally {
      blocker.close()
    }
  })
})

describe('-v and -h', () => {
  test('-v prints the version to stderr and exits 0', async () => {
    for (const flag of ['-v', '--version']) {
      const r = await runOtd([flag])
      assert.equal(r.code, 0)
      assert.equal(r.stderr, `otd ${VERSION}\n`)
      assert.equal(r.stdout, '')
    }
  })

  test('-h prints the usage with every opentracker flag to stderr and exits 0', async () => {
    for (const flag of ['-h', '--help']) {
      const r = await runOtd([flag])
      assert.equal(r.code, 0)
      assert.match(r.stderr, /^Usage: otd /)
      for (const f of ['-f', '-i', '-p', '-P', '-r', '-d', '-u', '-A', '-w', '-b', '-l', '-s', '-v', '-h', '--print-config']) {
        assert.match(r.stderr, new RegExp(`^\\s+${f}[ ,]`, 'm'), `usage lists ${f}`)
      }
      assert.equal(r.stdout, '')
    }
  })

  test('-v wins even after other flags, and nothing is bound', async () => {
    const r = await runOtd(['-i', '127.0.0.1', '-p', '0', '-v'])
    assert.equal(r.code, 0)
    assert.equal(r.stdout, '')
  })
})

describe('bind failures exit with 111 (opentracker\'s code)', () => {
  test('a TCP port in use', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    try {
      const port = (blocker.address() as net.AddressInfo).port
      const r = await runOtd(['-i', '127.0.0.1', '-p', String(port), '-P', '0'])
      assert.equal(r.code, 111, r.stderr)
      assert.match(r.stderr, new RegExp(`cannot bind tcp 127\\.0\\.0\\.1:${port}: EADDRINUSE`))
    } finally {
      blocker.close()
    }
  })

  test('a UDP port in use', async () => {
    const blocker = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => blocker.bind(0, '127.0.0.1', resolve))
    try {
      const port = blocker.address().port
      const r = await runOtd(['-i', '127.0.0.1', '-p', '0', '-P', String(port)])
      assert.equal(r.code, 111, r.stderr)
      assert.match(r.stderr, new RegExp(`cannot bind udp 127\\.0\\.0\\.1:${port}: EADDRINUSE`))
    } finally {
      blocker.close()
    }
  })

  test('an address this host does not have', async () => {
    const r = await runOtd(['-i', '192.0.2.1', '-p', '0'])
    assert.equal(r.code, 111, r.stderr)
    assert.match(r.stderr, /cannot bind tcp 192\.0\.2\.1:0: EADDRNOTAVAIL/)
  })

  test('the same port twice in one configuration', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => blocker.close(() => resolve()))
    const conf = writeWorldFile(dir(), 'twice.conf', `listen.tcp 127.0.0.1:${port}\nlisten.tcp 127.0.0.1:${port}\n`)
    const r = await runOtd(['-f', conf])
    assert.equal(r.code, 111, r.stderr)
    assert.match(r.stderr, /EADDRINUSE/)
  })
})
