import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sipHash24, sipHashHigh } from '../../src/udp/siphash.js'
import { Prng } from '../helpers/prng.js'

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
    tag.writeUInt32LE(sipHashHigh[0]!, 4)
    assert.equal(tag.toString('hex'), hex, `length ${len}`)
  }
})

// SipHash-2-4 on BigInt words, straight from the paper: what the 32-bit-halves version must equal.
const M64 = (1n << 64n) - 1n
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64
function referenceSipHash24 (key: Buffer, msg: Buffer): bigint {
  const k0 = key.readBigUInt64LE(0); const k1 = key.readBigUInt64LE(8)
  let v0 = k0 ^ 0x736f6d6570736575n; let v1 = k1 ^ 0x646f72616e646f6dn
  let v2 = k0 ^ 0x6c7967656e657261n; let v3 = k1 ^ 0x7465646279746573n
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n) ^ v0; v0 = rotl(v0, 32n)
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n) ^ v2
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n) ^ v0
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n) ^ v2; v2 = rotl(v2, 32n)
  }
  const last = Buffer.alloc(8)
  const whole = msg.length - (msg.length % 8)
  msg.copy(last, 0, whole)
  last[7] = msg.length & 0xff
  for (let i = 0; i <= whole; i += 8) {
    const m = i < whole ? msg.readBigUInt64LE(i) : last.readBigUInt64LE(0)
    v3 ^= m; round(); round(); v0 ^= m
  }
  v2 ^= 0xffn
  round(); round(); round(); round()
  return v0 ^ v1 ^ v2 ^ v3
}

test('sipHash24 equals a BigInt SipHash-2-4 for random keys and messages (carries, every tail length)', () => {
  const rng = new Prng(0x5195)
  for (let n = 0; n < 2000; n++) {
    const key = Buffer.alloc(16)
    for (let i = 0; i < 16; i += 4) key.writeUInt32LE(rng.u32(), i)
    // Extreme words as well as random ones: all-ones keys and messages force every carry.
    if (n % 10 === 0) key.fill(0xff)
    const msg = Buffer.alloc(rng.int(41))
    for (let i = 0; i < msg.length; i++) msg[i] = n % 7 === 0 ? 0xff : rng.int(256)
    const k = new Uint32Array(4)
    for (let i = 0; i < 4; i++) k[i] = key.readUInt32LE(4 * i)
    const low = sipHash24(k, msg, msg.length)
    const tag = (BigInt(sipHashHigh[0]!) << 32n) | BigInt(low)
    assert.equal(tag, referenceSipHash24(key, msg), `key ${key.toString('hex')} message ${msg.toString('hex')}`)
  }
})
