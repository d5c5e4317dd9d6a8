import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatCount, parseCount, parseDurationMs, parseMix, parsePercent } from '../src/units.js'

test('durations accept ms, s, m, h and bare seconds', () => {
  assert.equal(parseDurationMs('500ms'), 500)
  assert.equal(parseDurationMs('10s'), 10_000)
  assert.equal(parseDurationMs('10'), 10_000)
  assert.equal(parseDurationMs('1.5s'), 1500)
  assert.equal(parseDurationMs('2m'), 120_000)
  assert.equal(parseDurationMs('1h'), 3_600_000)
  assert.equal(parseDurationMs('ten'), undefined)
  assert.equal(parseDurationMs('-1s'), undefined)
  assert.equal(parseDurationMs('10x'), undefined)
})

test('counts accept k and M suffixes and reject fractions of one', () => {
  assert.equal(parseCount('1000'), 1000)
  assert.equal(parseCount('100k'), 100_000)
  assert.equal(parseCount('1M'), 1_000_000)
  assert.equal(parseCount('1.5k'), 1500)
  assert.equal(parseCount('1_000'), 1000)
  assert.equal(parseCount('0.5'), undefined)
  assert.equal(parseCount('1.00001k'), undefined)
  assert.equal(parseCount('k'), undefined)
  assert.equal(parseCount('-3'), undefined)
})

test('percentages become fractions, with or without the sign', () => {
  assert.equal(parsePercent('10%'), 0.1)
  assert.equal(parsePercent('10'), 0.1)
  assert.equal(parsePercent('0.5%'), 0.005)
  assert.equal(parsePercent('ten%'), undefined)
})

test('a mix is normalised in the order of its names, missing names weigh zero', () => {
  assert.deepEqual(parseMix('announce=80,scrape=20', ['announce', 'scrape']), [0.8, 0.2])
  assert.deepEqual(parseMix('scrape=1', ['announce', 'scrape']), [0, 1])
  assert.deepEqual(parseMix('started=5,none=90,completed=3,stopped=2', ['started', 'none', 'completed', 'stopped']), [0.05, 0.9, 0.03, 0.02])
})

test('a mix with unknown names, bad weights or no weight at all is an error text', () => {
  assert.equal(typeof parseMix('announce=1,bogus=2', ['announce', 'scrape']), 'string')
  assert.equal(typeof parseMix('announce', ['announce', 'scrape']), 'string')
  assert.equal(typeof parseMix('announce=-1', ['announce', 'scrape']), 'string')
  assert.equal(typeof parseMix('announce=0,scrape=0', ['announce', 'scrape']), 'string')
})

test('counts are formatted with k and M and three significant digits', () => {
  assert.equal(formatCount(999), '999')
  assert.equal(formatCount(1234), '1.23k')
  assert.equal(formatCount(78_100), '78.1k')
  assert.equal(formatCount(1_200_000), '1.20M')
  assert.equal(formatCount(2.25), '2.3')
})
