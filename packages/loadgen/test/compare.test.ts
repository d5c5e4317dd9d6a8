import assert from 'node:assert/strict'
import { test } from 'node:test'
import { comparisonChartSvg } from '../src/chart.js'
import { compareFigures, formatComparison, worseBy } from '../src/compare.js'
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
