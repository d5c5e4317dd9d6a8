import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConnectionIds } from '../../src/udp/connection-id.js'

const v4 = new Uint32Array([0x7f000001])
const other = new Uint32Array([0x7f000002])
const v6 = new Uint32Array([0x20010db8, 0, 0, 1])

test('a connection id is accepted at once and until its maximum age, then rejected', () => {
  const ids = new ConnectionIds(300)
  const now = 1_700_000_000
  const low = ids.make(now, 4, v4)
  const high = ids.high
  assert.equal(ids.check(now, high, low, 4, v4), true)
  assert.equal(ids.check(now + 120, high, low, 4, v4), true)
  assert.equal(ids.check(now + 300, high, low, 4, v4), true)
  assert.equal(ids.check(now + 301, high, low, 4, v4), false)
})

test('a connection id is bound to the client address and to the issuing process key', () => {
  const ids = new ConnectionIds()
  const now = 1_700_000_000
  const low = ids.make(now, 4, v4)
  const high = ids.high
  assert.equal(ids.check(now, high, low, 4, other), false)
  assert.equal(ids.check(now, high, (low ^ 1) >>> 0, 4, v4), false)
  assert.equal(new ConnectionIds().check(now, high, low, 4, v4), false, 'another key must not accept it')
  const low6 = ids.make(now, 6, v6)
  assert.equal(ids.check(now, ids.high, low6, 6, v6), true)
  assert.equal(ids.check(now, ids.high, low6, 6, new Uint32Array([0x20010db8, 0, 0, 2])), false)
})

test('a connection id claiming a future issue time is rejected', () => {
  const ids = new ConnectionIds()
  const now = 1_700_000_000
  const low = ids.make(now + 60, 4, v4)
  assert.equal(ids.check(now, ids.high, low, 4, v4), false)
})
