// Self-test of the strict bencode decoder used by the conformance tests: it must accept exactly
// canonical bencode, so that "decodes" really means "valid".

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { asDict, asList, decodeStrict, getBytes, getInt } from './bencode-strict.js'

test('strict bencode: accepts canonical values', () => {
  const d = asDict(decodeStrict('d8:completei1e10:incompletei-2e4:listli0el1:aee5:peers0:e'))
  assert.equal(getInt(d, 'complete'), 1)
  assert.equal(getInt(d, 'incomplete'), -2)
  assert.equal(getBytes(d, 'peers').length, 0)
  assert.equal(asList(d.get('list')).length, 2)
  assert.deepEqual([...d.keys()], ['complete', 'incomplete', 'list', 'peers'])
  assert.deepEqual(decodeStrict('de'), new Map())
  assert.equal(decodeStrict('i0e'), 0)
})

test('strict bencode: binary keys are compared as raw bytes', () => {
  const k1 = Buffer.from([0x7f])
  const k2 = Buffer.from([0x80])
  const ok = Buffer.concat([Buffer.from('d1:'), k1, Buffer.from('i1e1:'), k2, Buffer.from('i2ee')])
  assert.equal(asDict(decodeStrict(ok)).size, 2)
  const bad = Buffer.concat([Buffer.from('d1:'), k2, Buffer.from('i1e1:'), k1, Buffer.from('i2ee')])
  assert.throws(() => decodeStrict(bad), /unsorted/)
})

test('strict bencode: rejects non-canonical or malformed input', () => {
  for (const [input, why] of [
    ['d1:bi1e1:ai2ee', /unsorted/],
    ['d1:ai1e1:ai2ee', /duplicate/],
    ['i01e', /non-canonical integer/],
    ['i-0e', /non-canonical integer/],
    ['ie', /non-canonical integer/],
    ['i1', /unterminated/],
    ['01:a', /non-canonical string length/],
    ['5:abc', /runs past the end/],
    ['i1ei2e', /trailing/],
    ['di1ei2ee', /not a byte string/],
    ['l', /unexpected end/],
    ['', /unexpected end/],
    ['x', /unexpected byte/],
    ['i99999999999999999999e', /safe range/],
  ] as const) {
    assert.throws(() => decodeStrict(input), why, JSON.stringify(input))
  }
})
