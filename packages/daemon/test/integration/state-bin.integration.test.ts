// State through the real `otd` command: `-l` statedump restore (§13.9 item 68) and the warm-restart
// state file (`--statefile`): written on SIGTERM/SIGINT, loaded at start so a restarted tracker
// answers with full swarms at once; truncated or corrupt files refused with a clear log line; an
// unwritable path logged while the daemon keeps serving and the previous file stays intact.
// otd drops to nobody after binding: the files live in directories nobody may use.

import assert from 'node:assert/strict'
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { OtdProcess, tempDir } from '../helpers/ops-otd-bin.js'
import type { LogLine } from '../helpers/ops-otd-bin.js'
import { getText, parseBenFullScrape, parseOpsReply, sendRaw } from '../helpers/ops-http.js'
import { announce, keys, scrape, testHash, v4 } from '../helpers/tracker-client.js'
import { UdpClient } from '../helpers/udp-raw.js'

const dir = tempDir('otd-statebin-')
const procs: OtdProcess[] = []
after(async () => {
  await Promise.all(procs.map((p) => p.kill()))
  rmSync(dir, { recursive: true, force: true })
})

async function start (args: string[]): Promise<OtdProcess> {
  const p = await OtdProcess.start(args, { cwd: dir })
  procs.push(p)
  return p
}

const HEX = (h: Buffer): string => h.toString('hex').toUpperCase()
const isError = (l: LogLine): boolean => l.level === 50

describe('-l: opentracker statedump restore', () => {
  test('HEX:<now_min>:42 → downloaded 42; older than 24 h absent; garbage counted in the log, never a torrent; a missing file is logged', async () => {
    const now = Math.floor(Date.now() / 60_000)
    const [a, b, old] = [testHash(15001), testHash(15002), testHash(15003)]
    const dump = [
      `${HEX(a)}:${now}:42`,
      'garbage line',
      `G${HEX(b).slice(1)}:${now}:5`,
      `${HEX(b)}:${now - 60}:7`,
      `${HEX(old)}:${now - 24 * 60 - 2}:9`,
      `${HEX(testHash(15004))}${HEX(testHash(15005))}:${now}:1`,
      ''
    ].join('\n')
    const path = join(dir, 'dump.txt')
    writeFileSync(path, dump, { mode: 0o644 })
    const otd = await start(['-l', path, '-l', join(dir, 'missing.txt')])
    const line = await otd.waitForLog((l) => l.msg.startsWith(`statedump ${path}`), 'the statedump log line')
    assert.equal(line.level, 40)
    assert.equal(line.msg, `statedump ${path}: 2 torrents restored, 3 malformed line(s) ignored, 1 older than the torrent timeout`)
    assert.equal(line.rejectedLines, 3)
    const missing = await otd.waitForLog((l) => l.msg.includes('missing.txt'), 'the missing-file line')
    assert.equal(missing.level, 50)
    assert.match(missing.msg, /cannot load statedump .*missing\.txt: ENOENT/)

    const s = await scrape(otd.http, [a, b, old])
    assert.deepEqual(s.get(a.toString('latin1')), { complete: 0, downloaded: 42, incomplete: 0 })
    assert.deepEqual(s.get(b.toString('latin1')), { complete: 0, downloaded: 7, incomplete: 0 })
    assert.equal(s.has(old.toString('latin1')), false)
    const all = parseBenFullScrape(parseOpsReply(await sendRaw(otd.http, 'GET /scrape HTTP/1.1\r\n\r\n')).body)
    assert.deepEqual(all.map((x) => x.hash.toString('hex')), [a, b].map((h) => h.toString('hex')).sort())
    // statedump → the same lines back (uppercase, sorted)
    const back = parseOpsReply(await sendRaw(otd.http, 'GET /stats?mode=statedump HTTP/1.1\r\n\r\n')).body.toString()
    assert.deepEqual(back.split('\n').filter((x) => x !== '').map((x) => x.replace(/:\d+:/, ':M:')).sort(), [`${HEX(a)}:M:42`, `${HEX(b)}:M:7`].sort())
    const { code } = await otd.stop()
    assert.equal(code, 0)
  })
})

describe('--statefile: warm restart', () => {
  const path = join(dir, 'warm.state')
  const hs = [testHash(16001), testHash(16002)]
  let savedBytes: Buffer

  test('SIGTERM → exit 0 within a few seconds and the state file is written', async () => {
    const otd = await start(['--statefile', path])
    await otd.waitForLog((l) => l.msg.includes('does not exist yet'), 'the no-state-yet line')
    await announce(otd.http, { infoHash: hs[0]!, port: 1, left: 0, event: 'completed' })
    await announce(otd.http, { infoHash: hs[0]!, port: 2 })
    await announce(otd.http, { infoHash: hs[1]!, port: 3, left: 0 })
    const u = await UdpClient.open(otd.udp)
    await u.announce({ infoHash: hs[0]!, port: 4, left: 0n, event: 1 })
    u.close()
    const { code, ms } = await otd.stop('SIGTERM')
    assert.equal(code, 0)
    assert.ok(ms < 5000, `exit took ${ms} ms`)
    const written = otd.logs.find((l) => l.msg.startsWith(`state file ${path} written`))
    assert.ok(written !== undefined, otd.output)
    assert.match(written.msg, /written: 2 torrents, 4 peers, \d+ bytes/)
    assert.ok(existsSync(path))
    savedBytes = readFileSync(path)
    assert.equal(savedBytes.subarray(0, 8).toString('latin1'), 'OTDSTATE')
    assert.equal(statSync(path).size, written.bytes)
    assert.deepEqual(otd.logs.filter(isError), [])
  })

  test('restart with the same file → announces immediately get the old peers, scrape counts match', async () => {
    const otd = await start(['--statefile', path])
    const restored = await otd.waitForLog((l) => l.msg.includes('restored'), 'the restore line')
    assert.equal(restored.msg, `state file ${path}: restored 2 torrents, 4 peers`)
    const s = await scrape(otd.http, hs)
    assert.deepEqual(s.get(hs[0]!.toString('latin1')), { complete: 2, downloaded: 2, incomplete: 1 })
    assert.deepEqual(s.get(hs[1]!.toString('latin1')), { complete: 1, downloaded: 0, incomplete: 0 })
    const a = await announce(otd.http, { infoHash: hs[0]!, port: 9 })
    for (const p of [1, 2, 4]) assert.ok(keys(a.peers).includes(v4(p)), `old peer ${p} in ${keys(a.peers).join(' ')}`)
    assert.equal(a.complete, 2)
    assert.equal(a.incomplete, 2)
    assert.equal(await getText(otd.http, '/stats'), '5\n3\nopentracker serving 2 torrents\nopentracker')
    const { code } = await otd.stop('SIGINT')
    assert.equal(code, 0)
    assert.ok(otd.logs.some((l) => /written: 2 torrents, 5 peers/.test(l.msg)), 'SIGINT writes the state too')
  })

  for (const [what, damage, why] of [
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 10), /truncated|length/],
    ['corrupt (one flipped byte)', (b: Buffer) => { const c = Buffer.from(b); c[20] = c[20]! ^ 0x40; return c }, /checksum mismatch/]
  ] as Array<[string, (b: Buffer) => Buffer, RegExp]>) {
    test(`a ${what} state file is refused with a clear log line; otd starts empty and serves`, async () => {
      const bad = join(dir, `bad-${what.slice(0, 7)}.state`)
      writeFileSync(bad, damage(savedBytes), { mode: 0o666 })
      const otd = await start(['--statefile', bad])
      const err = await otd.waitForLog(isError, 'an error line')
      assert.match(err.msg, new RegExp(`^state file ${bad} refused: .*; starting empty$`))
      assert.match(err.msg, why)
      assert.equal(await getText(otd.http, '/stats?mode=torr'), '0\n0\nopentracker serving 0 torrents\nopentracker')
      const a = await announce(otd.http, { infoHash: hs[0]!, port: 20 })
      assert.equal(a.incomplete, 1)
      assert.equal(a.complete, 0)
      assert.equal((await otd.stop()).code, 0)
    })
  }

  test('an unwritable state path: the error is logged, otd keeps serving, the previous file stays intact', async () => {
    const ro = tempDir('otd-ro-')
    const target = join(ro, 'state')
    copyFileSync(path, target)
    chmodSync(target, 0o644)
    chmodSync(ro, 0o555) // otd (nobody when started as root, else this user) cannot create its temporary file here
    const before = readFileSync(target)
    const conf = join(dir, 'interval.conf')
    writeFileSync(conf, 'tracker.statefile_interval 1\n', { mode: 0o644 })
    try {
      const otd = await start(['-f', conf, '--statefile', target])
      await otd.waitForLog((l) => l.msg.includes('restored 2 torrents'), 'the restore line')
      const err = await otd.waitForLog(isError, 'the periodic write to fail', 5000)
      assert.match(err.msg, new RegExp(`^cannot write state file ${target}: EACCES; the previous file is kept$`))
      // still serving, with the restored swarm
      const a = await announce(otd.http, { infoHash: hs[0]!, port: 30 })
      assert.equal(a.complete, 2)
      assert.equal((await otd.stop()).code, 0)
      assert.ok(otd.logs.filter(isError).length >= 2, 'the write at shutdown fails too, and is logged')
      assert.deepEqual(readFileSync(target), before, 'the previous file is intact')
    } finally {
      chmodSync(ro, 0o755)
      rmSync(ro, { recursive: true, force: true })
    }
  })
})
