import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { defaultOptions, parseOtsyncArgs, syncUrl } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'otsync-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('otsync options', () => {
  test('nodes from the config file and flags; flags win for single values', () => {
    const conf = join(dir, 'otsync.conf')
    writeFileSync(conf, '# cluster\nnode http://10.0.0.1:6969\nnode http://10.0.0.2:6969/\ninterval 60\ntimeout 3\nmetrics 127.0.0.1:9797\n')
    const r = parseOtsyncArgs(['-c', conf, '--node', 'http://10.0.0.3:6969', '-n', 'http://10.0.0.1:6969', '--interval', '10', '--json'])
    assert.equal(r.kind, 'run')
    if (r.kind !== 'run') return
    assert.deepEqual(r.options.nodes, ['http://10.0.0.1:6969', 'http://10.0.0.2:6969', 'http://10.0.0.3:6969'])
    assert.equal(r.options.intervalSeconds, 10)
    assert.equal(r.options.timeoutSeconds, 3)
    assert.deepEqual(r.options.metrics, { host: '127.0.0.1', port: 9797 })
    assert.equal(r.options.json, true)
    assert.equal(defaultOptions().intervalSeconds, 30)
  })

  test('errors are values with a clear message', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--node', 'http://a:1'], /at least two nodes/],
      [['--node', 'ftp://a', '--node', 'http://b'], /http or https/],
      [['--node', 'http://a', '--node', 'http://b', '--interval', '0'], /interval: a whole number >= 1/],
      [['--node', 'http://a', '--node', 'http://b', '--metrics', 'nope'], /host:port/],
      [['--node', 'http://a', '--node', 'http://b', '--full'], /--full goes with --once/],
      [['--bogus'], /Unknown option/],
      [['-c', join(dir, 'missing.conf')], /cannot read config file: ENOENT/]
    ]
    for (const [argv, re] of bad) {
      const r = parseOtsyncArgs(argv)
      assert.equal(r.kind, 'error', argv.join(' '))
      if (r.kind === 'error') assert.match(r.message, re)
    }
    const conf = join(dir, 'bad.conf')
    writeFileSync(conf, 'node http://a\nwhatever 1\n')
    const r = parseOtsyncArgs(['-c', conf])
    assert.ok(r.kind === 'error' && /bad\.conf:2: unknown key "whatever"/.test(r.message))
  })

  test('the /sync URL of a node', () => {
    assert.equal(syncUrl('http://10.0.0.1:6969').href, 'http://10.0.0.1:6969/sync')
    assert.equal(syncUrl('http://10.0.0.1:6969/tracker/').href, 'http://10.0.0.1:6969/tracker/sync')
    assert.equal(syncUrl('http://10.0.0.1:6969/sync').href, 'http://10.0.0.1:6969/sync')
  })
})
