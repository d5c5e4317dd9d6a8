/**
 * Property tests (fast-check) of the address and network parsers: parseIPv4, parseIPv6,
 * parseAddress, parseNet and netContains. Arbitrary and address-shaped text never throws and
 * yields well-formed results; every valid address fast-check can write parses, and its RFC 5952
 * form matches the WHATWG URL parser's; format/parse round-trip.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  FAMILY_INVALID, FAMILY_V4, FAMILY_V6, formatIPv4, formatIPv6, formatNet, netContains, parseAddress, parseIPv4, parseIPv6, parseNet
} from '../src/index.js'
import { assertFast, params, propertySuite } from './fc-harness.js'
import type { Cases } from './fc-harness.js'

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const ADDRESS_CHARS = '0123456789abcdefABCDEF:.%/[]x- '
const addressish = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ unit: fc.constantFrom(...ADDRESS_CHARS), maxLength: 50, size: 'medium' }),
  fc.ipV4(), fc.ipV4Extended(), fc.ipV6(),
  fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: -1, max: 200 })).map(([a, b]) => `${a}/${b}`),
  fc.ipV6().map((a) => `[${a}]`), fc.ipV6().map((a) => `${a}%eth0`)
)

/** Reference IPv4 reader: exactly four dot-separated decimal parts of 1-3 digits, each <= 255. */
function refIPv4 (s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (m === null) return -1
  const p = m.slice(1).map(Number)
  if (p.some((x) => x > 255)) return -1
  return ((p[0]! * 256 + p[1]!) * 256 + p[2]!) * 256 + p[3]!
}

export const cases: Cases = {
  'parseIPv4 agrees with a regex reference on any text and any sub-range': () => {
    fc.assert(fc.property(addressish, fc.nat(), fc.nat(), (s, a, b) => {
      assert.equal(parseIPv4(s), refIPv4(s))
      const start = a % (s.length + 1)
      const end = start + b % (s.length - start + 1)
      assert.equal(parseIPv4(s, start, end), refIPv4(s.slice(start, end)))
    }), params(4000))
    fc.assert(fc.property(u32, (w) => { assert.equal(parseIPv4(formatIPv4(w)), w) }), params(1000))
  },

  'parseIPv6: every valid address parses, and formats as the URL parser does (RFC 5952)': () => {
    const w = new Uint32Array(4)
    fc.assert(fc.property(fc.ipV6(), (s) => {
      assert.ok(parseIPv6(s, w), s)
      assert.equal(`[${formatIPv6(w)}]`, new URL(`http://[${s}]/`).hostname, s)
      const again = new Uint32Array(4)
      assert.ok(parseIPv6(formatIPv6(w), again))
      assert.deepEqual(again, w)
    }), params(3000))
    fc.assert(fc.property(fc.array(fc.oneof(fc.constant(0), u32), { minLength: 4, maxLength: 4 }), (words) => {
      const out = [0, 0, 0, 0]
      assert.ok(parseIPv6(formatIPv6(words), out))
      assert.deepEqual(out, words)
    }), params(2000))
  },

  'parseIPv6 / parseAddress: any text, no throw; accepted text is what the URL parser accepts': () => {
    const w = [0, 0, 0, 0]
    fc.assert(fc.property(addressish, (s) => {
      const ok = parseIPv6(s, w)
      if (ok) for (const x of w) assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff)
      // On text of IPv6 characters only (no zone, which parseIPv6 ignores and URL rejects, and
      // nothing URL syntax would give another meaning), both accept the same text.
      if (/^[0-9a-fA-F:.]*$/.test(s)) {
        let url = false
        try { url = new URL(`http://[${s}]/`).hostname.length > 2 } catch { url = false }
        assert.equal(ok, url, s)
      }
      const fam = parseAddress(s, w)
      assert.ok(fam === FAMILY_INVALID || fam === FAMILY_V4 || fam === FAMILY_V6)
      if (fam === FAMILY_V4) assert.ok(Number.isInteger(w[0]) && w[0]! >= 0 && w[0]! <= 0xffffffff)
      if (fam === FAMILY_V6) assert.ok(!(w[0] === 0 && w[1] === 0 && w[2] === 0xffff), 'a v4-mapped address must be family 4')
    }), params(4000))
  },

  'parseNet: any text gives null or a well-formed net; formatNet/parseNet round-trip; a net contains its own address': () => {
    fc.assert(fc.property(addressish, (s) => {
      const net = parseNet(s)
      if (net === null) return
      assert.ok(net.family === FAMILY_V4 || net.family === FAMILY_V6)
      assert.equal(net.words.length, net.family === FAMILY_V4 ? 1 : 4)
      assert.ok(Number.isInteger(net.bits) && net.bits >= 0 && net.bits <= (net.family === FAMILY_V4 ? 32 : 128))
      // host bits are zero
      net.words.forEach((word, k) => {
        const keep = Math.max(0, Math.min(32, net.bits - 32 * k))
        const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0
        assert.equal((word & ~mask) >>> 0, 0)
      })
      const again = parseNet(formatNet(net))
      assert.deepEqual(again, net, formatNet(net))
      assert.ok(netContains(net, net.family, net.words))
    }), params(4000))
  },

  'netContains agrees with a bitwise model and never throws on odd arguments': () => {
    const bit = (words: ArrayLike<number>, i: number): number => (words[i >>> 5]! >>> (31 - (i & 31))) & 1
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 128 }), fc.array(u32, { minLength: 4, maxLength: 4 }), fc.boolean(),
      (addr, bits, ip, v4) => {
        const net = parseNet(`${addr}/${Math.min(bits, addr.includes(':') ? 128 : 32)}`)
        if (net === null) return
        // the address as 128 bits in v4-mapped form, and the net likewise
        const mapped = v4 ? [0, 0, 0xffff, ip[0]!] : ip
        const isMapped = mapped[0] === 0 && mapped[1] === 0 && mapped[2] === 0xffff
        const netWords = net.family === FAMILY_V4 ? [0, 0, 0xffff, net.words[0]!] : Array.from(net.words)
        const netBits = net.family === FAMILY_V4 ? net.bits + 96 : net.bits
        let want = true
        for (let i = 0; i < netBits; i++) if (bit(mapped, i) !== bit(netWords, i)) { want = false; break }
        if (net.family === FAMILY_V4 && !isMapped) want = false
        assert.equal(netContains(net, v4 ? FAMILY_V4 : FAMILY_V6, v4 ? [ip[0]!] : ip), want, `${formatNet(net)} ${ip}`)
      }), params(3000))
    const odd = fc.array(fc.oneof(u32, fc.double(), fc.constant(-1)), { maxLength: 5 })
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: -1, max: 10 }), odd, (addr, family, ip) => {
      const net = parseNet(addr)
      if (net !== null) assert.equal(typeof netContains(net, family, ip), 'boolean')
    }), params(1000))
  },

  'address parsers are linear on long text': () => {
    const n = 1 << 20
    for (const s of ['1'.repeat(n), ':'.repeat(n), '1:'.repeat(n / 2), 'f'.repeat(n), '1.'.repeat(n / 2), '::' + 'ffff:'.repeat(n / 5)]) {
      assertFast(`parse ${JSON.stringify(s.slice(0, 10))}...`, 3000, () => {
        parseIPv4(s)
        parseIPv6(s, [0, 0, 0, 0])
        parseAddress(s, [0, 0, 0, 0])
        assert.equal(parseNet(s), null)
      })
    }
  }
}

propertySuite('address and network parsers', import.meta.url, cases)
