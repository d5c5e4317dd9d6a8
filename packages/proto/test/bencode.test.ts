import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BENCODE_MAX_DEPTH, decodeBencode, encodeBencode, validateBencode } from '../src/index.js'
import { int, mulberry32, pick, randomBytes, randomFrom } from './prng.js'
import type { Rng } from './prng.js'

const dec = (s: string): ReturnType<typeof decodeBencode> => decodeBencode(Buffer.from(s, 'latin1'))
const valid = (s: string): boolean => validateBencode(Buffer.from(s, 'latin1')) === null

describe('encodeBencode / decodeBencode', () => {
  it('encodes with sorted keys into a Buffer', () => {
    const b = encodeBencode({ z: 1, a: [Buffer.from('x'), 2], m: { k: 'v' } })
    assert.ok(Buffer.isBuffer(b))
    assert.equal(b.toString('latin1'), 'd1:al1:xi2ee1:md1:k1:ve1:zi1ee')
  })
  it('round-trips', () => {
    const r = decodeBencode(encodeBencode({ n: -5, s: Buffer.from([0, 255]), l: [] }))
    assert.ok(r.ok)
    const v = r.value as Record<string, unknown>
    assert.equal(v.n, -5)
    assert.deepEqual([...(v.s as Uint8Array)], [0, 255])
    assert.deepEqual(v.l, [])
  })
  it('accepts well-formed values, including unsorted and duplicate keys (opentracker scrape bodies)', () => {
    for (const s of ['i0e', 'i-1e', 'i42e', '0:', '4:spam', 'le', 'de', 'li1ei2ee', 'd1:ai1ee', 'd1:bi1e1:ai2ee',
      'd1:ai1e1:ai2ee', 'd5:filesdee', 'lli1eee', 'd1:ald1:xleeee']) {
      assert.equal(validateBencode(Buffer.from(s)), null, s)
      assert.ok(dec(s).ok, s)
    }
  })
})

describe('decodeBencode: exactly one complete value', () => {
  const rejects: Array<[string, string]> = [
    ['', 'empty input'], ['i1eXYZ', 'trailing bytes'], ['dei0e', 'trailing value'], ['d5:filesdeee', 'extra e'],
    ['4:sp', 'string past the end'], ['1:', 'string past the end'], ['5:ab', 'string past the end'],
    ['i1', 'unterminated integer'], ['ie', 'empty integer'], ['i-e', 'bare minus'], ['i-0e', 'negative zero'],
    ['i01e', 'leading zero'], ['i00e', 'leading zero'], ['i1.5e', 'non-digit'], ['i+1e', 'plus sign'], ['i--1e', 'double minus'],
    ['01:a', 'leading zero in length'], ['-1:a', 'negative length'], ['1a', 'missing colon'],
    ['99999999999999999999999:x', 'huge length'],
    ['l', 'unterminated list'], ['d', 'unterminated dict'], ['li1e', 'unterminated list'], ['e', 'lone e'],
    ['d1:ae', 'key without value'], ['di1ei2ee', 'integer key'], ['dlei1ee', 'list key'], ['d1:a1:b1:ce', 'dangling key'],
    ['x', 'unknown byte'], [' i1e', 'leading space'], ['i1e ', 'trailing space']
  ]
  for (const [s, why] of rejects) {
    it(`${JSON.stringify(s)} (${why}) → not ok`, () => {
      const r = dec(s)
      assert.equal(r.ok, false, `${JSON.stringify(s)} accepted`)
      if (!r.ok) assert.ok(r.error.length > 0)
      assert.notEqual(validateBencode(Buffer.from(s, 'latin1')), null)
    })
  }
  it(`nesting up to ${BENCODE_MAX_DEPTH} is accepted, deeper is not`, () => {
    const nest = (d: number): string => 'l'.repeat(d) + 'e'.repeat(d)
    assert.ok(valid(nest(BENCODE_MAX_DEPTH)))
    assert.ok(dec(nest(BENCODE_MAX_DEPTH)).ok)
    assert.equal(valid(nest(BENCODE_MAX_DEPTH + 1)), false)
    assert.equal(dec(nest(100000)).ok, false) // no stack overflow
    assert.equal(dec('d1:a'.repeat(50000)).ok, false)
  })
})

function genValue (rng: Rng, depth: number): unknown {
  const r = rng()
  if (depth > 4 || r < 0.3) return int(rng, -1e12, 1e12)
  if (r < 0.6) return randomBytes(rng, int(rng, 0, 12))
  if (r < 0.8) return Array.from({ length: int(rng, 0, 4) }, () => genValue(rng, depth + 1))
  const o: Record<string, unknown> = {}
  for (let k = int(rng, 0, 4); k > 0; k--) o[randomFrom(rng, int(rng, 0, 6), 'abcxyz ').toString('latin1').replace(/[^\x20-\x7e]/g, 'q')] = genValue(rng, depth + 1)
  return o
}

describe('bencode properties', () => {
  it('decode(encode(v)) round-trips and re-encodes identically', () => {
    const rng = mulberry32(808)
    for (let k = 0; k < 3000; k++) {
      const bytes = encodeBencode(genValue(rng, 0))
      assert.equal(validateBencode(bytes), null, bytes.toString('latin1'))
      const r = decodeBencode(bytes)
      assert.ok(r.ok)
      assert.deepEqual(encodeBencode(r.value), bytes)
      // any strict prefix or any extension by a byte is rejected
      const cut = int(rng, 0, bytes.length - 1)
      assert.equal(decodeBencode(bytes.subarray(0, cut)).ok, false, `prefix ${bytes.toString('latin1', 0, cut)}`)
      assert.equal(decodeBencode(Buffer.concat([bytes, Buffer.from([pick(rng, [0x65, 0x69, 0x30, 0x00, 0x6c])])])).ok, false)
    }
  })
  it('never throws on random bytes; ok only when the validator agrees', () => {
    const rng = mulberry32(909)
    let accepted = 0
    for (let k = 0; k < 30000; k++) {
      const b = rng() < 0.8 ? randomFrom(rng, int(rng, 0, 30), 'ildee0123456789:-ie') : randomBytes(rng, int(rng, 0, 30))
      const r = decodeBencode(b)
      if (r.ok) {
        accepted++
        assert.equal(validateBencode(b), null)
      } else {
        assert.equal(typeof r.error, 'string')
      }
    }
    assert.ok(accepted > 20, `only ${accepted} accepted`)
  })
})
