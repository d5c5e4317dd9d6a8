import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ENCODING_GZIP, ENCODING_IDENTITY, ENCODING_ZSTD, chooseEncoding, chooseEncodingText } from '../src/index.js'
import { int, mulberry32, pick, randomBytes, randomFrom } from './prng.js'

const I = ENCODING_IDENTITY
const G = ENCODING_GZIP
const Z = ENCODING_ZSTD

function both (value: string): [number, number] {
  return [chooseEncodingText(value, true), chooseEncodingText(value, false)]
}

describe('chooseEncoding', () => {
  const cases: Array<[string, number, number]> = [
    // value, with zstd allowed, without
    ['', I, I],
    ['identity', I, I],
    ['gzip', G, G],
    ['GZIP', G, G],
    ['x-gzip', G, G],
    ['X-Gzip', G, G],
    ['zstd', Z, I],
    ['ZSTD', Z, I],
    ['gzip, zstd', Z, G],
    ['zstd, gzip', Z, G],
    ['gzip, deflate, br, zstd', Z, G],
    ['gzip, deflate, br', G, G],
    ['deflate, br', I, I],
    ['gzip;q=1.0, zstd;q=0.9', G, G],
    ['gzip;q=0.5, zstd;q=0.6', Z, G],
    ['gzip;q=0.5, zstd;q=0.5', Z, G],
    ['gzip;q=0, zstd;q=0', I, I],
    ['gzip;q=0.001', G, G],
    ['gzip;q=0.5, identity', I, I],
    ['gzip;q=0.5, identity;q=0.5', G, G],
    ['gzip;q=0.4, identity;q=0.5', I, I],
    ['identity;q=0', I, I],
    ['identity;q=0, gzip;q=0.1', G, G],
    ['*', Z, G],
    ['*;q=0', I, I],
    ['*;q=0, gzip', G, G],
    ['*;q=0, identity', I, I],
    ['*, gzip;q=0', Z, I],
    ['*, zstd;q=0', G, G],
    ['*;q=0.5, gzip;q=0.4', Z, I],
    ['*;q=0.5, gzip;q=0.6', G, G],
    ['*;q=0.5, identity;q=1', I, I],
    ['zstd;q=0, gzip;q=0.1', G, G],
    ['gzip;q=0, gzip', G, G],
    ['gzip, gzip;q=0', G, G],
    ['x-gzip;q=0.3, gzip;q=0.2, zstd;q=0.25', G, G],
    // whitespace and empty elements
    ['  gzip  ', G, G],
    ['\tgzip\t,\tzstd', Z, G],
    [',,, gzip ,, ', G, G],
    ['gzip ; q=0.5 , zstd ; Q = 0.6', Z, G],
    ['gzip;Q=0', I, I],
    // qvalue grammar
    ['gzip;q=1', G, G],
    ['gzip;q=1.', G, G],
    ['gzip;q=1.000', G, G],
    ['gzip;q=0.', I, I],
    ['gzip;q=0.000', I, I],
    ['gzip;q=0.0001', I, I],
    ['gzip;q=1.001', I, I],
    ['gzip;q=2', I, I],
    ['gzip;q=-1', I, I],
    ['gzip;q=.5', I, I],
    ['gzip;q=', I, I],
    ['gzip;q', I, I],
    ['gzip;q="0.5"', I, I],
    ['gzip;', I, I],
    ['gzip;=1', I, I],
    ['gzip;q=0.5x', I, I],
    ['gzip;q=0,zstd;q=0;q=0.5', Z, I], // last q wins within an element
    ['zstd;q=0.5;q=0', I, I],
    // other parameters are tolerated
    ['gzip;level=9', G, G],
    ['gzip;foo="a,b;c";q=0.5, zstd;q=0.4', G, G],
    ['gzip;foo="a\\"b", zstd;q=0', G, G],
    ['gzip;foo="unterminated, zstd', I, I],
    // malformed elements are ignored, the rest still counts
    ['gz ip, zstd', Z, I],
    ['gzip zstd', I, I],
    ['"gzip", zstd', Z, I],
    ['gzip/1, zstd', Z, I],
    ['gzip;q=0.5;, zstd;q=0.1', Z, I],
    ['\u00e9gzip, gzip;q=0.2', G, G],
    ['gzipx, zstdx, identityx', I, I],
    ['**', I, I],
    ['*;q=0.9x', I, I]
  ]
  for (const [value, withZstd, withoutZstd] of cases) {
    it(`${JSON.stringify(value)} → ${withZstd}/${withoutZstd}`, () => {
      assert.deepEqual(both(value), [withZstd, withoutZstd])
    })
  }
  it('no header means identity', () => {
    assert.equal(chooseEncodingText(undefined), I)
    assert.equal(chooseEncodingText(undefined, true), I)
    assert.equal(chooseEncoding(Buffer.from('gzip'), -1, 4, true), I)
  })
  it('allows zstd by default in the text form', () => {
    assert.equal(chooseEncodingText('zstd'), Z)
  })
  it('reads only buf[start, end)', () => {
    const buf = Buffer.from('zstd, gzip;q=0.5, identity;q=0.1')
    assert.equal(chooseEncoding(buf, 6, 16, true), G) // "gzip;q=0.5"
    assert.equal(chooseEncoding(buf, 6, 12, true), I) // "gzip;q" is malformed
    assert.equal(chooseEncoding(buf, 0, 4, true), Z)
    assert.equal(chooseEncoding(buf, 0, 3, true), I) // "zst"
    assert.equal(chooseEncoding(buf, 0, 0, true), I)
    assert.equal(chooseEncoding(buf, 0, 1000, true), Z) // end past the buffer is clamped
    assert.equal(chooseEncoding(buf, 6, 1000, false), G)
  })
})

describe('chooseEncoding fuzz', () => {
  it('never throws and returns a known coding', () => {
    const rng = mulberry32(0xae)
    const alphabet = 'gzipx-zstdidentity*;q=0.15, \t"\\GZIPQ'
    for (let k = 0; k < 20000; k++) {
      const buf = rng() < 0.8
        ? randomFrom(rng, int(rng, 0, 60), alphabet)
        : randomBytes(rng, int(rng, 0, 40))
      const allowZstd = rng() < 0.5
      const start = rng() < 0.1 ? -1 : int(rng, 0, buf.length)
      const end = start < 0 ? 0 : int(rng, start, buf.length + 2)
      const e = chooseEncoding(buf, start, end, allowZstd)
      assert.ok(e === I || e === G || (allowZstd && e === Z), `${JSON.stringify(buf.toString('latin1'))} → ${e}`)
    }
  })
  it('agrees with a model on well-formed headers', () => {
    const rng = mulberry32(0xaf)
    const names = ['gzip', 'x-gzip', 'zstd', 'identity', '*', 'br', 'deflate']
    for (let k = 0; k < 5000; k++) {
      const q: Record<string, number> = {}
      const parts: string[] = []
      for (let n = int(rng, 0, 5); n > 0; n--) {
        const name = pick(rng, names)
        const weight = rng() < 0.4 ? 1000 : int(rng, 0, 1000)
        const key = name === 'x-gzip' ? 'gzip' : name
        q[key] = Math.max(q[key] ?? -1, weight)
        const w = weight === 1000 ? pick(rng, ['', ';q=1', ';q=1.0']) : `;q=${(weight / 1000).toFixed(3)}`
        parts.push(name + w)
      }
      const star = q['*']
      const gz = q.gzip ?? star ?? 0
      const zs = q.zstd ?? star ?? 0
      const id = q.identity ?? star ?? 1
      const allowZstd = rng() < 0.7
      let want = I
      if (allowZstd && zs > 0 && zs >= gz && zs >= id) want = Z
      else if (gz > 0 && gz >= id) want = G
      assert.equal(chooseEncodingText(parts.join(pick(rng, [',', ', ', ' ,\t'])), allowZstd), want, parts.join(','))
    }
  })
})
