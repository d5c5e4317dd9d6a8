// settings.ts: the `ip[:port]` forms of reference §2.2, and --print-config as a faithful
// serialisation: whatever flags and keys produced a configuration, reading its printed form back
// gives the same configuration (listener order and repeats, permission mixes, restrictions).

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { parseArgs } from '../../src/cli-args.js'
import { MAY_ADMIN, MAY_FULLSCRAPE, MAY_PROXY, MAY_STAT } from '../../src/config.js'
import { applyConfigText, formatSettings, newSettings, parseHostPort, type Settings } from '../../src/settings.js'

const dir = mkdtempSync(join(tmpdir(), 'otd-settings-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function conf(text: string): string {
  const p = join(dir, `c${n++}.conf`)
  writeFileSync(p, text)
  return p
}

function run(argv: string[]): Settings {
  const r = parseArgs(argv)
  if (r.kind !== 'run') assert.fail(`${argv.join(' ')}: ${JSON.stringify(r)}`)
  return r.settings
}

describe('ip[:port] (reference §2.2)', () => {
  for (const [text, want] of [
    ['1.2.3.4', { host: '1.2.3.4', port: 6969 }],
    ['1.2.3.4:80', { host: '1.2.3.4', port: 80 }],
    ['[::1]', { host: '::1', port: 6969 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    ['::1', { host: '::1', port: 6969 }],
    ['[2001:db8::7]:0', { host: '2001:db8::7', port: 0 }],
    ['0.0.0.0:65535', { host: '0.0.0.0', port: 65535 }],
  ] as const) {
    test(`${text}`, () => assert.deepEqual(parseHostPort(text, 6969), want))
  }
  for (const bad of ['1.2.3.4:65536', '1.2.3.4:', '1.2.3.4:x', '[::1', '[::1]80', 'localhost', '1.2.3', '::ffff:1.2.3.4', '']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseHostPort(bad, 6969), null))
  }
})

describe('config text', () => {
  test('leading/trailing whitespace and CRLF are trimmed; # lines and blank lines skipped', () => {
    const s = newSettings()
    assert.equal(applyConfigText(s, '# c\r\n\r\n  tracker.interval\t900  \r\n\ttracker.numwant 7\r\n', 'x.conf'), null)
    assert.equal(s.tracker.announceIntervalSeconds, 900)
    assert.equal(s.tracker.numwantDefault, 7)
  })

  test('the first error stops and names file:line and the key', () => {
    const s = newSettings()
    assert.equal(applyConfigText(s, 'tracker.numwant 7\nbogus.key 1\ntracker.interval x\n', '/etc/otd.conf'),
      '/etc/otd.conf:2: bogus.key: unknown key "bogus.key"')
  })

  test('a key that is a prototype property name is unknown, not a crash', () => {
    for (const k of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.match(applyConfigText(newSettings(), `${k} 1\n`, 'f') ?? '', /unknown key/, k)
    }
  })
})

describe('--print-config reads back to the same configuration', () => {
  const cases: Array<[string, string[]]> = [
    ['defaults', []],
    ['listeners interleaved across addresses keep their order', ['-i', '127.0.0.1', '-p', '80', '-i', '::1', '-p', '81', '-P', '81', '-i', '10.0.0.1', '-P', '82']],
    ['UDP before TCP on the same address', ['-i', '127.0.0.1', '-P', '80', '-P', '81', '-p', '81', '-p', '80']],
    ['a listener given twice', ['-i', '127.0.0.1', '-p', '7000', '-P', '7000', '-P', '7000']],
    ['-A, -u, -d, -r, -w, -b, -l, --statefile, --log-level', ['-A', '10.0.0.0/8', '-u', 'daemon', '-d', '/srv/otd', '-r', 'https://e.org/', '-w', 'w', '-b', 'b',
      '-l', 'd1', '-l', 'd2', '--statefile', '/var/lib/otd/state', '--log-level', 'debug']],
    ['-s with port 0', ['-i', '127.0.0.1', '-s', '0']],
  ]
  for (const [name, argv] of cases) {
    test(name, () => {
      const a = run(argv)
      const b = run(['-f', conf(formatSettings(a))])
      assert.deepEqual(b.tracker, a.tracker)
      assert.deepEqual([b.rootdir, b.user, b.logLevel, b.loadStateDumps], [a.rootdir, a.user, a.logLevel, a.loadStateDumps])
      assert.equal(formatSettings(b).split('\n').slice(1).join('\n'), formatSettings(a).split('\n').slice(1).join('\n'))
    })
  }

  test('mixed permissions on one network, and stats restriction switched back off', () => {
    const a = run(['-f', conf([
      'access.stats 10.0.0.0/8', 'access.proxy 10.0.0.0/8', 'access.admin ::1', 'access.fullscrape ::1', 'access.proxy 192.0.2.1',
      'livesync.cluster.node_ip 192.0.2.1', 'access.stats_restricted no', 'access.bless 127.0.0.1', 'access.proxy 127.0.0.1', '',
    ].join('\n'))])
    assert.deepEqual(a.tracker.blessed.slice(0, 2), [
      { net: '10.0.0.0/8', perms: MAY_STAT | MAY_PROXY },
      { net: '::1', perms: MAY_ADMIN | MAY_STAT | MAY_FULLSCRAPE },
    ])
    assert.equal(a.tracker.statsRestricted, false)
    const b = run(['-f', conf(formatSettings(a))])
    assert.deepEqual(b.tracker, a.tracker)
  })
})
