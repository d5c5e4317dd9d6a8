// kill -9 under load (issue 8, "Faults"): the real `otd` with a state file written every second,
// under UDP and HTTP announces with event=completed from this test, is killed with SIGKILL again
// and again: on odd rounds at a random moment, on even rounds a random time into a state write
// (the write's temporary file appearing in the directory starts the clock). After every kill the
// state file must be whole (framing and CRC-32 verified) and at least as new as the last write
// seen before the kill (every torrent of it present, no downloaded count lower); the restart
// must restore exactly that file (restore counts, and `/stats?mode=statedump` equal to the
// file's torrents and downloaded counts) and remove the temporary files the kills left behind.
// Rounds: OTD_FAULT_ROUNDS (default 8).

import assert from 'node:assert/strict'
import { existsSync, readdirSync, rmSync, watch, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { AnnounceLoad, encodeCountsOnly, fetchStatedump, readState, type StateSnapshot } from '../helpers/faults-load.js'
import { OtdProcess, tempDir, type LogLine } from '../helpers/ops-otd-bin.js'
import { Prng } from '../helpers/prng.js'
import { testHash } from '../helpers/tracker-client.js'

const ROUNDS = Number(process.env.OTD_FAULT_ROUNDS ?? 8)
const PRELOAD = 60_000
const LIVE = 500

const dir = tempDir('otd-faults-kill-')
const statePath = join(dir, 'otd.state')
const conf = join(dir, 'otd.conf')
const TEMP = /^\.otd\.state\.\d+\.\d+\.tmp$/
const procs: OtdProcess[] = []
after(async () => {
  await Promise.all(procs.map((p) => p.kill()))
  rmSync(dir, { recursive: true, force: true })
})

const temps = (): string[] => readdirSync(dir).filter((n) => TEMP.test(n))
const total = (s: StateSnapshot): number => { let n = 0; for (const v of s.counts.values()) n += v; return n }
const isWrite = (l: LogLine): boolean => l.msg.startsWith(`state file ${statePath} written`)

/** Waits for a state-file write logged after now; returns its log line. */
function nextWrite (otd: OtdProcess): Promise<LogLine> {
  const seen = new Set(otd.logs)
  return otd.waitForLog((l) => !seen.has(l) && isWrite(l), 'a periodic state-file write', 10_000)
}

test(`kill -9 under load, ${ROUNDS} rounds: the state file is always whole and a restart restores it exactly`, async (t) => {
  const prng = new Prng(0x5eed)
  const now = Math.floor(Date.now() / 1000)
  // Start from a state file of PRELOAD torrents, so every write takes a while (a kill can land in it).
  const preload = Array.from({ length: PRELOAD }, (_, i) => ({ hash: testHash(700_000 + i), downloaded: 1 + (i % 50), lastActive: now - (i % 3600) }))
  writeFileSync(statePath, encodeCountsOnly(preload, now), { mode: 0o644 })
  writeFileSync(conf, 'tracker.statefile_interval 1\n', { mode: 0o644 })
  // A leftover of a writer that no longer exists (pid above pid_max): the first start removes it.
  writeFileSync(join(dir, '.otd.state.4194305.7.tmp'), 'half a state file', { mode: 0o644 })

  const live = Array.from({ length: LIVE }, (_, i) => testHash(760_000 + i))
  let port = 0
  const next = (): { infoHash: Buffer, port: number, completed: boolean } => {
    port = port % 65_000 + 1
    return { infoHash: live[prng.int(LIVE)]!, port, completed: true }
  }

  let expected = readState(statePath)
  let announces = 0
  let midWrite = 0
  const kills: string[] = []
  for (let round = 0; round <= ROUNDS; round++) {
    const leftovers = temps()
    const otd = await OtdProcess.start(['-f', conf, '--statefile', statePath], { cwd: dir })
    procs.push(otd)
    // The restart brings back exactly the file the kill left.
    const restored = await otd.waitForLog((l) => l.msg.startsWith(`state file ${statePath}: restored`), 'the restore line')
    assert.equal(restored.torrents, expected.torrents, `round ${round}: ${restored.msg}`)
    assert.equal(restored.peers, expected.peers, `round ${round}: ${restored.msg}`)
    if (leftovers.length > 0) {
      const removed = otd.logs.find((l) => /temporary file\(s\) left by an interrupted write/.test(l.msg))
      assert.ok(removed !== undefined, `round ${round}: leftovers ${leftovers.join(' ')} not reported`)
      assert.deepEqual([...(removed.files as string[])].sort(), leftovers.map((n) => join(dir, n)).sort())
      for (const n of leftovers) assert.equal(existsSync(join(dir, n)), false, `${n} was not removed`)
    }
    const dump = await fetchStatedump(otd.http)
    assert.equal(dump.size, expected.counts.size, `round ${round}: statedump size`)
    for (const [h, d] of expected.counts) assert.equal(dump.get(h), d, `round ${round}: downloaded of ${h}`)
    if (round === ROUNDS) {
      assert.equal((await otd.stop('SIGTERM')).code, 0)
      assert.deepEqual(otd.logs.filter((l) => l.level >= 50), [])
      break
    }

    // Load, then a periodic write that includes some of it: the last write seen before the kill.
    const load = new AnnounceLoad(otd.udp, otd.http, { udp: 3, http: 2, next })
    await load.until(200)
    let seen = await nextWrite(otd)
    let observed = readState(statePath)
    while (total(observed) <= total(expected)) { seen = await nextWrite(otd); observed = readState(statePath) }
    await load.until(load.ok + 200)

    // Kill at a random moment, or a random time into a write (within 0.8 times the last write's length).
    const aimed = round % 2 === 0
    const writeMs = Math.max(2, Number(seen.ms))
    const delay = aimed ? prng.int(Math.ceil(writeMs * 0.8) + 1) : prng.int(1000)
    await new Promise<void>((resolve) => {
      const kill = (): void => { void load.stop(); otd.child.kill('SIGKILL'); resolve() }
      if (!aimed) { setTimeout(kill, delay); return }
      const w = watch(dir, (_event, name) => {
        if (name === null || !TEMP.test(name) || !existsSync(join(dir, name))) return
        w.close()
        setTimeout(kill, delay)
      })
    })
    const exit = await otd.waitExit()
    assert.equal(exit.signal, 'SIGKILL')
    const r = await load.stop()
    announces += r.udpOk + r.httpOk
    // A temporary file now means the kill interrupted a write (the restart removed older ones).
    const interrupted = temps().length > 0
    if (interrupted) midWrite++
    kills.push(`${aimed ? 'write' : 'random'}+${delay}ms${interrupted ? ' (mid-write)' : ''}`)

    // Whole, and not older than the last write seen.
    const after = readState(statePath)
    assert.ok(after.savedAt >= observed.savedAt, `round ${round}: the file went back in time`)
    for (const [h, d] of observed.counts) {
      const now = after.counts.get(h)
      assert.ok(now !== undefined && now >= d, `round ${round}: ${h} had downloaded ${d} in the last write seen, ${now} after the kill`)
    }
    expected = after
  }
  t.diagnostic(`${ROUNDS} kills (${kills.join(', ')}); ${midWrite} landed mid-write; ${announces} announces; last file: ${expected.torrents} torrents, ${expected.peers} peers, downloaded total ${total(expected)}`)
})
