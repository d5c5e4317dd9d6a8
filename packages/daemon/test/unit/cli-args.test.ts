import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseArgs } from '../../src/cli-args.js'
import { MAY_ALL, MAY_PROXY, MAY_STAT } from '../../src/config.js'
import { formatSettings, type Settings } from '../../src/settings.js'

function run (argv: string[]): Settings {
  const r = parseArgs(argv)
  if (r.kind !== 'run') assert.fail(`expected run, got ${JSON.stringify(r)}`)
  return r.settings
}

function listens (s: Settings): { http: unknown, udp: unknown } {
  return { http: s.tracker.http, udp: s.tracker.udp }
}

test('no flags: TCP and UDP 6969 on :: (dual stack)', () => {
  const s = run([])
  assert.deepEqual(listens(s), { http: [{ host: '::', port: 6969 }], udp: [{ host: '::', port: 6969 }] })
  assert.equal(s.logLevel, 'info')
  assert.equal(s.user, 'nobody')
})

test('-i applies to the -p/-P that follow it, in order, like opentracker', () => {
  const s = run(['-i', '127.0.0.1', '-p', '80', '-i', '::1', '-P', '6969', '-p', '8080'])
  assert.deepEqual(listens(s), { http: [{ host: '127.0.0.1', port: 80 }, { host: '::1', port: 8080 }], udp: [{ host: '::1', port: 6969 }] })
})

test('-i alone binds both protocols on 6969 at that address', () => {
  assert.deepEqual(listens(run(['-i', '0.0.0.0'])), { http: [{ host: '0.0.0.0', port: 6969 }], udp: [{ host: '0.0.0.0', port: 6969 }] })
})

test('long forms with = and attached short values are accepted', () => {
  const s = run(['--ip=::1', '--port-udp=7000', '--log-level', 'warn', '-p8080'])
  assert.deepEqual(listens(s), { http: [{ host: '::1', port: 8080 }], udp: [{ host: '::1', port: 7000 }] })
  assert.equal(s.logLevel, 'warn')
})

test('bad input is an error with a message naming the flag', () => {
  for (const argv of [['-p', '70000'], ['-p'], ['-P', 'x'], ['-i', '1.2.3'], ['-i', 'localhost'], ['-x'], ['--log-level', 'loud'],
    ['-A', 'nonsense'], ['-A', '10.0.0.0/33'], ['-f', '/nonexistent/otd.conf'], ['-w'], ['-r', 'has space']]) {
    const r = parseArgs(argv)
    assert.equal(r.kind, 'error', argv.join(' '))
  }
  const r = parseArgs(['-p', '70000'])
  assert.ok(r.kind === 'error' && r.message.includes('-p'))
})

test('-h and -v', () => {
  assert.deepEqual(parseArgs(['-h']), { kind: 'help' })
  assert.deepEqual(parseArgs(['-v']), { kind: 'version' })
})

test('-r -d -u -w -b -l -A -s set their keys', () => {
  const s = run(['-r', 'https://example.org/', '-d', '/var/lib/otd', '-u', 'otd', '-w', 'white.txt', '-b', 'black.txt',
    '-l', 'dump.txt', '-A', '10.0.0.0/8', '-A', '::1', '-i', '127.0.0.1', '-s', '9696'])
  assert.equal(s.tracker.redirectUrl, 'https://example.org/')
  assert.equal(s.rootdir, '/var/lib/otd')
  assert.equal(s.user, 'otd')
  assert.equal(s.tracker.whitelistFile, 'white.txt')
  assert.equal(s.tracker.blacklistFile, 'black.txt')
  assert.deepEqual(s.loadStateDumps, ['dump.txt'])
  assert.deepEqual(s.tracker.blessed, [{ net: '10.0.0.0/8', perms: MAY_ALL }, { net: '::1', perms: MAY_ALL }])
  assert.deepEqual(s.tracker.livesyncListen, { host: '127.0.0.1', port: 9696 })
  assert.equal(s.tracker.statsRestricted, false)
})

function confFile (text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'otd-conf-'))
  const f = join(dir, 'otd.conf')
  writeFileSync(f, text)
  return f
}

test('-f reads opentracker keys in order with the flags around it', () => {
  const f = confFile(`# comment\n\n  listen.tcp_udp 127.0.0.1:7000\nlisten.tcp [::1]:7001\nlisten.udp ::1\n` +
    'access.stats 10.1.0.0/16\naccess.proxy 192.0.2.1\naccess.stats_path /mystats\ntracker.redirect_url https://x.example/\n' +
    'access.whitelist /etc/otd/white\ntracker.interval 900\ntracker.statefile /var/lib/otd/state\nlisten.udp.workers 4\n')
  const s = run(['-p', '6000', '-f', f, '-r', 'https://override.example/'])
  assert.deepEqual(listens(s), {
    http: [{ host: '::', port: 6000 }, { host: '127.0.0.1', port: 7000 }, { host: '::1', port: 7001 }],
    udp: [{ host: '127.0.0.1', port: 7000 }, { host: '::1', port: 6969 }]
  })
  assert.equal(s.tracker.statsPath, 'mystats')
  assert.equal(s.tracker.statsRestricted, true)
  assert.deepEqual(s.tracker.blessed, [{ net: '10.1.0.0/16', perms: MAY_STAT }, { net: '192.0.2.1', perms: MAY_PROXY }])
  assert.equal(s.tracker.redirectUrl, 'https://override.example/', 'a later flag overrides the file')
  assert.equal(s.tracker.whitelistFile, '/etc/otd/white')
  assert.equal(s.tracker.announceIntervalSeconds, 900)
  assert.equal(s.tracker.stateFile, '/var/lib/otd/state')
  assert.equal(s.notes.length, 1, 'listen.udp.workers is accepted with a note')
})

test('config errors name the file and line, and are fatal', () => {
  const cases: Array<[string, RegExp]> = [
    ['tracker.intervall 900\n', /otd\.conf:1: .*unknown key "tracker\.intervall"/],
    ['# ok\nlisten.tcp 1.2.3.4:99999\n', /otd\.conf:2: listen\.tcp: /],
    ['\n\naccess.stats 1.2.3.4/40\n', /otd\.conf:3: access\.stats: /],
    ['tracker.interval\n', /otd\.conf:1: a value is missing/],
    ['tracker.interval -5\n', /otd\.conf:1: tracker\.interval/],
    ['tracker.external_ip maybe\n', /otd\.conf:1: tracker\.external_ip: yes or no/],
    ['livesync.cluster.listen 10.0.0.1\nlivesync.cluster.listen 10.0.0.2\n', /otd\.conf:2: .*only once/]
  ]
  for (const [text, re] of cases) {
    const r = parseArgs(['-f', confFile(text)])
    assert.equal(r.kind, 'error', text)
    assert.match(r.kind === 'error' ? r.message : '', re)
  }
})

test('--print-config output is a config file that reads back to the same settings', () => {
  const f = confFile('listen.tcp_udp 127.0.0.1:7000\nlisten.tcp [::1]:7001\naccess.stats 10.1.0.0/16\naccess.admin ::1\n' +
    'access.proxy 192.0.2.0/24\ntracker.numwant 30\naccess.blacklist /b\naccess.fullscrape_interval 300\ntracker.external_ip yes\n')
  const r = parseArgs(['-f', f, '-A', '127.0.0.1', '--print-config'])
  assert.ok(r.kind === 'run' && r.printConfig)
  const text = formatSettings(r.settings)
  const again = run(['-f', confFile(text)])
  assert.deepEqual(again.tracker, r.settings.tracker)
  assert.equal(formatSettings(again).split('\n').slice(1).join('\n'), text.split('\n').slice(1).join('\n'))
})
