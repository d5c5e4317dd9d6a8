import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseDurationMs } from '../../src/lib/duration.js'
import { formatBytes, formatCount, formatDuration, formatTable } from '../../src/lib/format.js'
import { parseMetrics } from '../../src/lib/stats/render.js'

describe('human output', () => {
  test('bytes in binary units, durations in d/h/m/s, counts with separators', () => {
    assert.equal(formatBytes(512), '512 B')
    assert.equal(formatBytes(1536), '1.5 KiB')
    assert.equal(formatBytes(68 * 1024 * 1024), '68.0 MiB')
    assert.equal(formatDuration(7), '7s')
    assert.equal(formatDuration(125), '2m 05s')
    assert.equal(formatDuration(93784), '1d 2h 03m')
    assert.equal(formatCount(1234567), '1,234,567')
  })

  test('tables right-align numeric columns and left-align the rest', () => {
    assert.equal(formatTable([['a', '1'], ['bcd', '1,000']], ['name', 'n']), 'name      n\na         1\nbcd   1,000')
  })

  test('durations accept ms, s, m and bare seconds; anything else is bad input', () => {
    assert.equal(parseDurationMs('500ms', 't'), 500)
    assert.equal(parseDurationMs('1.5', 't'), 1500)
    assert.equal(parseDurationMs('2m', 't'), 120000)
    assert.throws(() => parseDurationMs('0', 't'))
    assert.throws(() => parseDurationMs('soon', 't'))
  })

  test('Prometheus text is parsed into names, labels and values', () => {
    assert.deepEqual(parseMetrics('# HELP x\notd_peers{family="ipv4"} 3\notd_torrents 2\n'), [
      { name: 'otd_peers', labels: { family: 'ipv4' }, value: 3 },
      { name: 'otd_torrents', labels: {}, value: 2 }
    ])
  })
})
