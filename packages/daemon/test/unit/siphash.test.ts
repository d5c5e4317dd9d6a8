import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sipHash24, sipHashHigh } from '../../src/udp/siphash.js'

// Test vectors of the SipHash reference implementation (vectors.h, SipHash-2-4 64-bit tags):
// key 00..0f, message 00..(n-1), tags as little-endian bytes. Lengths 0-15 cover every tail size,
// 20 the IPv6 connection-id input, 63 several whole blocks.
const key = new Uint32Array(new Uint8Array(16).map((_, i) => i).buffer)
const expected: Record<number, string> = {
  0: '310e0edd47db6f72',
  1: 'fd67dc93c539f874',
  7: '37d1018bf50002ab',
  8: '6224939a79f5f593',
  15: 'e545be4961ca29a1',
  20: '98eea21af25cd6be',
  24: '94af49f6c650adb8',
  63: '724506eb4c328a95'
}

test('sipHash24 matches the reference test vectors (little-endian tag bytes)', () => {
  const msg = new Uint8Array(64).map((_, i) => i)
  for (const [len, hex] of Object.entries(expected)) {
    const low = sipHash24(key, msg, Number(len))
    const tag = Buffer.alloc(8)
    tag.writeUInt32LE(low, 0)
    tag.writeUInt32LE(sipHashHigh, 4)
    assert.equal(tag.toString('hex'), hex, `length ${len}`)
  }
})
