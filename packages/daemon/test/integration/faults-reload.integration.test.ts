// SIGHUP reloads and state dumps under load (issue 8, "Faults"): the real `otd` with a whitelist
// of 100,000 info_hashes (so every reload reads and swaps a real list) and a state file written
// every second serves a steady UDP and HTTP announce load from this test, on whitelisted hashes,
// while it gets SIGHUP after SIGHUP (each sent once the previous reload is logged, so every one
// is a real reload) and `/stats?mode=statedump` is fetched over and over. Not one announce may
// fail or time out, every reload must load all 100,000 hashes, every statedump must be whole.
// Reloads: OTD_FAULT_SIGHUPS (default 40).

import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { AnnounceLoad, fetchStatedump } from '../helpers/faults-load.js'
import { OtdProcess, tempDir, type LogLine } from '../helpers/ops-otd-bin.js'
import { Prng } from '../helpers/prng.js'
import { testHash } from '../helpers/tracker-client.js'

const SIGHUPS = Number(process.env.OTD_FAULT_SIGHUPS ?? 40)
const LISTED = 100_000
const LOADED = 2000

const dir = tempDir('otd-faults-reload-')
const procs: OtdProcess[] = []
after(async () => {
  await Promise.all(procs.map((p) => p.kill()))
  rmSync(dir, { recursive: true, force: true })
})

const isReload = (l: LogLine): boolean => l.msg.startsWith('access lists reloaded: ')

test(`${SIGHUPS} SIGHUP reloads (100k-hash whitelist), statedumps and state writes under UDP + HTTP load: no announce fails`, async (t) => {
  const hashes = Array.from({ length: LISTED }, (_, i) => testHash(800_000 + i))
  const whitelist = join(dir, 'whitelist')
  writeFileSync(whitelist, hashes.map((h) => h.toString('hex') + '\n').join(''), { mode: 0o644 })
  const conf = join(dir, 'otd.conf')
  writeFileSync(conf, 'tracker.statefile_interval 1\n', { mode: 0o644 })
  const otd = await OtdProcess.start(['-f', conf, '-w', whitelist, '--statefile', join(dir, 'otd.state')], { cwd: dir, timeoutMs: 20_000 })
  procs.push(otd)

  const prng = new Prng(0x4b1d)
  const load = new AnnounceLoad(otd.udp, otd.http, {
    udp: 4,
    http: 3,
    timeoutMs: 10_000, // a reply that never comes, not a slow one on a busy machine
    next: () => ({ infoHash: hashes[prng.int(LOADED)]!, port: 1 + prng.int(60_000), completed: prng.chance(0.05) })
  })
  t.after(() => load.stop())
  await load.until(500)
  const okBefore = load.ok

  // Statedumps back to back until the reloads are done.
  let reloading = true
  let dumps = 0
  let largest = 0
  let dumpError: unknown = null
  const dumper = (async () => {
    while (reloading) {
      const d = await fetchStatedump(otd.http)
      assert.ok(d.size > 0, 'a statedump under load lists the torrents')
      largest = Math.max(largest, d.size)
      dumps++
    }
  })().catch((err: unknown) => { dumpError = err })

  const writesBefore = otd.logs.filter((l) => l.msg.includes(' written: ')).length
  const started = Date.now()
  try {
    for (let i = 1; i <= SIGHUPS; i++) {
      otd.child.kill('SIGHUP')
      // The next signal only once this reload is done: each one re-reads the whole list.
      await otd.waitForLog(() => otd.logs.filter(isReload).length >= i, `reload ${i}`, 15_000)
    }
  } finally {
    reloading = false
  }
  await dumper
  if (dumpError !== null) throw dumpError
  const ms = Date.now() - started
  await load.until(load.ok + 200) // still answering after the last reload
  const r = await load.stop()

  const reloads = otd.logs.filter(isReload)
  assert.equal(reloads.length, SIGHUPS)
  for (const l of reloads) assert.equal(l.msg, `access lists reloaded: white ${LISTED} entries`)
  const writes = otd.logs.filter((l) => l.msg.includes(' written: ')).length - writesBefore
  assert.deepEqual(r.failures, [], `failed announces: udp ${r.udpFailed}, http ${r.httpFailed}`)
  assert.equal(r.udpFailed + r.httpFailed, 0)
  assert.ok(r.udpOk > 0 && r.httpOk > 0)
  assert.deepEqual(otd.logs.filter((l) => l.level >= 50), [])
  const { code } = await otd.stop()
  assert.equal(code, 0)
  t.diagnostic(`${SIGHUPS} reloads in ${ms} ms, ${dumps} statedumps (up to ${largest} torrents), ${writes} state-file writes; ` +
    `announces: ${r.udpOk} UDP + ${r.httpOk} HTTP (${r.udpOk + r.httpOk - okBefore} during and after the reloads), 0 failed`)
})
