// The proof of issue 5 with real processes: three otd nodes on 127.0.0.1, 127.0.0.2 and
// 127.0.0.3 (port 0, each blessing the others and otsync's host with -A), and the otsync command.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { before, describe, test } from 'node:test'
import { request } from 'undici'
import type { RoundReport } from '../src/index.js'
import { type Node, announce, runOtsync, startNode, startOtsync } from './helpers/cluster.js'

function hash (n: number): Buffer {
  return createHash('sha1').update(`otsync-test-${n}`).digest()
}

async function once (nodes: Node[], ...extra: string[]): Promise<{ code: number | null, report: RoundReport, stderr: string }> {
  const r = await runOtsync(['--once', '--json', '--log-level', 'warn', ...nodes.flatMap((n) => ['--node', n.url]), ...extra])
  const line = r.stdout.trim().split('\n').pop() ?? ''
  let report: RoundReport
  try {
    report = JSON.parse(line) as RoundReport
  } catch {
    throw new Error(`otsync printed no report (exit ${String(r.code)}):\n${r.stdout}\n${r.stderr}`)
  }
  return { code: r.code, report, stderr: r.stderr }
}

describe('otsync between three otd nodes', () => {
  let a: Node
  let b: Node
  let c: Node

  before(async () => {
    [a, b, c] = await Promise.all([startNode('127.0.0.1'), startNode('127.0.0.2'), startNode('127.0.0.3')])
  })

  test('a peer announced to A is returned by B and C after one otsync --once round', async () => {
    const h = hash(1)
    await announce(a, h, 6881, { left: 0 })
    assert.ok(!(await announce(b, h, 7000)).includes('127.0.0.1:6881'))
    const { code, report } = await once([a, b, c])
    assert.equal(code, 0)
    assert.ok(report.nodes.every((n) => n.ok))
    // B's probe (7000) went to A and C, A's peer to B and C.
    assert.deepEqual(report.moves.filter((m) => m.from === a.url).map((m) => [m.to, m.peers]).sort(), [[b.url, 1], [c.url, 1]])
    assert.ok((await announce(b, h, 7000)).includes('127.0.0.1:6881'))
    assert.ok((await announce(c, h, 7001)).includes('127.0.0.1:6881'))
  })

  test('a stopped event propagates', async () => {
    const h = hash(2)
    await announce(a, h, 6882)
    await once([a, b, c])
    assert.ok((await announce(c, h, 7002)).includes('127.0.0.1:6882'))
    await announce(a, h, 6882, { event: 'stopped' })
    const { code, report } = await once([a, b, c])
    assert.equal(code, 0)
    assert.ok(report.nodes.find((n) => n.url === a.url)!.exported.stopped >= 1)
    assert.ok(!(await announce(b, h, 7003)).includes('127.0.0.1:6882'))
    assert.ok(!(await announce(c, h, 7002)).includes('127.0.0.1:6882'))
  })

  test('a node restarted empty is refilled', async () => {
    const h = hash(3)
    await announce(a, h, 6883)
    await announce(b, h, 6884)
    await once([a, b, c])
    assert.ok((await announce(c, h, 7004)).includes('127.0.0.1:6883'))
    await c.proc.stop()
    c = await startNode('127.0.0.3', c.port)
    assert.deepEqual(await announce(c, h, 7004), [])
    const { code } = await once([a, b, c])
    assert.equal(code, 0)
    const peers = await announce(c, h, 7004)
    assert.ok(peers.includes('127.0.0.1:6883') && peers.includes('127.0.0.1:6884'), JSON.stringify(peers))
  })

  test('a node that is down does not stop the others, is named in a log line, and catches up when back', async () => {
    const h = hash(4)
    await announce(a, h, 6885)
    await c.proc.stop()
    const down = await once([a, b, c], '--timeout', '1', '--retries', '1')
    assert.equal(down.code, 2)
    assert.equal(down.report.nodes.find((n) => n.url === c.url)!.ok, false)
    assert.match(down.stderr, new RegExp(`GET ${c.url.replace(/\./g, '\\.')}/sync failed: ECONNREFUSED \\(attempt 1 of 2, retrying\\)`))
    assert.match(down.stderr, new RegExp(`node ${c.url.replace(/\./g, '\\.')} unreachable`))
    assert.ok((await announce(b, h, 7005)).includes('127.0.0.1:6885'))
    c = await startNode('127.0.0.3', c.port)
    const back = await once([a, b, c], '--full')
    assert.equal(back.code, 0)
    assert.equal(back.report.catchUp, true)
    assert.ok((await announce(c, h, 7006)).includes('127.0.0.1:6885'))
  })

  test('running otsync syncs every interval and serves /metrics and /status', async () => {
    const h = hash(5)
    const proc = startOtsync(['--interval', '1', '--metrics', '127.0.0.1:0', ...[a, b, c].flatMap((n) => ['--node', n.url])])
    const line = await proc.waitLine((l) => /^metrics and status on /.test(l.msg), 'the metrics line')
    const port = (line.metrics as { port: number }).port
    await proc.waitLine((l) => /^round 1 \(catch-up\)/.test(l.msg), 'the first round')
    await announce(b, h, 6886)
    await proc.waitLine((l) => typeof l.round === 'number' && l.round >= 3, 'two more rounds')
    assert.ok((await announce(a, h, 7007)).includes('127.0.0.1:6886'))
    const metrics = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text()
    assert.match(metrics, /^otsync_rounds_total [3-9]\d*$/m)
    assert.match(metrics, new RegExp(`^otsync_node_up\\{node="${c.url}"\\} 1$`, 'm'))
    const status = await (await request(`http://127.0.0.1:${port}/status`)).body.json() as { nodes: Array<{ up: boolean }> }
    assert.deepEqual(status.nodes.map((n) => n.up), [true, true, true])
    // C goes down and comes back: the running otsync notices both and catches C up.
    await c.proc.stop()
    const h2 = hash(6)
    await announce(a, h2, 6887)
    await proc.waitLine((l) => new RegExp(`^node ${c.url} unreachable`).test(l.msg), 'C to be reported unreachable')
    c = await startNode('127.0.0.3', c.port)
    const back = await proc.waitLine((l) => l.msg === `node ${c.url} is back; catching it up`, 'C to be back')
    await proc.waitLine((l) => proc.lines.indexOf(l) > proc.lines.indexOf(back) && typeof l.round === 'number' && l.catchUp === true, 'the catch-up round')
    assert.ok((await announce(c, h2, 7008)).includes('127.0.0.1:6887'))
    const after = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text()
    assert.match(after, new RegExp(`^otsync_node_failures_total\\{node="${c.url}",kind="fetch"\\} [1-9]`, 'm'))
    await proc.stop()
    assert.equal(await proc.exited, 0)
  })
})
