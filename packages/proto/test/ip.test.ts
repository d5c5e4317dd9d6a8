import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  FAMILY_INVALID, FAMILY_V4, FAMILY_V6, formatIPv4, formatIPv6, parseAddress, parseIPv4, parseIPv6
} from '../src/index.js'
import { int, mulberry32, u32 } from './prng.js'

function v6 (s: string): number[] | null {
  const out = [0, 0, 0, 0]
  return parseIPv6(s, out) ? out : null
}

function addr (s: string): { family: number, words: number[] } {
  const out = [0, 0, 0, 0]
  const family = parseAddress(s, out)
  return { family, words: out }
}

describe('parseIPv4', () => {
  it('accepts dotted quads', () => {
    assert.equal(parseIPv4('0.0.0.0'), 0)
    assert.equal(parseIPv4('1.2.3.4'), 0x01020304)
    assert.equal(parseIPv4('127.0.0.1'), 0x7f000001)
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff)
    assert.equal(parseIPv4('192.168.001.010'), 0xc0a8010a)
  })
  it('is unsigned for high addresses', () => {
    assert.equal(parseIPv4('200.1.2.3'), 0xc8010203)
    assert.ok(parseIPv4('255.0.0.0') > 0)
  })
  it('honours start/end', () => {
    assert.equal(parseIPv4('xx10.0.0.1yy', 2, 10), 0x0a000001)
  })
  for (const bad of ['', '1', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.256', '1.2.3.1000', '1.2.3.0255',
    '.1.2.3', '1.2.3.', '.1.2.3.4', '1.2.3.4.', '1..2.3', '1.2.3.a', ' 1.2.3.4', '1.2.3.4 ', '-1.2.3.4',
    '1.2.3.+4', '::1', '1.2.3.4%eth0']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseIPv4(bad), -1))
  }
})

describe('parseIPv6', () => {
  const good: Array<[string, number[]]> = [
    ['::', [0, 0, 0, 0]],
    ['::1', [0, 0, 0, 1]],
    ['1::', [0x00010000, 0, 0, 0]],
    ['1::2', [0x00010000, 0, 0, 2]],
    ['fe80::1', [0xfe800000, 0, 0, 1]],
    ['fe80::1%eth0', [0xfe800000, 0, 0, 1]],
    ['FE80::ABCD:1', [0xfe800000, 0, 0, 0xabcd0001]],
    ['2001:db8:0:0:1:0:0:1', [0x20010db8, 0, 0x00010000, 1]],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', [0x20010db8, 0x85a30000, 0x00008a2e, 0x03707334]],
    ['1:2:3:4:5:6:7:8', [0x00010002, 0x00030004, 0x00050006, 0x00070008]],
    ['1:2:3:4:5:6:7::', [0x00010002, 0x00030004, 0x00050006, 0x00070000]],
    ['::2:3:4:5:6:7:8', [0x00000002, 0x00030004, 0x00050006, 0x00070008]],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]],
    ['::ffff:1.2.3.4', [0, 0, 0xffff, 0x01020304]],
    ['::1.2.3.4', [0, 0, 0, 0x01020304]],
    ['64:ff9b::192.0.2.33', [0x0064ff9b, 0, 0, 0xc0000221]],
    ['1:2:3:4:5:6:1.2.3.4', [0x00010002, 0x00030004, 0x00050006, 0x01020304]],
    ['1::5:6:1.2.3.4', [0x00010000, 0, 0x00050006, 0x01020304]]
  ]
  for (const [s, words] of good) {
    it(`parses ${s}`, () => assert.deepEqual(v6(s), words))
  }
  const bad = [
    '', ':', ':::', '1', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
    '1::2::3', '::1::', '1:::2', ':1::2', '1::2:', '1:2:3:4:5:6:7:8:', ':1:2:3:4:5:6:7:8',
    'g::1', '12345::', '1:2:3:4:5:6:7:x', '::fffff', '1.2.3.4', '::1.2.3', '::1.2.3.256', '::1.2.3.4.5',
    '::1.2.3.4:1', '1:2:3:4:5:6:7:1.2.3.4', '::1:2:3:4:5:6:1.2.3.4', '1.2.3.4::', '::.1.2.3', '::1.2.3.4.',
    ' ::1', '::1 ', '%eth0', '1:2:3:4:5:6:7:8:%x'
  ]
  for (const s of bad) {
    it(`rejects ${JSON.stringify(s)}`, () => assert.equal(v6(s), null))
  }
  it('writes into a Uint32Array and honours start/end', () => {
    const out = new Uint32Array(4)
    assert.equal(parseIPv6('[2001:db8::7]', out, 1, 12), true)
    assert.deepEqual([...out], [0x20010db8, 0, 0, 7])
  })
  it('honours end: a colon just past end is not part of the address', () => {
    // "1:" and "1:2:3:4:5:6:7:" are malformed; the ':' that follows in the string must not turn them into "::"
    assert.equal(parseIPv6('1::', [0, 0, 0, 0], 0, 2), false)
    assert.equal(parseIPv6('1:2:3:4:5:6:7::', [0, 0, 0, 0], 0, 14), false)
    assert.equal(parseIPv6('x fe80::1 y', [0, 0, 0, 0], 2, 7), false) // "fe80:"
  })
  it('parseIPv6(s, start, end) agrees with parseIPv6(s.slice(start, end)) on random text', () => {
    const rng = mulberry32(0x51ce)
    const alphabet = '0123456789abcdef:.%'
    const a = [0, 0, 0, 0]
    const b = [0, 0, 0, 0]
    for (let n = 0; n < 20000; n++) {
      const words = [u32(rng), rng() < 0.5 ? 0 : u32(rng), 0, u32(rng)]
      let s = formatIPv6(words)
      if (rng() < 0.5) s = s + ':' + formatIPv6(words)
      if (rng() < 0.3) { const k = int(rng, 0, s.length - 1); s = s.slice(0, k) + alphabet[int(rng, 0, alphabet.length - 1)] + s.slice(k + 1) }
      const start = int(rng, 0, s.length)
      const end = int(rng, start, s.length)
      const ra = parseIPv6(s, a, start, end)
      const rb = parseIPv6(s.slice(start, end), b)
      assert.equal(ra, rb, `${JSON.stringify(s)} [${start}, ${end}) = ${JSON.stringify(s.slice(start, end))}`)
      if (ra) assert.deepEqual(a, b)
      assert.equal(parseIPv4(s, start, end), parseIPv4(s.slice(start, end)))
    }
  })
  it('does not leak groups from a previous call', () => {
    assert.deepEqual(v6('1:2:3:4:5:6:7:8'), [0x00010002, 0x00030004, 0x00050006, 0x00070008])
    assert.deepEqual(v6('9::'), [0x00090000, 0, 0, 0])
    assert.deepEqual(v6('::9'), [0, 0, 0, 9])
  })
})

describe('parseAddress', () => {
  it('IPv4 text is family 4', () => {
    assert.deepEqual(addr('10.1.2.3'), { family: FAMILY_V4, words: [0x0a010203, 0, 0, 0] })
  })
  it('v4-mapped IPv6 is family 4', () => {
    assert.equal(addr('::ffff:1.2.3.4').family, FAMILY_V4)
    assert.equal(addr('::ffff:1.2.3.4').words[0], 0x01020304)
    assert.equal(addr('::FFFF:0102:0304').family, FAMILY_V4)
    assert.equal(addr('::ffff:0102:0304').words[0], 0x01020304)
    assert.equal(addr('0:0:0:0:0:ffff:255.255.255.255').words[0], 0xffffffff)
  })
  it('other IPv6 is family 6', () => {
    assert.deepEqual(addr('::'), { family: FAMILY_V6, words: [0, 0, 0, 0] })
    assert.deepEqual(addr('::1'), { family: FAMILY_V6, words: [0, 0, 0, 1] })
    assert.deepEqual(addr('1::'), { family: FAMILY_V6, words: [0x00010000, 0, 0, 0] })
    assert.deepEqual(addr('fe80::1%eth0'), { family: FAMILY_V6, words: [0xfe800000, 0, 0, 1] })
    assert.equal(addr('::1.2.3.4').family, FAMILY_V6) // IPv4-compatible, not mapped
    assert.equal(addr('::fffe:1.2.3.4').family, FAMILY_V6)
    assert.equal(addr('1::ffff:1.2.3.4').family, FAMILY_V6)
  })
  for (const s of ['', 'localhost', '1.2.3', '256.0.0.1', '1.2.3.4.', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', 'x']) {
    it(`rejects ${JSON.stringify(s)}`, () => assert.equal(addr(s).family, FAMILY_INVALID))
  }
})

describe('formatIPv4', () => {
  it('formats words', () => {
    assert.equal(formatIPv4(0), '0.0.0.0')
    assert.equal(formatIPv4(0x7f000001), '127.0.0.1')
    assert.equal(formatIPv4(0xffffffff), '255.255.255.255')
    assert.equal(formatIPv4(0xc0a8010a), '192.168.1.10')
    assert.equal(formatIPv4(-1), '255.255.255.255') // signed input is treated as unsigned
  })
})

describe('formatIPv6 (RFC 5952)', () => {
  const cases: Array<[number[], string]> = [
    [[0, 0, 0, 0], '::'],
    [[0, 0, 0, 1], '::1'],
    [[0x00010000, 0, 0, 0], '1::'],
    [[0x20010db8, 0, 0, 1], '2001:db8::1'],
    // lowercase, no leading zeros
    [[0x20010db8, 0x85a30000, 0x00008a2e, 0x03707334], '2001:db8:85a3::8a2e:370:7334'],
    [[0xabcdef01, 0x23456789, 0xabcdef01, 0x23456789], 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    // a single zero group is not compressed
    [[0x20010db8, 0x00000001, 0x00010001, 0x00010001], '2001:db8:0:1:1:1:1:1'],
    [[0x00010000, 0x00020003, 0x00040005, 0x00060007], '1:0:2:3:4:5:6:7'],
    // the longest run wins
    [[0x20010000, 0x00000001, 0x00000000, 0x00000001], '2001:0:0:1::1'],
    // on a tie the first run wins
    [[0x20010db8, 0x00000000, 0x00010000, 0x00000001], '2001:db8::1:0:0:1'],
    [[0x00000000, 0x00010000, 0x00000001, 0x00000000], '::1:0:0:1:0:0'],
    [[0x00010002, 0x00030004, 0x00050006, 0x00070000], '1:2:3:4:5:6:7:0'],
    [[0x00010002, 0x00030004, 0x00050006, 0x00000000], '1:2:3:4:5:6::'],
    [[0xfe800000, 0, 0, 1], 'fe80::1'],
    [[0, 0, 0xffff, 0x01020304], '::ffff:102:304']
  ]
  for (const [words, text] of cases) {
    it(`formats ${text}`, () => assert.equal(formatIPv6(words), text))
  }
  it('honours offset', () => {
    assert.equal(formatIPv6(new Uint32Array([9, 9, 0x20010db8, 0, 0, 1]), 2), '2001:db8::1')
  })
})

describe('round-trip properties', () => {
  it('parseIPv4(formatIPv4(w)) === w', () => {
    const rng = mulberry32(0x1234)
    for (let n = 0; n < 20000; n++) {
      const w = u32(rng)
      const s = formatIPv4(w)
      assert.equal(parseIPv4(s), w, s)
      const out = [0, 0, 0, 0]
      assert.equal(parseAddress(s, out), FAMILY_V4)
      assert.equal(out[0], w)
    }
  })

  it('parseIPv6(formatIPv6(w)) === w, with zero runs', () => {
    const rng = mulberry32(0x5678)
    const out = new Uint32Array(4)
    for (let n = 0; n < 20000; n++) {
      // Build 8 groups with plenty of zeros so that compression is exercised.
      const g: number[] = []
      for (let k = 0; k < 8; k++) {
        const r = rng()
        g.push(r < 0.4 ? 0 : r < 0.5 ? 0xffff : r < 0.7 ? int(rng, 1, 0xff) : int(rng, 0, 0xffff))
      }
      const words = [0, 1, 2, 3].map((k) => (g[2 * k]! * 65536 + g[2 * k + 1]!) >>> 0)
      const s = formatIPv6(words)
      assert.equal(parseIPv6(s, out), true, s)
      assert.deepEqual([...out], words, s)
      // canonical: formatting is idempotent through the parser, lowercase, at most one '::'
      assert.equal(formatIPv6(out), s)
      assert.equal(s, s.toLowerCase())
      assert.ok(s.split('::').length <= 2, s)
      assert.ok(!/(^|:)0[0-9a-f]/.test(s), `leading zero in ${s}`)
      const a = [0, 0, 0, 0]
      const fam = parseAddress(s, a)
      if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
        assert.equal(fam, FAMILY_V4)
        assert.equal(a[0], words[3])
      } else {
        assert.equal(fam, FAMILY_V6)
        assert.deepEqual(a, words)
      }
    }
  })

  it('parseIPv6 of random 32-bit words', () => {
    const rng = mulberry32(99)
    const out = [0, 0, 0, 0]
    for (let n = 0; n < 10000; n++) {
      const words = [u32(rng), u32(rng), u32(rng), u32(rng)]
      assert.equal(parseIPv6(formatIPv6(words), out), true)
      assert.deepEqual(out, words)
    }
  })

  it('uncompressed and mixed forms parse to the same words', () => {
    const rng = mulberry32(7)
    const out = [0, 0, 0, 0]
    for (let n = 0; n < 5000; n++) {
      const words = [u32(rng), u32(rng), u32(rng), u32(rng)]
      const g: string[] = []
      for (const w of words) g.push(Math.floor(w / 65536).toString(16).padStart(4, '0'), (w & 0xffff).toString(16).toUpperCase())
      assert.equal(parseIPv6(g.join(':'), out), true)
      assert.deepEqual(out, words)
      const mixed = g.slice(0, 6).join(':') + ':' + formatIPv4(words[3]!)
      assert.equal(parseIPv6(mixed, out), true, mixed)
      assert.deepEqual(out, words)
    }
  })

  it('never throws on random text', () => {
    const rng = mulberry32(42)
    const alphabet = '0123456789abcdefABCDEFxg:.%'
    const out = [0, 0, 0, 0]
    for (let n = 0; n < 20000; n++) {
      const len = int(rng, 0, 50)
      let s = ''
      for (let i = 0; i < len; i++) s += alphabet[int(rng, 0, alphabet.length - 1)]
      const fam = parseAddress(s, out)
      assert.ok(fam === FAMILY_INVALID || fam === FAMILY_V4 || fam === FAMILY_V6)
      if (fam === FAMILY_V4) assert.ok(out[0]! >= 0 && out[0]! <= 0xffffffff)
      parseIPv4(s)
    }
  })
})
