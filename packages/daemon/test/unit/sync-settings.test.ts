// The cluster-sync settings: livesync.* keys, their checks, and --print-config round trips.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { parseArgs } from '../../src/cli-args.js'
import { resolveOptions } from '../../src/config.js'
import { applyConfigText, formatSettings, newSettings, type Settings } from '../../src/settings.js'

const dir = mkdtempSync(join(tmpdir(), 'otd-sync-settings-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function file (text: string): string {
  const p = join(dir, `f${n++}`)
  writeFileSync(p, text)
  return p
}

function run (argv: string[]): Settings {
  const r = parseArgs(argv)
  if (r.kind !== 'run') assert.fail(`${argv.join(' ')}: ${JSON.stringify(r)}`)
  return r.settings
}

const KEY = '00112233445566778899aabbccddeeff'

describe('livesync.* keys', () => {
  test('unicast listen, peers, key, group and flush interval', () => {
    const s = newSettings()
    assert.equal(applyConfigText(s, [
      'livesync.cluster.listen 10.0.0.1', 'livesync.cluster.group 239.1.2.3', 'livesync.unicast.listen [::1]:9700',
      'livesync.unicast.peer 10.0.0.2', 'livesync.unicast.peer [2001:db8::2]:9701', `livesync.unicast.key ${KEY.toUpperCase()}`,
      'livesync.flush_interval 2', ''
    ].join('\n'), 'c'), null)
    const t = s.tracker
    assert.deepEqual(t.livesyncListen, { host: '10.0.0.1', port: 9696 })
    assert.equal(t.livesyncGroup, '239.1.2.3')
    assert.deepEqual(t.livesyncUnicastListen, { host: '::1', port: 9700 })
    assert.deepEqual(t.livesyncPeers, [{ host: '10.0.0.2', port: 9696 }, { host: '2001:db8::2', port: 9701 }])
    assert.equal(t.livesyncKey, KEY)
    assert.equal(t.livesyncFlushMs, 2000)
    assert.doesNotThrow(() => resolveOptions(t))
  })

  test('bad values are errors naming the key', () => {
    for (const [line, re] of [
      ['livesync.cluster.group 10.0.0.1', /multicast address/],
      ['livesync.unicast.peer 10.0.0.2:0', /another node/],
      ['livesync.unicast.key abc', /hex digits/],
      ['livesync.unicast.key_file /nonexistent/otd-key', /cannot read/],
      [`livesync.unicast.key_file ${file('not hex\n')}`, /must hold 32 to 128 hex digits/],
      ['livesync.flush_interval 0', /seconds >= 1/],
      ['livesync.unicast.listen 10.0.0.1\nlivesync.unicast.listen 10.0.0.2', /only once/]
    ] as const) {
      assert.match(applyConfigText(newSettings(), line + '\n', 'c') ?? '', re, line)
    }
  })

  test('unicast live sync without a key is refused at start-up', () => {
    const s = newSettings()
    assert.equal(applyConfigText(s, 'livesync.unicast.peer 10.0.0.2\n', 'c'), null)
    assert.throws(() => resolveOptions(s.tracker), /needs a shared key/)
    assert.throws(() => resolveOptions({ livesyncGroup: '8.8.8.8' }), /livesyncGroup/)
  })

  test('--print-config reads back to the same configuration; a key file is printed as its path', () => {
    const keyFile = file(`${KEY}\n`)
    for (const lines of [
      ['livesync.unicast.listen 127.0.0.1:9700', 'livesync.unicast.peer 127.0.0.2:9700', `livesync.unicast.key_file ${keyFile}`, 'livesync.flush_interval 3'],
      ['livesync.cluster.listen 10.0.0.1:9697', 'livesync.cluster.group 239.0.0.9', 'livesync.unicast.peer [::1]:9700', `livesync.unicast.key ${KEY}`]
    ]) {
      const a = run(['-f', file(lines.join('\n') + '\n')])
      const text = formatSettings(a)
      if (lines.some((l) => l.includes('key_file'))) {
        assert.match(text, new RegExp(`^livesync\\.unicast\\.key_file ${keyFile}$`, 'm'))
        assert.doesNotMatch(text, new RegExp(KEY))
      }
      const b = run(['-f', file(text)])
      assert.deepEqual(b.tracker, a.tracker)
    }
  })
})
