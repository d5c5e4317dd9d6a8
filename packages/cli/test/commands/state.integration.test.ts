import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { removeDir, startOtd, tempDir, worldFile, type RunningOtd } from '../helpers/otd.js'
import { otctl, show } from '../helpers/otctl.js'

const A = 'a1'.repeat(20)
const B = 'b2'.repeat(20)

describe('otctl state dump and restore between two running otds', () => {
  let dir: string
  let source: RunningOtd
  let target: RunningOtd

  before(async () => {
    dir = tempDir()
    ;[source, target] = await Promise.all([startOtd(['-A', '127.0.0.1']), startOtd(['-A', '127.0.0.1'])])
    for (const a of [
      ['announce', A, '--port', '7001', '--seed', '--event', 'completed'],
      ['announce', A, '--port', '7002'],
      ['announce', B, '--port', '7003', '--tracker', source.udpUrl]
    ]) {
      const r = await otctl(a, { url: source.url })
      assert.equal(r.code, 0, show(r))
    }
  })
  after(async () => {
    await Promise.all([source.stop(), target.stop()])
    removeDir(dir)
  })

  test('state dump FILE writes opentracker\'s statedump, one HEX:minute:downloaded line per torrent', async () => {
    const file = join(dir, 'otd.statedump')
    const r = await otctl(['state', 'dump', file, '--json'], { url: source.url })
    assert.equal(r.code, 0, show(r))
    assert.deepEqual({ ...r.json, bytes: 0 }, { format: 'statedump', file, bytes: 0, torrents: 2 })
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    assert.equal(lines.length, 2)
    assert.match(lines[0]!, new RegExp(`^${A.toUpperCase()}:\\d+:1$`))
    assert.match(lines[1]!, new RegExp(`^${B.toUpperCase()}:\\d+:0$`))
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary file is left behind')
  })

  test('state dump without FILE writes the dump to stdout and the summary to stderr', async () => {
    const r = await otctl(['state', 'dump'], { url: source.url })
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stdout.trim().split('\n').length, 2)
    assert.match(r.err, /dumped 2 torrents \(opentracker statedump/)
  })

  test('state dump --format otd saves the warm-restart file with its peers, checked by its trailer', async () => {
    const file = join(dir, 'otd.state')
    const r = await otctl(['state', 'dump', '--format', 'otd', file], { url: source.url })
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /wrote .*otd\.state: 2 torrents, 3 peers \(otd state file/)
    assert.equal(readFileSync(file).toString('latin1', 0, 8), 'OTDSTATE')
  })

  test('state restore loads a statedump into another otd: counts come back, peers do not', async () => {
    const file = worldFile(dir, 'copy.statedump', readFileSync(join(dir, 'otd.statedump'), 'utf8'))
    const r = await otctl(['state', 'restore', file, '--json'], { url: target.url })
    assert.equal(r.code, 0, show(r))
    assert.equal(r.json.format, 'statedump')
    assert.equal(r.json.torrents, 2)
    const scrape = await otctl(['scrape', A, B, '--json'], { url: target.url })
    assert.deepEqual(scrape.json.files, [
      { info_hash: A, seeders: 0, completed: 1, leechers: 0 },
      { info_hash: B, seeders: 0, completed: 0, leechers: 0 }
    ])
  })

  test('state restore loads an otd state file: the swarms are back with their peers', async () => {
    const r = await otctl(['state', 'restore', join(dir, 'otd.state')], { url: target.url })
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /format\s+otd-state/)
    assert.match(r.stdout, /peers\s+3/)
    const scrape = await otctl(['scrape', A, B, '--json', '--tracker', target.udpUrl], { url: target.url })
    assert.deepEqual(scrape.json.files, [
      { info_hash: A, seeders: 1, completed: 1, leechers: 1 },
      { info_hash: B, seeders: 0, completed: 0, leechers: 1 }
    ])
  })

  test('state restore from stdin (-)', async () => {
    const r = await otctl(['state', 'restore', '-', '--json'], { url: target.url, stdin: readFileSync(join(dir, 'otd.statedump'), 'utf8') })
    assert.equal(r.code, 0, show(r))
    assert.equal(r.json.existing, 2)
  })

  test('a file otd cannot read is refused (exit 2) and nothing is loaded', async () => {
    const junk = worldFile(dir, 'junk.txt', 'this is not a state file\n')
    const r = await otctl(['state', 'restore', junk], { url: target.url })
    assert.equal(r.code, 2, show(r))
    assert.match(r.err, /not a state file or statedump/)
    const missing = await otctl(['state', 'restore', join(dir, 'nope')], { url: target.url })
    assert.equal(missing.code, 2, show(missing))
    assert.match(missing.err, /cannot read .*nope: ENOENT/)
  })
})
