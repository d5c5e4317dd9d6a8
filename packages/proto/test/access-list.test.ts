import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { accessListLineHash, formatAccessList, parseAccessList, parseHashHex } from '../src/index.js'
import { int, mulberry32, pick, randomBytes, randomFrom } from './prng.js'

const A = '0123456789abcdef0123456789abcdef01234567'
const B = 'FEDCBA9876543210FEDCBA9876543210FEDCBA98'
const C = '0000000000000000000000000000000000000000'

function parse (text: string): { hex: string[], count: number, rejected: number } {
  const r = parseAccessList(Buffer.from(text, 'latin1'))
  assert.equal(r.hashes.length, r.count * 20)
  const hex: string[] = []
  for (let k = 0; k < r.count; k++) hex.push(r.hashes.toString('hex', k * 20, k * 20 + 20))
  return { hex, count: r.count, rejected: r.rejected }
}

describe('parseAccessList', () => {
  it('accepts one hash per line, either case, sorted and de-duplicated', () => {
    const r = parse(`${B}\n${A}\n${A.toUpperCase()}\n${C}\n${B.toLowerCase()}\n`)
    assert.deepEqual(r.hex, [C, A, B.toLowerCase()])
    assert.equal(r.count, 3)
    assert.equal(r.rejected, 0)
  })
  it('handles an empty file, blank lines and comments', () => {
    assert.deepEqual(parse(''), { hex: [], count: 0, rejected: 0 })
    assert.deepEqual(parse('\n\n\r\n  \t\n'), { hex: [], count: 0, rejected: 0 })
    assert.deepEqual(parse(`# list\n#${A}\n  # indented comment\n\n${A}\n`), { hex: [A], count: 1, rejected: 0 })
  })
  it('ignores whatever follows a non-hex 41st byte', () => {
    const r = parse(`${A} comment\n${B}\tx\n${C}:1:2\n`)
    assert.deepEqual(r.hex, [C, A, B.toLowerCase()])
    assert.equal(r.rejected, 0)
  })
  it('handles CRLF and a last line without a newline', () => {
    assert.deepEqual(parse(`${A}\r\n${B}`).hex, [A, B.toLowerCase()])
    assert.deepEqual(parse(`${A}\r\n${B}\r\n`).hex, [A, B.toLowerCase()])
    assert.deepEqual(parse(A).hex, [A])
    assert.deepEqual(parse(`${A}\r`).hex, [A])
  })
  it('rejects run-together hashes, short lines, bad digits and leading whitespace', () => {
    const r = parse([
      A + B, // 80 hex digits
      A + '0', // 41 hex digits
      A.slice(0, 39), // short
      A.slice(0, 39) + 'g', // a non-hex digit
      ' ' + A, // leading whitespace, as opentracker
      'x' + A,
      'garbage',
      '\0',
      C
    ].join('\n'))
    assert.deepEqual(r.hex, [C])
    assert.equal(r.rejected, 8)
  })
  it('counts a short last line without newline as rejected', () => {
    assert.deepEqual(parse(`${A}\n0123`), { hex: [A], count: 1, rejected: 1 })
  })
  it('sorts bytewise (unsigned)', () => {
    const hi = 'ff' + '00'.repeat(19)
    const lo = '7f' + 'ff'.repeat(19)
    assert.deepEqual(parse(`${hi}\n${lo}\n`).hex, [lo, hi])
  })
  it('agrees with a model on random lists', () => {
    const rng = mulberry32(0xacc)
    for (let round = 0; round < 200; round++) {
      const pool: string[] = []
      for (let k = int(rng, 1, 20); k > 0; k--) pool.push(randomBytes(rng, 20).toString('hex'))
      const lines: string[] = []
      const want = new Set<string>()
      let rejected = 0
      for (let k = int(rng, 0, 60); k > 0; k--) {
        const h = pick(rng, pool)
        const kind = int(rng, 0, 6)
        if (kind <= 2) {
          lines.push((rng() < 0.5 ? h : h.toUpperCase()) + pick(rng, ['', ' # c', '\r', '\tz', ':x']))
          want.add(h)
        } else if (kind === 3) {
          lines.push(pick(rng, ['', '   ', '#', '# ' + h, '\t#x', '\r']))
        } else if (kind === 4) {
          lines.push(h + pick(rng, ['0', 'a', 'F']) + pick(rng, ['', ' x']))
          rejected++
        } else if (kind === 5) {
          lines.push(h.slice(0, int(rng, 1, 39)))
          rejected++
        } else {
          lines.push(pick(rng, [' ', 'x', '-', '\0']) + h)
          rejected++
        }
      }
      const text = lines.join(rng() < 0.5 ? '\n' : '\r\n') + (rng() < 0.5 ? '\n' : '')
      const r = parse(text)
      assert.deepEqual(r.hex, [...want].sort())
      assert.equal(r.rejected, rejected)
    }
  })
  it('never throws on random bytes and keeps its invariants (fuzz)', () => {
    const rng = mulberry32(0xf00d)
    for (let k = 0; k < 3000; k++) {
      const buf = rng() < 0.5
        ? randomFrom(rng, int(rng, 0, 300), '0123456789abcdefABCDEF\n\r #\t')
        : randomBytes(rng, int(rng, 0, 200))
      const r = parseAccessList(buf)
      assert.equal(r.hashes.length, r.count * 20)
      for (let i = 1; i < r.count; i++) {
        assert.ok(Buffer.compare(r.hashes.subarray((i - 1) * 20, i * 20), r.hashes.subarray(i * 20, i * 20 + 20)) < 0)
      }
      const lines = buf.toString('latin1').split('\n').length
      assert.ok(r.count + r.rejected <= lines)
      // formatting and parsing again is the identity
      const again = parseAccessList(Buffer.from(formatAccessList(r.hashes, r.count), 'latin1'))
      assert.deepEqual(again.hashes, r.hashes)
      assert.equal(again.rejected, 0)
    }
  })
})

describe('formatAccessList', () => {
  it('writes lowercase lines', () => {
    const r = parseAccessList(Buffer.from(`${B}\n${A}\n`))
    assert.equal(formatAccessList(r.hashes, r.count), `${A}\n${B.toLowerCase()}\n`)
  })
  it('handles zero and out-of-range counts', () => {
    const two = Buffer.alloc(40, 0xab)
    assert.equal(formatAccessList(Buffer.alloc(0), 0), '')
    assert.equal(formatAccessList(two, 0), '')
    assert.equal(formatAccessList(two, 1), 'ab'.repeat(20) + '\n')
    assert.equal(formatAccessList(two, 5), ('ab'.repeat(20) + '\n').repeat(2))
    assert.equal(formatAccessList(two, -1), '')
  })
})

describe('parseHashHex', () => {
  it('parses 40 hex digits in either case', () => {
    assert.deepEqual(parseHashHex(A), Buffer.from(A, 'hex'))
    assert.deepEqual(parseHashHex(B), Buffer.from(B, 'hex'))
    assert.deepEqual(parseHashHex('aBcD'.repeat(10)), Buffer.from('abcd'.repeat(10), 'hex'))
  })
  for (const bad of ['', A.slice(0, 39), A + '0', A.slice(0, 39) + 'g', ' ' + A.slice(1), A.slice(0, 39) + ' ',
    A.slice(0, 39) + '\n', '0x' + A.slice(2), 'é'.repeat(40), '\u0660'.repeat(40)]) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseHashHex(bad), null))
  }
  it('never throws (fuzz)', () => {
    const rng = mulberry32(0x4a54)
    for (let k = 0; k < 5000; k++) {
      const s = randomFrom(rng, rng() < 0.5 ? 40 : int(rng, 0, 45), '0123456789abcdefABCDEFgG ').toString('latin1')
      const h = parseHashHex(s)
      if (h !== null) assert.equal(h.toString('hex'), s.toLowerCase())
      else assert.ok(s.length !== 40 || !/^[0-9a-fA-F]{40}$/.test(s))
    }
  })
})

describe('accessListLineHash: one line, the file rule', () => {
  const H = '0123456789abcdefABCDEF0123456789abcdef01'
  it('accepts exactly what parseAccessList accepts, line by line', () => {
    const rnd = mulberry32(4711)
    const alphabet = ['0', 'a', 'F', 'g', ' ', '#', '\r', '\t', 'z']
    for (let n = 0; n < 3000; n++) {
      const base = rnd() < 0.7 ? H.slice(0, 40 - int(rnd, 0, 2)) : ''
      let line = base
      for (let k = int(rnd, 0, 4); k > 0; k--) line += pick(rnd, alphabet)
      const whole = parseAccessList(Buffer.from(line, 'latin1'))
      const one = accessListLineHash(line)
      assert.equal(one === null, whole.count === 0, JSON.stringify(line))
      if (one !== null) assert.deepEqual(one, whole.hashes.subarray(0, 20))
    }
  })
  it('examples', () => {
    assert.equal(accessListLineHash(H)?.toString('hex'), H.toLowerCase())
    assert.equal(accessListLineHash(`${H} comment`)?.toString('hex'), H.toLowerCase())
    assert.equal(accessListLineHash(`${H}\r`)?.toString('hex'), H.toLowerCase())
    assert.equal(accessListLineHash(`${H}0`), null)
    assert.equal(accessListLineHash(` ${H}`), null)
    assert.equal(accessListLineHash(H.slice(1)), null)
  })
})
