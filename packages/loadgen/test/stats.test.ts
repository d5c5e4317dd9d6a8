import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Prng } from '../src/prng.js'
import { HISTOGRAM_BUCKETS, Histogram, bucketLow, bucketOf, median, percentile } from '../src/stats.js'

test('every bucket starts where the previous one ends', () => {
  for (let i = 1; i < HISTOGRAM_BUCKETS; i++) {
    assert.ok(bucketLow(i) > bucketLow(i - 1))
    assert.equal(bucketOf(bucketLow(i)), i, `bucket ${i} low ${bucketLow(i)}`)
    assert.equal(bucketOf(bucketLow(i) - 0.5), i - 1)
  }
  assert.equal(bucketOf(-5), 0)
  assert.equal(bucketOf(1e12), HISTOGRAM_BUCKETS - 1)
})

test('histogram percentiles are within 4% of the exact ones', () => {
  const rng = new Prng(11)
  const h = new Histogram()
  const values: number[] = []
  for (let i = 0; i < 50_000; i++) {
    // Log-normal-ish latencies between ~20 µs and ~200 ms.
    const ms = Math.exp(-3 + 5 * rng.float() * rng.float()) + 0.02
    values.push(ms)
    h.recordMs(ms)
  }
  for (const p of [50, 90, 99, 99.9]) {
    const exact = percentile(values, p)
    const approx = h.percentileMs(p)
    assert.ok(Math.abs(approx - exact) / exact < 0.04, `p${p}: ${approx} vs ${exact}`)
  }
  assert.equal(h.max, Math.max(...values))
  assert.equal(h.total, 50_000)
})

test('an empty histogram has no percentiles and merging adds counts', () => {
  const a = new Histogram()
  assert.ok(Number.isNaN(a.percentileMs(50)))
  a.recordMs(1)
  const b = new Histogram()
  b.recordMs(3)
  b.recordMs(5)
  a.add(b)
  assert.equal(a.total, 3)
  assert.equal(a.max, 5)
  assert.ok(Math.abs(a.percentileMs(50) - 3) < 0.1)
  a.reset()
  assert.equal(a.total, 0)
})

test('percentile interpolates and median takes the middle of an odd or even list', () => {
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 3, 2]), 2.5)
  assert.equal(percentile([10, 20, 30, 40, 50], 0), 10)
  assert.equal(percentile([10, 20, 30, 40, 50], 100), 50)
  assert.equal(percentile([10, 20, 30, 40, 50], 25), 20)
  assert.ok(Number.isNaN(median([])))
})
