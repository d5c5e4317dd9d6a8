import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reportChartSvg } from '../src/chart.js'
import { reproVerdict, suiteChecks } from '../src/commands.js'
import { parseArgs } from '../src/cli.js'
import { type Report, environment, formatReport, workloadFigures, workloadNotes } from '../src/report.js'
import type { RunResult } from '../src/runner.js'

function run (okPerS: number, perSecond: number[], extra: Partial<RunResult> = {}): RunResult {
  return {
    label: 'x', durationS: perSecond.length, sent: okPerS * perSecond.length, ok: okPerS * perSecond.length, okAnnounce: okPerS * perSecond.length, okScrape: 0,
    errors: 0, timeouts: 0, late: 0, socketErrors: 0, connects: 0, retried: 0, okPerS, sentPerS: okPerS,
    latencyMs: { p50: 1, p90: 2, p99: 3, p999: 4, max: 5 }, perSecond, loadCpuPct: 50, ...extra
  }
}

function report (): Report {
  return { tool: 'otbench', schema: 1, command: 'suite', date: '2026-01-01T00:00:00.000Z', environment: environment(), config: {}, workloads: {}, figures: [], checks: [], notes: [] }
}

test('the environment names Node, the CPU and its cores', () => {
  const e = environment()
  assert.equal(e.node, process.version)
  assert.ok(e.cpus >= 1)
  assert.ok(e.cpuModel.length > 0)
})

test('workload figures are medians over runs, with every run kept', () => {
  const f = workloadFigures('udp.announce', [run(100, [100]), run(300, [300]), run(200, [200], { trackerCpuMsPer1k: 12 })])
  const rps = f.find((x) => x.name === 'udp.announce.rps')!
  assert.equal(rps.value, 200)
  assert.deepEqual(rps.runs, [100, 300, 200])
  assert.equal(rps.better, 'higher')
  assert.equal(f.find((x) => x.name === 'udp.announce.p99')!.info, true)
  assert.equal(f.find((x) => x.name === 'udp.announce.cpu_ms_per_1k')!.value, 12)
})

test('notes say which side was saturated and when requests failed', () => {
  const notes = workloadNotes('udp.announce', [run(100, [100], { loadCpuPct: 95, trackerCpuPct: 99, timeouts: 10 })])
  assert.match(notes[0]!, /tracker saturated .*otbench saturated/)
  assert.match(notes[1]!, /failed .*timeouts 10/)
  assert.match(workloadNotes('http.keepalive.announce', [run(100, [100], { connects: 100 })])[0]!, /closed connections/)
})

test('repro-10k sustains only with the mean and 90% of seconds at the rate', () => {
  assert.equal(reproVerdict(run(12_000, [12_000, 11_000, 13_000, 12_000, 12_000, 12_000, 12_000, 12_000, 12_000, 9_000]), 10_000).ok, true)
  assert.equal(reproVerdict(run(12_000, [15_000, 15_000, 9_000, 9_000]), 10_000).ok, false)
  assert.equal(reproVerdict(run(9_999, [9_999]), 10_000).ok, false)
})

test('the CI gate checks the UDP and HTTP floors and the RSS ceiling', () => {
  const parsed = parseArgs(['suite', '--spawn', 'x', '--gate'])
  assert.ok(parsed.kind === 'run')
  const r = report()
  r.figures.push({ name: 'udp.announce.rps', value: 50_000, unit: 'replies/s', better: 'higher', runs: [50_000] })
  r.figures.push({ name: 'http.keepalive.announce.rps', value: 9_000, unit: 'replies/s', better: 'higher', runs: [9_000] })
  r.figures.push({ name: 'preload.rss_per_peer', value: 150, unit: 'B', better: 'lower', runs: [150] })
  const checks = suiteChecks(r, parsed.options)
  assert.deepEqual(checks.map((c) => [c.name, c.ok]), [['udp.announce.floor', true], ['http.keepalive.announce.floor', false], ['preload.rss_per_peer.ceiling', true]])
  r.figures.pop()
  assert.equal(suiteChecks(r, parsed.options)[2]!.ok, false)
})

test('text report and chart show every workload', () => {
  const r = report()
  r.workloads['udp.announce'] = [run(80_000, [79_000, 81_000]), run(70_000, [70_000, 70_000])]
  r.figures.push(...workloadFigures('udp.announce', r.workloads['udp.announce']))
  r.checks.push({ name: 'c', ok: false, value: 1, limit: 2, text: 'a check' })
  const text = formatReport(r)
  assert.match(text, /udp\.announce\.rps +75\.0k replies\/s \(70\.0k–80\.0k\) +median of 2/)
  assert.match(text, /FAIL +a check/)
  const svg = reportChartSvg(r)
  assert.match(svg, /^<svg [^>]*width="880"/)
  assert.match(svg, />udp\.announce</)
  assert.match(svg, /<polyline /)
  assert.match(svg, /FAIL c/)
})
