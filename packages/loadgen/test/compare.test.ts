import assert from 'node:assert/strict'
import { test } from 'node:test'
import { comparisonChartSvg } from '../src/chart.js'
import { compareFigures, formatComparison, formatComparisons, worseBy } from '../src/compare.js'
import type { Figure } from '../src/report.js'

const fig = (name: string, value: number, better: 'higher' | 'lower', info = false): Figure =>
  info ? { name, value, unit: 'x', better, runs: [value], info } : { name, value, unit: 'x', better, runs: [value] }

test('worse is measured against the base in the figure\'s own direction', () => {
  assert.equal(worseBy('higher', 100, 80), 0.2)
  assert.equal(worseBy('higher', 100, 120), -0.2)
  assert.equal(worseBy('lower', 100, 120), 0.2)
  assert.equal(worseBy('lower', 100, 80), -0.2)
  assert.equal(worseBy('higher', 0, 0), 0)
})

test('a throughput drop beyond the allowance regresses, one within it does not', () => {
  const base = [fig('udp.rps', 100_000, 'higher'), fig('http.rps', 50_000, 'higher')]
  const current = [fig('udp.rps', 89_000, 'higher'), fig('http.rps', 46_000, 'higher')]
  const c = compareFigures(base, current, 0.1)
  assert.deepEqual(c.regressions.map((r) => r.name), ['udp.rps'])
  assert.ok(Math.abs(c.rows[0]!.ratio - 0.89) < 1e-9)
})

test('more memory or CPU per request beyond the allowance regresses', () => {
  const c = compareFigures([fig('rss', 200, 'lower'), fig('cpu', 10, 'lower')], [fig('rss', 230, 'lower'), fig('cpu', 10.5, 'lower')], 0.1)
  assert.deepEqual(c.regressions.map((r) => r.name), ['rss'])
})

test('exactly the allowed regression passes', () => {
  const c = compareFigures([fig('a', 100, 'higher')], [fig('a', 90, 'higher')], 0.1)
  assert.equal(c.regressions.length, 0)
})

test('informational figures never fail a comparison', () => {
  const c = compareFigures([fig('p99', 1, 'lower', true)], [fig('p99', 10, 'lower', true)], 0.1)
  assert.equal(c.regressions.length, 0)
  assert.equal(c.rows[0]!.info, true)
})

test('figures present on one side only are listed, and --only filters by prefix', () => {
  const c = compareFigures([fig('udp.rps', 1, 'higher'), fig('old', 1, 'higher')], [fig('udp.rps', 1, 'higher'), fig('new', 1, 'higher')], 0.1)
  assert.deepEqual(c.onlyInBase, ['old'])
  assert.deepEqual(c.onlyInCurrent, ['new'])
  const only = compareFigures([fig('udp.rps', 100, 'higher'), fig('http.rps', 100, 'higher')], [fig('udp.rps', 1, 'higher'), fig('http.rps', 100, 'higher')], 0.1, ['http.'])
  assert.equal(only.rows.length, 1)
  assert.equal(only.regressions.length, 0)
})

test('the comparison table names regressions and the chart marks them red', () => {
  const c = compareFigures([fig('udp.rps', 100, 'higher'), fig('rss', 100, 'lower')], [fig('udp.rps', 50, 'higher'), fig('rss', 80, 'lower')], 0.1)
  const text = formatComparison(c, 'base', 'new')
  assert.match(text, /udp\.rps .*REGRESSED \(50\.0% worse\)/)
  assert.match(text, /rss .*better \(20\.0%\)/)
  assert.match(text, /1 figure\(s\) regressed by more than 10%: udp\.rps/)
  const svg = comparisonChartSvg(c, 'base <1>', 'new')
  assert.match(svg, /^<svg /)
  assert.match(svg, /#d62728/)
  assert.match(svg, /base &lt;1&gt;/)
  assert.match(svg, /<\/svg>\n$/)
})

test('against several bases, one table has a column and a ratio per base, and a figure a base lacks shows -', () => {
  const otd = [fig('udp.rps', 50, 'higher'), fig('rss', 60, 'lower'), fig('http.keepalive.rps', 40, 'higher'), fig('p99', 2, 'lower', true)]
  const ot = [fig('udp.rps', 100, 'higher'), fig('rss', 30, 'lower'), fig('p99', 1, 'lower', true)]
  const btt = [fig('udp.rps', 10, 'higher'), fig('rss', 300, 'lower'), fig('http.keepalive.rps', 8, 'higher'), fig('p99', 9, 'lower', true)]
  const cs = [compareFigures(ot, otd, 0.1), compareFigures(btt, otd, 0.1)]
  const lines = formatComparisons(cs, ['opentracker', 'bittorrent-tracker'], 'otd').split('\n')
  assert.match(lines[0]!, /^figure\s+unit\s+opentracker\s+bittorrent-tracker\s+otd\s+otd\/opentracker\s+otd\/bittorrent-tracker$/)
  const row = (name: string): string[] => lines.find((l) => l.startsWith(name + ' '))!.trim().split(/\s{2,}/)
  assert.deepEqual(row('udp.rps'), ['udp.rps', 'x', '100', '10', '50', '0.500', '5.000', 'REGRESSED vs opentracker (50.0% worse); better than bittorrent-tracker (400.0%)'])
  assert.deepEqual(row('rss'), ['rss', 'x', '30', '300', '60', '2.000', '0.200', 'REGRESSED vs opentracker (100.0% worse); better than bittorrent-tracker (80.0%)'])
  assert.deepEqual(row('http.keepalive.rps'), ['http.keepalive.rps', 'x', '-', '8', '40', '-', '5.000', 'better than bittorrent-tracker (400.0%)'])
  assert.deepEqual(row('p99'), ['p99', 'x', '1', '9', '2', '2.000', '0.222', 'info'])
  const zero = formatComparisons([compareFigures(ot, otd, 0.1), compareFigures([fig('udp.rps', 0, 'higher')], otd, 0.1)], ['opentracker', 'bittorrent-tracker'], 'otd')
  assert.match(zero, /udp\.rps .* 0\.500 +- +REGRESSED vs opentracker \(50\.0% worse\); better than bittorrent-tracker \(base 0\)/)
  assert.ok(lines.includes('not in opentracker: http.keepalive.rps'))
  assert.ok(lines.includes('against opentracker: 2 figure(s) regressed by more than 10%: udp.rps, rss'))
  assert.ok(lines.includes('against bittorrent-tracker: no figure regressed by more than 10%'))
  assert.equal(formatComparisons([cs[0]!], ['opentracker'], 'otd'), formatComparison(cs[0]!, 'opentracker', 'otd'))
})
