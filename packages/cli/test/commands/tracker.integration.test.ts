import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { after, before, describe, test } from 'node:test'
import { startOtd, type RunningOtd } from '../helpers/otd.js'
import { otctl, show } from '../helpers/otctl.js'

const HASH = 'd4'.repeat(20)
const OTHER = 'e5'.repeat(20)

/** A UDP port nothing listens on (bound, read, closed). */
async function closedUdpPort (): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  const port = s.address().port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

describe('otctl announce and scrape, HTTP and UDP, as a client of any tracker', () => {
  let otd: RunningOtd
  const run = (args: string[]): ReturnType<typeof otctl> => otctl(args, { url: otd.url })

  before(async () => { otd = await startOtd([]) })
  after(() => otd.stop())

  test('an HTTP announce as a seeder gets the interval and no peers', async () => {
    const r = await run(['announce', HASH, '--seed', '--port', '6001', '--tracker', `${otd.url}/announce`, '--json'])
    assert.equal(r.code, 0, show(r))
    assert.equal(r.json.protocol, 'http')
    assert.equal(r.json.seeders, 1)
    assert.equal(r.json.leechers, 0)
    assert.ok(r.json.interval > 0)
    assert.deepEqual(r.json.peers, [])
  })

  test('a UDP announce as a leecher is handed the seeder', async () => {
    const r = await run(['announce', HASH, '--port', '6002', '--tracker', otd.udpUrl])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /^tracker\s+udp:\/\/127\.0\.0\.1:\d+ \(udp\)$/m)
    assert.match(r.stdout, /^seeders\s+1$/m)
    assert.match(r.stdout, /^leechers\s+1$/m)
    assert.match(r.stdout, /^\s+127\.0\.0\.1\s+6001$/m)
  })

  test('scrape over HTTP and over UDP report the same swarm; HTTP lists hashes it does not know', async () => {
    const http = await run(['scrape', HASH, OTHER, '--json'])
    assert.equal(http.code, 0, show(http))
    assert.deepEqual(http.json.files, [{ info_hash: HASH, seeders: 1, completed: 0, leechers: 1 }])
    assert.deepEqual(http.json.missing, [OTHER])
    const udp = await run(['scrape', HASH, '--tracker', otd.udpUrl])
    assert.equal(udp.code, 0, show(udp))
    assert.match(udp.stdout, new RegExp(`^${HASH}\\s+1\\s+1\\s+0$`, 'm'))
  })

  test('announce --event stopped takes the peer out of the swarm', async () => {
    const r = await run(['announce', HASH, '--port', '6002', '--event', 'stopped', '--tracker', otd.udpUrl])
    assert.equal(r.code, 0, show(r))
    const s = await run(['scrape', HASH, '--json'])
    assert.equal(s.json.files[0].leechers, 0)
  })

  test('an HTTP tracker URL without /announce cannot be scraped (exit 1)', async () => {
    const r = await run(['scrape', HASH, '--tracker', `${otd.url}/tracker`])
    assert.equal(r.code, 1, show(r))
    assert.match(r.err, /cannot be scraped/)
  })

  test('a UDP tracker that does not answer is unreachable (exit 3)', async () => {
    const port = await closedUdpPort()
    const r = await run(['announce', HASH, '--tracker', `udp://127.0.0.1:${port}`, '--timeout', '2s', '--json'])
    assert.equal(r.code, 3, show(r))
    assert.equal(r.json.error.code, 'OT_ERR_UNREACHABLE')
  })

  test('bad tracker URLs and hashes are bad input (exit 2)', async () => {
    for (const args of [
      ['announce', HASH, '--tracker', 'udp://127.0.0.1'],
      ['announce', HASH, '--tracker', 'ftp://127.0.0.1/announce'],
      ['announce', 'xyz'],
      ['announce', HASH, '--event', 'paused'],
      ['scrape', 'xyz']
    ]) {
      const r = await run(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`)
    }
  })
})
