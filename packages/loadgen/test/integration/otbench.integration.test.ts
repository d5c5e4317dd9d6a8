/**
 * otbench end to end: the real command against a real otd started on port 0 by `--spawn`, which
 * finds the bound ports in otd's listening log line. Short runs: these check wiring and
 * accounting, not speed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Report } from '../../src/report.js'

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url))
const OTBENCH = join(ROOT, 'packages/loadgen/bin/otbench.js')
const OTD = `${process.execPath} ${join(ROOT, 'packages/daemon/bin/otd.js')} -i 127.0.0.1 -p 0 -P 0`
const SHORT = ['-d', '600ms', '--warmup', '100ms', '--torrents', '1000', '--peers', '500']
const dir = mkdtempSync(join(tmpdir(), 'otbench-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Ran { code: number, stdout: string, stderr: string }

async function otbench (args: string[]): Promise<Ran> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [OTBENCH, ...args], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

async function report (args: string[]): Promise<Report> {
  const r = await otbench([...args, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as Report
}

describe('otbench against otd', { concurrency: true }, () => {
  test('udp: announces and scrapes at the configured mix all get proper replies', async () => {
    const r = await report(['udp', '--spawn', OTD, ...SHORT, '--mix', 'announce=80,scrape=20', '-c', '2'])
    const run = r.workloads['udp.mixed']![0]!
    assert.ok(run.okAnnounce > 100, `announces ${run.okAnnounce}`)
    assert.ok(run.okScrape > 20, `scrapes ${run.okScrape}`)
    assert.equal(run.errors, 0)
    assert.ok(run.trackerCpuPct !== undefined, 'tracker CPU is measured through its pid')
    assert.equal(r.environment.node, process.version)
    assert.ok(r.figures.some((f) => f.name === 'udp.mixed.rps' && f.value > 0))
  })

  test('http: keep-alive and a new connection per request both get 200 replies without failure reasons', async () => {
    const ka = await report(['http', '--spawn', OTD, ...SHORT, '-c', '4'])
    const k = ka.workloads['http.keepalive.announce']![0]!
    assert.ok(k.ok > 100, `keep-alive replies ${k.ok}`)
    assert.equal(k.errors, 0)
    assert.ok(k.connects <= 8, `keep-alive opened ${k.connects} connections`)
    const nc = await report(['http', '--spawn', OTD, ...SHORT, '-c', '4', '--new-connection'])
    const n = nc.workloads['http.newconn.announce']![0]!
    assert.ok(n.ok > 50, `new-connection replies ${n.ok}`)
    assert.equal(n.errors, 0)
    assert.ok(n.connects + 4 >= n.ok, 'one connection per request (4 opened before counting began)')
  })

  test('preload stores every peer, checks it by scrape and reports RSS per peer', async () => {
    const r = await report(['preload', '--spawn', OTD, '--torrents', '300', '--peers-per-torrent', '4', '--settle', '0'])
    const p = r.preload!
    assert.equal(p.peers, 1200)
    assert.equal(p.acked, 1200)
    assert.equal(p.rejected, 0)
    assert.deepEqual(p.verified, { sampled: 74, exact: 74, seenPeers: 296, expectedPeers: 296 })
    assert.ok(p.rssPerPeerBytes !== undefined)
  })

  test('suite writes the report and its chart, gates, and compare fails on a regression', async () => {
    const out = join(dir, 'suite.json')
    const r = await otbench(['suite', '--spawn', OTD, ...SHORT, '--runs', '1', '--peers-per-torrent', '2', '--settle', '0',
      '--gate', '--gate-udp', '1', '--gate-http', '1', '--gate-rss-per-peer', '1000000000', '--out', out])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /PASS +UDP announces/)
    assert.ok(existsSync(join(dir, 'suite.svg')))
    const base = JSON.parse(readFileSync(out, 'utf8')) as Report
    for (const w of ['udp.announce', 'udp.scrape', 'http.keepalive.announce', 'http.newconn.announce']) {
      assert.ok(base.figures.some((f) => f.name === `${w}.rps` && f.value > 0), w)
    }
    const same = await otbench(['compare', out, out])
    assert.equal(same.code, 0, same.stdout)
    const worse = structuredClone(base)
    worse.figures.find((f) => f.name === 'udp.announce.rps')!.value /= 2
    const worseFile = join(dir, 'worse.json')
    writeFileSync(worseFile, JSON.stringify(worse))
    const cmp = await otbench(['compare', out, worseFile, '--max-regression', '10%'])
    assert.equal(cmp.code, 1, cmp.stdout)
    assert.match(cmp.stdout, /udp\.announce\.rps .*REGRESSED/)
    assert.ok(existsSync(join(dir, 'worse.vs.suite.svg')))
    const newFile = join(dir, 'new.json')
    writeFileSync(newFile, JSON.stringify(base))
    const several = await otbench(['compare', out, worseFile, newFile, '--max-regression', '10%'])
    assert.equal(several.code, 0, several.stdout)
    assert.match(several.stdout, /^figure +unit +suite +worse +new +new\/suite +new\/worse/)
    assert.match(several.stdout, /udp\.announce\.rps .* 1\.000 +2\.000 +better than worse \(100\.0%\)/)
    assert.ok(existsSync(join(dir, 'new.vs.suite.svg')) && existsSync(join(dir, 'new.vs.worse.svg')))
    const gated = await otbench(['suite', '--spawn', OTD, ...SHORT, '--runs', '1', '--peers-per-torrent', '0', '--gate', '--gate-udp', '100000000'])
    assert.equal(gated.code, 1)
    assert.match(gated.stdout, /FAIL +UDP announces/)
  })

  test('an unreachable target and a bad flag exit with their own codes', async () => {
    const dead = await otbench(['udp', '--target', 'udp://127.0.0.1:9', '-d', '200ms', '--timeout', '200ms'])
    assert.equal(dead.code, 3)
    assert.match(dead.stderr, /no BEP 15 connect reply/)
    const bad = await otbench(['udp', '--window', '0', '--target', 'udp://127.0.0.1:9'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--window/)
  })
})
