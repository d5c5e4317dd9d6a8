import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  FAMILY_V4, FAMILY_V6, formatIPv4, formatIPv6, formatNet, netContains, parseAddress, parseNet
} from '../src/index.js'
import type { Net } from '../src/index.js'
import { int, mulberry32, pick, randomFrom, u32 } from './prng.js'

function net (text: string): Net {
  const n = parseNet(text)
  assert.ok(n !== null, `parseNet(${JSON.stringify(text)})`)
  return n
}

function contains (n: Net, address: string): boolean {
  const out = [0, 0, 0, 0]
  const family = parseAddress(address, out)
  assert.notEqual(family, 0, address)
  return netContains(n, family, out)
}

describe('parseNet', () => {
  const good: Array<[string, number, number[], number, string]> = [
    ['1.2.3.4', FAMILY_V4, [0x01020304], 32, '1.2.3.4'],
    ['1.2.3.4/32', FAMILY_V4, [0x01020304], 32, '1.2.3.4'],
    ['1.2.3.4/24', FAMILY_V4, [0x01020300], 24, '1.2.3.0/24'],
    ['10.0.0.0/8', FAMILY_V4, [0x0a000000], 8, '10.0.0.0/8'],
    ['255.255.255.255/1', FAMILY_V4, [0x80000000], 1, '128.0.0.0/1'],
    ['200.1.2.3/0', FAMILY_V4, [0], 0, '0.0.0.0/0'],
    ['192.168.1.1/031', FAMILY_V4, [0xc0a80100], 31, '192.168.1.0/31'],
    ['::1', FAMILY_V6, [0, 0, 0, 1], 128, '::1'],
    ['::', FAMILY_V6, [0, 0, 0, 0], 128, '::'],
    ['::/0', FAMILY_V6, [0, 0, 0, 0], 0, '::/0'],
    ['[::1]', FAMILY_V6, [0, 0, 0, 1], 128, '::1'],
    ['2001:db8::/32', FAMILY_V6, [0x20010db8, 0, 0, 0], 32, '2001:db8::/32'],
    ['[2001:db8::]/32', FAMILY_V6, [0x20010db8, 0, 0, 0], 32, '2001:db8::/32'],
    ['2001:db8:ffff:ffff::1/33', FAMILY_V6, [0x20010db8, 0x80000000, 0, 0], 33, '2001:db8:8000::/33'],
    ['2001:DB8::1/127', FAMILY_V6, [0x20010db8, 0, 0, 0], 127, '2001:db8::/127'],
    ['fe80::abcd:1234/112', FAMILY_V6, [0xfe800000, 0, 0, 0xabcd0000], 112, 'fe80::abcd:0/112'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/64', FAMILY_V6, [0xffffffff, 0xffffffff, 0, 0], 64, 'ffff:ffff:ffff:ffff::/64'],
    ['::ffff:1.2.3.4', FAMILY_V4, [0x01020304], 32, '1.2.3.4'],
    ['[::ffff:1.2.3.4]', FAMILY_V4, [0x01020304], 32, '1.2.3.4'],
    ['::ffff:1.2.3.4/120', FAMILY_V4, [0x01020300], 24, '1.2.3.0/24'],
    ['::ffff:1.2.3.4/128', FAMILY_V4, [0x01020304], 32, '1.2.3.4'],
    ['::ffff:0:0/96', FAMILY_V4, [0], 0, '0.0.0.0/0'],
    ['::ffff:0102:0304/104', FAMILY_V4, [0x01000000], 8, '1.0.0.0/8'],
    ['[::ffff:10.1.2.3]/104', FAMILY_V4, [0x0a000000], 8, '10.0.0.0/8'],
    ['::1.2.3.4', FAMILY_V6, [0, 0, 0, 0x01020304], 128, '::102:304']
  ]
  for (const [text, family, words, bits, formatted] of good) {
    it(`parses ${text}`, () => {
      const n = net(text)
      assert.equal(n.family, family)
      assert.ok(n.words instanceof Uint32Array)
      assert.deepEqual([...n.words], words)
      assert.equal(n.bits, bits)
      assert.equal(formatNet(n), formatted)
    })
  }
  for (const bad of ['', ' ', '/', '/24', '1.2.3.4/', '1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/+8', '1.2.3.4/ 8',
    '1.2.3.4 /8', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4/8/8', '1.2.3.4/1000', '1.2.3.4/8x', '1.2.3', '1.2.3.4.5',
    '256.0.0.0', 'a.b.c.d', '1.2.3.4:80', '[1.2.3.4]', '[1.2.3.4]/8', '::1/129', '::1/200', '[::1', '::1]', '[::1]]',
    '[::1/128]', '[]', '[]/0', '[::1]x', '[::1]/', ':::', '1::2::3', 'fe80::1%eth0', 'fe80::1%eth0/64',
    '::ffff:1.2.3.4/95', '::ffff:1.2.3.4/64', '::ffff:1.2.3.4/0', '::ffff:1.2.3.4/129', 'localhost', 'gzip',
    '1.2.3.4\n', '1.2.3.4/8\n', '\u0661.2.3.4', '1.2.3.4/\u0668']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseNet(bad), null))
  }
  it('round-trips through formatNet', () => {
    const rng = mulberry32(7)
    for (let k = 0; k < 2000; k++) {
      const n = rng() < 0.5
        ? net(`${formatIPv4(u32(rng))}/${int(rng, 0, 32)}`)
        : net(`${formatIPv6([u32(rng), u32(rng), u32(rng), u32(rng)])}/${int(rng, 0, 128)}`)
      const again = parseNet(formatNet(n))
      assert.ok(again !== null, formatNet(n))
      assert.deepEqual(again, n)
    }
  })
})

describe('netContains', () => {
  it('matches IPv4 nets', () => {
    const n = net('10.0.0.0/8')
    assert.equal(contains(n, '10.0.0.0'), true)
    assert.equal(contains(n, '10.255.255.255'), true)
    assert.equal(contains(n, '11.0.0.0'), false)
    assert.equal(contains(n, '9.255.255.255'), false)
    assert.equal(contains(n, '::ffff:10.1.2.3'), true)
    assert.equal(contains(n, '::10.1.2.3'), false)
    assert.equal(contains(n, '2001:db8::1'), false)
  })
  it('matches exact addresses, high bit set', () => {
    const n = net('200.1.2.3')
    assert.equal(contains(n, '200.1.2.3'), true)
    assert.equal(contains(n, '200.1.2.2'), false)
    assert.equal(netContains(n, FAMILY_V4, Uint32Array.of(0xc8010203)), true)
    assert.equal(netContains(n, FAMILY_V4, [0xc8010203]), true)
  })
  it('0.0.0.0/0 matches every IPv4 address and no IPv6 one', () => {
    const n = net('0.0.0.0/0')
    assert.equal(contains(n, '255.255.255.255'), true)
    assert.equal(contains(n, '0.0.0.0'), true)
    assert.equal(contains(n, '::ffff:1.2.3.4'), true)
    assert.equal(contains(n, '::1'), false)
  })
  it('matches IPv6 nets across word boundaries', () => {
    const n = net('2001:db8:ffff:ffff::/33')
    assert.equal(contains(n, '2001:db8:8000::'), true)
    assert.equal(contains(n, '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'), true)
    assert.equal(contains(n, '2001:db8:7fff:ffff:ffff:ffff:ffff:ffff'), false)
    assert.equal(contains(n, '2001:db9:8000::'), false)
    const m = net('fe80::abcd:1234/127')
    assert.equal(contains(m, 'fe80::abcd:1234'), true)
    assert.equal(contains(m, 'fe80::abcd:1235'), true)
    assert.equal(contains(m, 'fe80::abcd:1236'), false)
    const one = net('::1')
    assert.equal(contains(one, '::1'), true)
    assert.equal(contains(one, '::2'), false)
    assert.equal(contains(one, '0.0.0.1'), false)
  })
  it('IPv6 nets contain IPv4 addresses through their v4-mapped form', () => {
    assert.equal(contains(net('::/0'), '1.2.3.4'), true)
    assert.equal(contains(net('::/80'), '1.2.3.4'), true)
    assert.equal(contains(net('::/81'), '1.2.3.4'), false)
    assert.equal(contains(net('2001:db8::/32'), '1.2.3.4'), false)
    assert.equal(contains(net('::/96'), '1.2.3.4'), false) // ::/96 is the deprecated v4-compatible range
  })
  it('v4-mapped nets behave as IPv4 nets', () => {
    const n = net('::ffff:10.0.0.0/104')
    assert.equal(contains(n, '10.9.8.7'), true)
    assert.equal(contains(n, '::ffff:10.9.8.7'), true)
    assert.equal(contains(n, '11.0.0.0'), false)
    // a v4-mapped IPv6 address passed as family 6 (e.g. straight from parseIPv6) is treated as IPv4
    assert.equal(netContains(n, FAMILY_V6, [0, 0, 0xffff, 0x0a000001]), true)
    assert.equal(netContains(net('::/0'), FAMILY_V6, [0, 0, 0xffff, 0x0a000001]), true)
  })
  it('parseAddress reports v4-mapped addresses as IPv4', () => {
    const out = [0, 0, 0, 0]
    assert.equal(parseAddress('::ffff:1.2.3.4', out), FAMILY_V4)
    assert.equal(out[0], 0x01020304)
  })
  it('is false for other families and short inputs', () => {
    const n = net('0.0.0.0/0')
    const m = net('::/0')
    assert.equal(netContains(n, 0, [0]), false)
    assert.equal(netContains(n, 5, [0, 0, 0, 0]), false)
    assert.equal(netContains(n, FAMILY_V4, []), false)
    assert.equal(netContains(m, FAMILY_V6, [0, 0, 0]), false)
    assert.equal(netContains(m, FAMILY_V6, [0, 0, 0, 0]), true)
  })
  it('agrees with a bitwise model on random nets and addresses', () => {
    const rng = mulberry32(11)
    const bitsOf = (words: number[]): string => words.map((w) => (w >>> 0).toString(2).padStart(32, '0')).join('')
    for (let k = 0; k < 3000; k++) {
      const v6 = rng() < 0.5
      const len = v6 ? 128 : 32
      const base = v6 ? [u32(rng), u32(rng), u32(rng), u32(rng)] : [u32(rng)]
      const bits = int(rng, 0, len)
      const n = net(`${v6 ? formatIPv6(base) : formatIPv4(base[0]!)}/${bits}`)
      if (n.family !== (v6 ? FAMILY_V6 : FAMILY_V4)) continue // random v4-mapped base
      // an address sharing a random-length prefix with the base
      const ip = base.map((w) => w)
      const share = int(rng, 0, len)
      for (let b = share; b < len; b++) {
        if (rng() < 0.5) ip[b >>> 5] = (ip[b >>> 5]! ^ (1 << (31 - (b & 31)))) >>> 0
      }
      const family = v6 ? FAMILY_V6 : FAMILY_V4
      if (v6 && ip[0] === 0 && ip[1] === 0 && ip[2] === 0xffff) continue
      const expect = bitsOf(ip).slice(0, bits) === bitsOf(base).slice(0, bits)
      assert.equal(netContains(n, family, ip), expect, `${formatNet(n)} ${bitsOf(ip)}`)
      assert.equal(netContains(n, family, Uint32Array.from(ip)), expect)
    }
  })
})

describe('parseNet fuzz', () => {
  it('never throws and returns well-formed nets', () => {
    const rng = mulberry32(0xc1d7)
    const alphabet = '0123456789abcdefABCDEF:./[]%fx '
    for (let k = 0; k < 20000; k++) {
      const text = rng() < 0.3
        ? pick(rng, ['1.2.3.4', '::1', '[::]', '::ffff:1.2.3.4', '2001:db8::']) + randomFrom(rng, int(rng, 0, 5), '/0123456789]').toString('latin1')
        : randomFrom(rng, int(rng, 0, 30), alphabet).toString('latin1')
      const n = parseNet(text)
      if (n === null) continue
      assert.ok(n.family === FAMILY_V4 || n.family === FAMILY_V6, text)
      assert.equal(n.words.length, n.family === FAMILY_V4 ? 1 : 4)
      assert.ok(n.bits >= 0 && n.bits <= (n.family === FAMILY_V4 ? 32 : 128))
      assert.deepEqual(parseNet(formatNet(n)), n, text)
      // the net contains its own base address
      assert.equal(netContains(n, n.family, n.words), true, text)
    }
  })
})
