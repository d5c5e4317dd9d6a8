// /metrics through real sockets: valid Prometheus text exposition (0.0.4), numbers that match
// known traffic, and the same restriction as /stats.

import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { MAY_STAT } from '../../src/config.js'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture, TrackerOptions } from '../helpers/fixture.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { hdr, request, sendRaw } from '../helpers/ops-http.js'
import { announce, scrape, testHash } from '../helpers/tracker-client.js'
import { UdpClient } from '../helpers/udp-raw.js'

const fixtures: Fixture[] = []
async function fresh (extra: Partial<TrackerOptions> = {}): Promise<Fixture> {
  const f = await startTracker(extra)
  fixtures.push(f)
  return f
}
after(async () => { await Promise.all(fixtures.map((f) => f.close())) })

type Samples = Map<string, number>

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
const SAMPLE = new RegExp(`^(${NAME})(\\{${LABEL}(?:,${LABEL})*\\})? (-?(?:\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?|\\.\\d+)|NaN|[+-]Inf)$`)

/**
 * Parses Prometheus text format strictly: every line is `# HELP name text`, `# TYPE name type`
 * or `name{labels} number`; TYPE comes once per family, before its samples; no duplicate series.
 */
function parsePrometheus (text: string): Samples {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline')
  const samples: Samples = new Map()
  const types = new Map<string, string>()
  const helps = new Set<string>()
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) {
      const m = new RegExp(`^# HELP (${NAME}) \\S.*$`).exec(line)
      assert.ok(m, `HELP line ${JSON.stringify(line)}`)
      assert.ok(!helps.has(m[1]!), `one HELP for ${m[1]}`)
      helps.add(m[1]!)
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line)
      assert.ok(m, `TYPE line ${JSON.stringify(line)}`)
      assert.ok(!types.has(m[1]!), `one TYPE for ${m[1]}`)
      types.set(m[1]!, m[2]!)
      continue
    }
    assert.ok(!line.startsWith('#'), `comment ${JSON.stringify(line)}`)
    const m = SAMPLE.exec(line)
    assert.ok(m, `sample line ${JSON.stringify(line)} is name{labels} number`)
    const series = `${m[1]}${m[2] ?? ''}`
    assert.ok(types.has(m[1]!), `${m[1]} has a TYPE before its samples`)
    assert.ok(!samples.has(series), `duplicate series ${series}`)
    samples.set(series, Number(m[3]))
  }
  return samples
}

async function metrics (ep: Endpoint, localAddress?: string): Promise<Samples> {
  const r = await request(ep, '/metrics', localAddress === undefined ? {} : { localAddress })
  assert.equal(r.status, 200, r.raw.subarray(0, 200).toString('latin1'))
  assert.match(hdr(r, 'content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parsePrometheus(r.body.toString('utf8'))
}

function val (s: Samples, series: string): number {
  const v = s.get(series)
  assert.notEqual(v, undefined, `series ${series} present; have ${[...s.keys()].join(' ')}`)
  return v!
}

describe('/metrics', () => {
  test('numbers match known traffic: peers by family, seeders, leechers, torrents, requests, errors', async () => {
    const f = await fresh()
    const h1 = testHash(8001)
    const h2 = testHash(8002)
    await announce(f.http4, { infoHash: h1, port: 1, left: 0, event: 'completed' })
    await announce(f.http4, { infoHash: h1, port: 2 })
    await announce(f.http6, { infoHash: h1, port: 3, left: 0 })
    await announce(f.http6, { infoHash: h2, port: 4 })
    const u = await UdpClient.open(f.udp4)
    const id = await u.connect()
    const ar = await u.announce({ connId: id, infoHash: h2, port: 5, left: 0n })
    await u.scrape([h1, h2], id)
    u.close()
    await scrape(f.http4, [h1])
    await sendRaw(f.http4, 'GET /nothing-here HTTP/1.0\r\n\r\n') // 404
    await sendRaw(f.http4, 'GET /announce HTTP/1.0\r\n\r\n') // 400
    await request(f.http4, '/scrape', { http11: true }) // a full scrape
    const s = await metrics(f.http4)
    assert.equal(val(s, 'otd_peers{family="ipv4"}'), 3)
    assert.equal(val(s, 'otd_peers{family="ipv6"}'), 2)
    assert.equal(val(s, 'otd_seeders'), 3)
    assert.equal(val(s, 'otd_leechers'), 2)
    assert.equal(val(s, 'otd_torrents'), 2)
    assert.equal(val(s, 'otd_completed_total'), 1)
    assert.equal(val(s, 'otd_requests_total{protocol="http",action="announce"}'), 4)
    assert.equal(val(s, 'otd_requests_total{protocol="http",action="scrape"}'), 1)
    assert.equal(val(s, 'otd_requests_total{protocol="http",action="fullscrape"}'), 1)
    assert.equal(val(s, 'otd_requests_total{protocol="http",action="any"}'), 9) // 4 + 1 + 404 + 400 + full scrape + this one
    assert.equal(val(s, 'otd_requests_total{protocol="udp",action="connect"}'), 1)
    assert.equal(val(s, 'otd_requests_total{protocol="udp",action="announce"}'), 1)
    assert.equal(val(s, 'otd_requests_total{protocol="udp",action="scrape"}'), 1)
    assert.equal(val(s, 'otd_requests_total{protocol="udp",action="any"}'), 3)
    assert.equal(val(s, 'otd_http_errors_total{code="400"}'), 1)
    assert.equal(val(s, 'otd_http_errors_total{code="404"}'), 1)
    assert.equal(val(s, 'otd_tcp_connections_total'), 9)
    assert.ok(val(s, 'otd_fullscrape_bytes_total') > 0)
    assert.ok(val(s, 'otd_bytes_out_total{protocol="http"}') > val(s, 'otd_fullscrape_bytes_total'))
    assert.equal(val(s, 'otd_bytes_out_total{protocol="udp"}'), 16 + 20 + 6 * ar.peers.length + 8 + 24)
    assert.ok(val(s, 'otd_memory_bytes{kind="rss"}') > 10e6)
    assert.ok(val(s, 'otd_event_loop_delay_seconds{quantile="0.99"}') >= 0)
    assert.ok(val(s, 'otd_uptime_seconds') >= 0)
  })

  test('counters move with traffic between two reads', async () => {
    const f = await fresh()
    const a = await metrics(f.http6)
    await announce(f.http6, { infoHash: testHash(8100), port: 9 })
    await announce(f.http4, { infoHash: testHash(8100), port: 9, event: 'stopped' }) // a different peer (v4): nothing removed
    const b = await metrics(f.http6)
    assert.equal(val(b, 'otd_requests_total{protocol="http",action="announce"}') - val(a, 'otd_requests_total{protocol="http",action="announce"}'), 2)
    assert.equal(val(b, 'otd_peers{family="ipv6"}'), 1)
    assert.equal(val(b, 'otd_peers{family="ipv4"}'), 0)
    assert.equal(val(b, 'otd_torrents'), 1)
  })

  test('restricted like /stats: unblessed 403, blessed 200', async () => {
    const f = await fresh({ statsRestricted: true, blessed: [{ net: '127.0.0.2', perms: MAY_STAT }] })
    const raw = await sendRaw(f.http4, 'GET /metrics HTTP/1.0\r\n\r\n', { localAddress: '127.0.0.1' })
    assert.equal(raw.toString('latin1'), 'HTTP/1.0 403 Access Denied\r\nContent-Type: text/html\r\nContent-Length: 29\r\n\r\n<title>Access Denied</title>\n')
    assert.equal((await request(f.http6, '/metrics')).status, 403)
    const s = await metrics(f.http4, '127.0.0.2')
    assert.equal(val(s, 'otd_http_errors_total{code="403"}'), 2)
  })

  test('public when stats are not restricted (from any address)', async () => {
    const f = await fresh()
    await metrics(f.http4, '127.0.0.9')
  })
})
