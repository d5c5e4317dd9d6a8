// End-to-end: a real BitTorrent swarm (libtorrent-rasterbar 2.0 through
// python3-libtorrent) finds itself through otd and transfers a file.
//
// test/fixtures/libtorrent_swarm.py runs a seeder and a downloader, two separate
// libtorrent sessions on 127.0.0.1 with DHT, LSD, PEX, UPnP and NAT-PMP off, so
// the downloader can learn the seeder's address only from the tracker. Once the
// file is verified it prints one JSON line and keeps both peers up (--hold)
// until we close its stdin, so this test can scrape the live swarm; then both
// peers send event=stopped and the script exits.
//
// CI installs python3-libtorrent (.ci/run). A machine without it FAILS these
// tests on purpose rather than skipping them.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { asDict, decodeStrict, getInt } from '../helpers/bencode-strict.js'
import { createTracker } from '../../src/index.js'

const PYTHON = '/usr/bin/python3'
// dist/test/integration/ -> test/fixtures/ (the script is not compiled)
const SCRIPT = fileURLToPath(new URL('../../../test/fixtures/libtorrent_swarm.py', import.meta.url))
/** The script's own bound on setting up, downloading and verifying. */
const SWARM_TIMEOUT_S = 60
/** Our bound on the script's result line (its own timeout plus start-up slack). */
const RESULT_MS = (SWARM_TIMEOUT_S + 20) * 1000
/** Our bound on the script's exit after stdin closes (stop announces are bounded at 8 s there). */
const EXIT_MS = 20_000
const HTTP_MS = 5000

type Tracker = ReturnType<typeof createTracker>

interface SwarmResult {
  ok: boolean
  error?: string
  tracker: string
  info_hash: string
  bytes: number
  seconds: number
  seeder_port: number
  downloader_port: number
  seeder_first_reply_peers: number
  downloader_first_reply_peers: number
  downloader_dialed: string[]
  sha1: string
  scrape: { complete: number; incomplete: number }
}

interface Stats {
  complete: number
  downloaded: number
  incomplete: number
}

let tracker: Tracker | undefined
let httpPort = 0
let udpPort = 0
const children = new Set<ChildProcessWithoutNullStreams>()

function libtorrentProblem(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import libtorrent; print(libtorrent.__version__)'], { encoding: 'utf8', timeout: 30_000 })
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`
  if (r.status !== 0) return `${PYTHON} -c 'import libtorrent' failed: ${r.stderr.trim().split('\n').pop() ?? ''}`
  return undefined
}

before(async () => {
  tracker = createTracker({
    http: [{ host: '127.0.0.1', port: 0 }],
    udp: [{ host: '127.0.0.1', port: 0 }],
  })
  const bound = await tracker.listen()
  const h = bound.http[0]
  const u = bound.udp[0]
  assert.ok(h && u, `tracker.listen() must report one HTTP and one UDP endpoint, got ${JSON.stringify(bound)}`)
  httpPort = h.port
  udpPort = u.port
})

after(async () => {
  for (const child of children) child.kill('SIGKILL')
  await tracker?.close()
})

/** HTTP scrape of one info_hash (given as 40 hex digits) on otd's HTTP listener. */
function scrape(hexHash: string): Promise<Stats> {
  const raw = Buffer.from(hexHash, 'hex')
  assert.equal(raw.length, 20, `info_hash from the script must be 40 hex digits: ${hexHash}`)
  const pct = [...raw].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')
  const path = `/scrape?info_hash=${pct}`
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: httpPort, path, timeout: HTTP_MS, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        try {
          const body = Buffer.concat(chunks)
          assert.equal(res.statusCode, 200, `GET ${path} -> ${res.statusCode}: ${JSON.stringify(body.toString('latin1'))}`)
          const files = asDict(asDict(decodeStrict(body), 'scrape reply').get('files'), 'files')
          const entry = files.get(raw.toString('latin1'))
          assert.ok(entry, `scrape reply has no entry for ${hexHash}: ${JSON.stringify(body.toString('latin1'))}`)
          const d = asDict(entry, 'scrape entry')
          resolve({ complete: getInt(d, 'complete'), downloaded: getInt(d, 'downloaded'), incomplete: getInt(d, 'incomplete') })
        } catch (err) {
          reject(err as Error)
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no reply within ${HTTP_MS} ms`)))
    req.on('error', reject)
  })
}

/**
 * Starts the script and resolves with its JSON result line; `finish()` closes
 * its stdin and resolves with its exit code once it has exited.
 */
async function runSwarm(announceUrl: string): Promise<{ result: SwarmResult; stderr: () => string; finish: () => Promise<number | null> }> {
  const child = spawn(PYTHON, [SCRIPT, announceUrl, '--timeout', String(SWARM_TIMEOUT_S), '--hold', '120'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => (stderr += s))
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      children.delete(child)
      resolve(code)
    })
  })
  const tail = (): string => stderr.split('\n').slice(-40).join('\n')
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`libtorrent_swarm.py printed no result within ${RESULT_MS} ms; stderr:\n${tail()}`)), RESULT_MS)
    child.stdout.on('data', (s: string) => {
      stdout += s
      const nl = stdout.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        resolve(stdout.slice(0, nl))
      }
    })
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`libtorrent_swarm.py exited (${code}) without a result; stdout: ${JSON.stringify(stdout)}; stderr:\n${tail()}`))
    })
  })
  let result: SwarmResult
  try {
    result = JSON.parse(line) as SwarmResult
  } catch {
    throw new Error(`libtorrent_swarm.py printed something that is not JSON: ${JSON.stringify(line)}; stderr:\n${tail()}`)
  }
  const finish = async (): Promise<number | null> => {
    child.stdin.end()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`libtorrent_swarm.py did not exit within ${EXIT_MS} ms of stdin closing; stderr:\n${tail()}`)), EXIT_MS)
    })
    try {
      return await Promise.race([exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }
  return { result, stderr: tail, finish }
}

for (const scheme of ['http', 'udp'] as const) {
  test(`libtorrent seeder + downloader find each other through otd over ${scheme}`, { timeout: RESULT_MS + EXIT_MS + 20_000 }, async () => {
    const problem = libtorrentProblem()
    if (problem) {
      assert.fail(`python3-libtorrent is missing: ${problem}. Install it with "apt-get install python3-libtorrent" (.ci/run does); this test needs it and does not skip.`)
    }
    assert.ok(existsSync(SCRIPT), `fixture script not found at ${SCRIPT}`)

    const url = `${scheme}://127.0.0.1:${scheme === 'http' ? httpPort : udpPort}/announce`
    const swarm = await runSwarm(url)
    const r = swarm.result
    assert.equal(r.ok, true, `the libtorrent swarm failed: ${r.error ?? JSON.stringify(r)}\nstderr:\n${swarm.stderr()}`)
    assert.match(r.info_hash, /^[0-9a-f]{40}$/)
    const seeder = `127.0.0.1:${r.seeder_port}`

    // What libtorrent saw: the seeder was alone, the downloader got exactly the
    // seeder (never itself), and dialed nobody else.
    assert.equal(r.seeder_first_reply_peers, 0, "the seeder's first announce (empty swarm) must return no peers, not the seeder itself")
    assert.equal(r.downloader_first_reply_peers, 1, "the downloader's first announce must return exactly the seeder")
    assert.deepEqual(r.downloader_dialed, [seeder], 'the downloader dialed exactly the seeder it got from otd')
    // libtorrent's own scrape, after the downloader's event=completed: two seeders.
    assert.deepEqual(r.scrape, { complete: 2, incomplete: 0 }, "libtorrent's scrape of the finished swarm")

    // Our scrape of the live swarm: two seeders, one completed download.
    assert.deepEqual(await scrape(r.info_hash), { complete: 2, downloaded: 1, incomplete: 0 }, 'HTTP scrape while both peers are up')

    // Release the peers: both announce event=stopped and the script exits cleanly.
    const code = await swarm.finish()
    assert.equal(code, 0, `libtorrent_swarm.py exit status; stderr:\n${swarm.stderr()}`)
    assert.doesNotMatch(swarm.stderr(), /WARNING: no answer to event=stopped/, 'otd answered both stopped announces')
    assert.deepEqual(await scrape(r.info_hash), { complete: 0, downloaded: 1, incomplete: 0 }, 'HTTP scrape after both peers stopped')
  })
}
