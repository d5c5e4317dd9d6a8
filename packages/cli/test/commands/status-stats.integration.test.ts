import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startOtd, type RunningOtd } from '../helpers/otd.js'
import { otctl, show } from '../helpers/otctl.js'

const BUSY = 'b'.repeat(40)
const QUIET = 'c'.repeat(40)

describe('otctl status, stats and top against an open otd', () => {
  let otd: RunningOtd
  const run = (args: string[]): ReturnType<typeof otctl> => otctl(args, { url: otd.url })

  before(async () => {
    otd = await startOtd(['-A', '127.0.0.1'])
    // BUSY: three peers (one seeder, one completed); QUIET: one leecher.
    const announces = [
      ['announce', BUSY, '--port', '7001', '--seed'],
      ['announce', BUSY, '--port', '7002', '--event', 'completed', '--seed', '--tracker', otd.udpUrl],
      ['announce', BUSY, '--port', '7003'],
      ['announce', QUIET, '--port', '7004']
    ]
    for (const a of announces) {
      const r = await run(a)
      assert.equal(r.code, 0, show(r))
    }
  })
  after(() => otd.stop())

  test('status --json reports version, listeners and swarm sizes from /otd/status', async () => {
    const r = await run(['status', '--json'])
    assert.equal(r.code, 0, show(r))
    assert.equal(r.json.name, 'otd')
    assert.equal(r.json.pid, otd.pid)
    assert.equal(r.json.torrents, 2)
    assert.equal(r.json.peers, 4)
    assert.equal(r.json.seeders, 2)
    assert.equal(r.json.leechers, 2)
    assert.ok(r.json.listeners.some((l: { protocol: string, port: number }) => l.protocol === 'udp' && l.port === otd.udpPort))
    assert.equal(r.json.rates.sinceStart, true)
  })

  test('status for people: aligned lines with units, and a measured rate with --sample', async () => {
    const r = await run(['status', '--sample', '200ms'])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /^daemon\s+otd \S+, pid \d+, up \d+s$/m)
    assert.match(r.stdout, /^peers\s+4 \(IPv4 4, IPv6 0\)$/m)
    assert.match(r.stdout, /^requests\/s\s+[\d.]+ \(announces [\d.]+\/s\), over the last 0\.[2-9]\d s$/m)
    assert.match(r.stdout, /^memory\s+rss [\d.]+ MiB/m)
  })

  test('OTCTL_URL chooses the daemon when --url is not given', async () => {
    const r = await otctl(['stats', 'torr', '--json'], { env: { OTCTL_URL: otd.url } })
    assert.equal(r.code, 0, show(r))
    assert.deepEqual(r.json, { mode: 'torr', torrents: 2 })
  })

  test('stats --raw prints opentracker\'s body unchanged', async () => {
    const r = await run(['stats', 'peer', '--raw'])
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stdout, '4\n2\nopentracker serving 2 torrents\nopentracker')
    const xml = await run(['stats', 'everything', '--raw'])
    assert.match(xml.stdout, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<stats>/)
  })

  test('stats renders modes for people: counts, durations, top tables', async () => {
    const peer = await run(['stats'])
    assert.equal(peer.code, 0, show(peer))
    assert.match(peer.stdout, /^peers\s+4$/m)
    assert.match(peer.stdout, /^torrents\s+2$/m)
    const conn = await run(['stats', 'conn'])
    assert.match(conn.stdout, /^uptime\s+\d+s/m)
    const top = await run(['stats', 'top10'])
    assert.match(top.stdout, new RegExp(`top 10 torrents by peers:\\n#\\s+count\\s+info_hash\\n1\\s+3\\s+${BUSY}\\n2\\s+1\\s+${QUIET}`))
    const completed = await run(['stats', 'completed', '--json'])
    assert.equal(completed.json.completed, 1)
  })

  test('stats metrics parses /metrics into a table; --raw gives the Prometheus text', async () => {
    const r = await run(['stats', 'metrics'])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /^otd_peers\s+family=ipv4\s+4$/m)
    assert.match(r.stdout, /^otd_memory_bytes\s+kind=rss\s+[\d.]+ MiB$/m)
    const raw = await run(['stats', 'metrics', '--raw'])
    assert.match(raw.stdout, /^otd_torrents 2$/m)
  })

  test('stats tpbs streams the full scrape as a table, or raw in a chosen format', async () => {
    const table = await run(['stats', 'tpbs'])
    assert.equal(table.code, 0, show(table))
    assert.match(table.stdout, new RegExp(`^${BUSY}\\s+2\\s+1\\s+1$`, 'm'))
    assert.match(table.stdout, /^2 torrents$/m)
    const raw = await run(['stats', 'tpbs', '--raw', '--format', 'txtp'])
    assert.equal(raw.stdout, `${BUSY.toUpperCase()}:2:1:1\n${QUIET.toUpperCase()}:0:1:0\n`)
  })

  test('stats --watch redraws the screen each interval, --count stops it', async () => {
    const r = await run(['stats', 'peer', '--watch', '--interval', '100ms', '--count', '3'])
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stdout.match(/^otctl stats peer .* every 0\.1s/gm)?.length, 3)
    const json = await run(['stats', 'torr', '--watch', '--interval', '100ms', '--count', '2', '--json'])
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(lines.length, 2)
    assert.deepEqual(lines[1].value, { mode: 'torr', torrents: 2 })
  })

  test('stats with an unknown mode is bad input (exit 2)', async () => {
    const r = await run(['stats', 'bogus'])
    assert.equal(r.code, 2, show(r))
    assert.match(r.err, /Expected bogus to be one of/)
  })

  test('top ranks torrents by peers from top10, by completed from the full scrape', async () => {
    const peers = await run(['top', '--json'])
    assert.equal(peers.code, 0, show(peers))
    assert.deepEqual(peers.json, { by: 'peers', source: 'top10', torrents: [{ info_hash: BUSY, peers: 3 }, { info_hash: QUIET, peers: 1 }] })
    const leechers = await run(['top', '--by', 'leechers', '-n', '1', '--json'])
    assert.equal(leechers.json.torrents.length, 1)
    const completed = await run(['top', '--by', 'completed', '--json'])
    assert.deepEqual(completed.json, { by: 'completed', source: 'tpbs', torrents: [{ info_hash: BUSY, peers: 3, seeds: 2, leechers: 1, completed: 1 }] })
    const human = await run(['top', '--by', 'seeds'])
    assert.match(human.stdout, new RegExp(`^#\\s+info_hash\\s+seeds\\n1\\s+${BUSY}\\s+2$`, 'm'))
  })
})
