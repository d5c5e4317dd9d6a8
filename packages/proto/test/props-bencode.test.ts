/**
 * Property tests (fast-check) of the bencode reader/writer and of the /sync changeset codec (a
 * bencoded format with a reader of its own). Arbitrary bytes, damaged encodings, deep nesting and
 * huge lengths never throw and are accepted exactly when valid; encoder/decoder pairs round-trip;
 * decodeBencode agrees with the `bencode` package's decoder wherever that one is right.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import bencode from 'bencode'
import {
  BENCODE_MAX_DEPTH, decodeBencode, decodeChangeset, decodeChangesets, encodeBencode, encodeChangeset, validateBencode
} from '../src/index.js'
import type { ChangesetEntry } from '../src/index.js'
import { assertFast, bytes, bytesFrom, fixedBytes, mutated, params, propertySuite, rangeIn } from './fc-harness.js'
import type { Cases } from './fc-harness.js'
import { decodedRecords, expectedRecords } from './changeset-maps.js'

// ---------------------------------------------------------------------------------------------
// Bencode values in decodeBencode's shapes.

/** An object with exactly these own keys (even `__proto__`), later duplicates winning. */
function dictOf (pairs: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const d: Record<string, unknown> = {}
  for (const [k, v] of pairs) Object.defineProperty(d, k, { value: v, enumerable: true, writable: true, configurable: true })
  return d
}

/** Keys that come back as themselves: valid UTF-8 text without U+FFFD, and no leading BOM (TextDecoder drops it). */
const dictKey = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'failure reason', 'peers') }
).filter((k) => !k.includes('\uFFFD') && !k.startsWith('\uFEFF'))

const { value: bvalue } = fc.letrec<{ value: unknown, int: number, str: Uint8Array, list: unknown[], dict: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('int'), tie('str'), tie('list'), tie('dict')),
  int: fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(0, -1, 2 ** 53 - 1, -(2 ** 53 - 1))).map((n) => n === 0 ? 0 : n),
  str: fc.uint8Array({ maxLength: 40 }).map((u) => new Uint8Array(u)),
  list: fc.array(tie('value'), { maxLength: 5 }),
  dict: fc.array(fc.tuple(dictKey, tie('value')), { maxLength: 5 }).map(dictOf)
}))

const encodedValue = bvalue.map((v) => encodeBencode(v))

/** Bencode made of raw tokens: often valid, often subtly not. */
const bencodeShaped = fc.array(fc.oneof(
  fc.constantFrom('l', 'd', 'e', 'i0e', 'i-1e', 'i42e', '0:', '1:a', '3:abc', '9:__proto__', 'i-0e', 'i01e', 'ie', '2:a', '-1:', '01:a'),
  fc.integer({ min: -5, max: 40 }).map((n) => `${n}:${'x'.repeat(Math.max(0, n))}`),
  fc.nat().map((n) => `i${n}e`)
), { maxLength: 30 }).map((t) => Buffer.from(t.join(''), 'latin1'))

function onlySafeNumbers (v: unknown): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v)
  if (Array.isArray(v)) return v.every(onlySafeNumbers)
  if (v instanceof Uint8Array) return true
  return Object.values(v as Record<string, unknown>).every(onlySafeNumbers)
}

function checkBencode (b: Buffer): void {
  const err = validateBencode(b)
  const r = decodeBencode(b)
  assert.equal(r.ok, err === null)
  if (!r.ok) {
    assert.equal(r.error, err)
    assert.match(r.error, /offset \d+|empty input|unterminated/)
    return
  }
  // The package's decoder is right on valid input without __proto__ keys; ours must agree there.
  if (b.indexOf('__proto__') < 0) assert.deepStrictEqual(r.value, bencode.decode(b))
  if (onlySafeNumbers(r.value)) {
    const again = decodeBencode(encodeBencode(r.value))
    assert.ok(again.ok)
    assert.deepStrictEqual(again.value, r.value)
  }
}

// ---------------------------------------------------------------------------------------------
// Changesets.

/** A few fixed hashes, so that generated entries share hashes and get grouped. */
const HASHES = [0x00, 0x41, 0x7f, 0xff].map((v) => Buffer.alloc(20, v))
const changesetEntry: fc.Arbitrary<ChangesetEntry> = fc.record({
  infoHash: fc.oneof(fc.constantFrom(...HASHES), fixedBytes(20)),
  family: fc.constantFrom(4 as const, 6 as const),
  n: fc.integer({ min: 0, max: 6 }),
  fill: fc.integer({ min: 0, max: 255 })
}).map(({ infoHash, family, n, fill }) => {
  const records = Buffer.alloc(n * (family === 4 ? 8 : 20))
  for (let i = 0; i < records.length; i++) records[i] = (fill + i * 37) & 255
  return { infoHash, family, records }
})
const encodedChangeset = fc.array(changesetEntry, { maxLength: 12, size: 'medium' }).map((e) => encodeChangeset(e))

function checkChangeset (b: Buffer, offset: number, end: number): void {
  const r = decodeChangeset(b, offset, end)
  if (!r.ok) { assert.equal(typeof r.error, 'string'); return }
  assert.ok(r.end > offset && r.end <= end)
  // whatever the changeset reader accepts is well-formed bencode
  assert.equal(validateBencode(b.subarray(offset, r.end)), null)
  let peers = 0
  let seen6 = false
  const seen = new Set<string>()
  for (const t of r.torrents) {
    const size = t.family === 4 ? 8 : 20
    if (t.family === 6) seen6 = true
    else assert.ok(!seen6, 'a sync torrent after sync6')
    assert.ok(t.count >= 1 && Number.isInteger(t.count))
    assert.ok(offset < t.hashOffset && t.hashOffset + 20 < t.recordsOffset && t.recordsOffset + t.count * size < r.end)
    const key = `${t.family}:${b.toString('hex', t.hashOffset, t.hashOffset + 20)}`
    assert.ok(!seen.has(key), 'a hash twice in one section')
    seen.add(key)
    peers += t.count
  }
  assert.equal(r.peers, peers)
}

export const cases: Cases = {
  'decodeBencode / validateBencode: arbitrary, token-built and damaged input': () => {
    fc.assert(fc.property(fc.oneof(bytes(200), bytesFrom('ldei0123456789:-e', 200), bencodeShaped, mutated(encodedValue)), checkBencode), params(6000))
  },

  'decodeBencode: nesting is accepted to exactly BENCODE_MAX_DEPTH levels': () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 3 * BENCODE_MAX_DEPTH }), fc.constantFrom('l', 'd1:a'), fc.constantFrom('', 'i1e', '0:'), (k, open, inner) => {
      const b = Buffer.from(open.repeat(k) + inner + 'e'.repeat(k), 'latin1')
      // a dictionary level 'd1:a' needs a value: the next level or the innermost one
      const valid = inner !== '' ? k <= BENCODE_MAX_DEPTH : open === 'l' && k >= 1 && k <= BENCODE_MAX_DEPTH
      const r = decodeBencode(b)
      assert.equal(r.ok, valid, `${k} x ${open} ${inner}`)
      if (!valid && k > BENCODE_MAX_DEPTH) assert.match(r.ok ? '' : r.error, /nesting deeper/)
    }), params(1000))
  },

  'decode(encode(v)) is v and encode(decode(x)) is x, even for __proto__ keys': () => {
    fc.assert(fc.property(bvalue, (v) => {
      const x = encodeBencode(v)
      const r = decodeBencode(x)
      assert.ok(r.ok, r.ok ? '' : r.error)
      assert.deepStrictEqual(r.value, v)
      assert.ok(encodeBencode(r.value).equals(x))
    }), params(2000))
    const before = Object.keys(Object.prototype).length
    const r = decodeBencode(Buffer.from('d9:__proto__d8:injectedi1eee'))
    assert.ok(r.ok)
    const d = r.value as Record<string, unknown>
    assert.equal(Object.getPrototypeOf(d), Object.prototype)
    assert.deepEqual(Object.keys(d), ['__proto__'])
    assert.equal(d.injected, undefined)
    assert.equal(Object.keys(Object.prototype).length, before)
  },

  'decodeBencode is linear on MiBs of adversarial input': () => {
    // (Decoding only: comparing a million decoded values with deepStrictEqual is what would be slow.)
    const n = 1 << 20
    const inputs: Array<[string, Buffer]> = [
      ['1 MiB list of i1e', Buffer.from('l' + 'i1e'.repeat(Math.floor(n / 3)) + 'e', 'latin1')],
      ['1 MiB list of 0:', Buffer.from('l' + '0:'.repeat(n / 2) + 'e', 'latin1')],
      ['1 MiB of l', Buffer.alloc(n, 'l')],
      ['1 MiB of digits', Buffer.alloc(n, '9')],
      ['1 MiB integer', Buffer.from('i' + '9'.repeat(n) + 'e', 'latin1')],
      ['1 MiB length prefix', Buffer.from('9'.repeat(n) + ':x', 'latin1')],
      ['1 MiB dictionary', Buffer.from('d' + Array.from({ length: n / 16 }, (_, i) => `8:${String(i).padStart(8, '0')}i1e`).join('') + 'e', 'latin1')],
      ['1 MiB unclosed nesting', Buffer.from('l0:'.repeat(BENCODE_MAX_DEPTH) + '1:a'.repeat(n / 3), 'latin1')]
    ]
    for (const [what, b] of inputs) {
      assertFast(what, 3000, () => {
        const r = decodeBencode(b)
        assert.equal(r.ok, validateBencode(b) === null)
      })
    }
  },

  'decodeChangeset / decodeChangesets: arbitrary, shaped and damaged input, any range': () => {
    const shaped = bytesFrom('d4:syncde5:sync6d20:8:16:0123456789e', 200)
    fc.assert(fc.property(fc.oneof(bytes(200), shaped, mutated(encodedChangeset)), fc.nat(), fc.nat(), (b, x, y) => {
      checkChangeset(b, 0, b.length)
      const [start, end] = rangeIn(b.length, x, y)
      checkChangeset(b, start, end)
      const rs = decodeChangesets(b, start, end)
      if (rs.ok) {
        let at = start
        let peers = 0
        for (const c of rs.changesets) {
          assert.ok(/^[ \t\r\n]*$/.test(b.toString('latin1', at, c.start)), 'only whitespace between changesets')
          assert.ok(c.start < c.end && c.end <= end)
          peers += c.peers
          at = c.end
        }
        assert.ok(/^[ \t\r\n]*$/.test(b.toString('latin1', at, end)))
        assert.equal(rs.peers, peers)
      }
    }), params(5000))
    // out-of-range offsets and ends are errors, not exceptions
    fc.assert(fc.property(encodedChangeset, fc.integer({ min: -50, max: 500 }), fc.integer({ min: -50, max: 500 }), (b, o, e) => {
      const r = decodeChangeset(b, o, e)
      if (o < 0 || e > b.length) assert.equal(r.ok, false)
      decodeChangesets(b, o, e)
    }), params(1000))
  },

  'decodeChangeset(encodeChangeset(entries)) gives every record back, grouped by hash and family': () => {
    fc.assert(fc.property(fc.array(changesetEntry, { maxLength: 12, size: 'medium' }), (entries) => {
      const b = encodeChangeset(entries)
      const r = decodeChangeset(b)
      assert.ok(r.ok, r.ok ? '' : r.error)
      assert.equal(r.end, b.length)
      const got = decodedRecords(b, r.torrents)
      const order = [...got.keys()]
      assert.deepEqual(got, expectedRecords(entries))
      assert.deepEqual(order, [...order].sort(), 'sync before sync6, hashes ascending in each')
      assert.equal(r.peers, entries.reduce((n, e) => n + e.records.length / (e.family === 4 ? 8 : 20), 0))
      const bv = decodeBencode(b)
      assert.ok(bv.ok)
    }), params(1500))
  },

  'decodeChangesets: changesets back to back, with whitespace between, decode one by one': () => {
    fc.assert(fc.property(fc.array(fc.tuple(encodedChangeset, fc.constantFrom('', ' ', '\n', '\r\n', '\t \n')), { minLength: 1, maxLength: 6 }), (parts) => {
      const b = Buffer.concat(parts.flatMap(([c, ws]) => [c, Buffer.from(ws)]))
      const rs = decodeChangesets(b)
      assert.ok(rs.ok, rs.ok ? '' : rs.error)
      assert.equal(rs.changesets.length, parts.length)
      rs.changesets.forEach((c, k) => {
        const one = decodeChangeset(parts[k]![0])
        assert.ok(one.ok)
        assert.equal(c.end - c.start, parts[k]![0].length)
        assert.equal(c.peers, one.peers)
      })
    }), params(800))
  }
}

propertySuite('bencode and sync changesets', import.meta.url, cases)
