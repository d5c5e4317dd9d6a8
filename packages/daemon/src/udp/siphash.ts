/**
 * SipHash-2-4 (Aumasson & Bernstein, https://www.aumasson.jp/siphash/siphash.pdf) over 32-bit
 * halves, so it runs on JS numbers without BigInt and without allocating. Used as the keyed MAC
 * of UDP connection ids: a PRF with a 128-bit key, far cheaper per packet than node:crypto's HMAC
 * (which allocates an object per call).
 *
 * State words v0..v3 are 64-bit, held as (high, low) pairs in module variables.
 */

let v0h = 0; let v0l = 0; let v1h = 0; let v1l = 0; let v2h = 0; let v2l = 0; let v3h = 0; let v3l = 0

function sipRound (): void {
  let t: number
  // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
  t = v0l + v1l; v0h = (v0h + v1h + (t > 0xffffffff ? 1 : 0)) >>> 0; v0l = t >>> 0
  t = v1h; v1h = ((v1h << 13) | (v1l >>> 19)) >>> 0; v1l = ((v1l << 13) | (t >>> 19)) >>> 0
  v1h = (v1h ^ v0h) >>> 0; v1l = (v1l ^ v0l) >>> 0
  t = v0h; v0h = v0l; v0l = t
  // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
  t = v2l + v3l; v2h = (v2h + v3h + (t > 0xffffffff ? 1 : 0)) >>> 0; v2l = t >>> 0
  t = v3h; v3h = ((v3h << 16) | (v3l >>> 16)) >>> 0; v3l = ((v3l << 16) | (t >>> 16)) >>> 0
  v3h = (v3h ^ v2h) >>> 0; v3l = (v3l ^ v2l) >>> 0
  // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
  t = v0l + v3l; v0h = (v0h + v3h + (t > 0xffffffff ? 1 : 0)) >>> 0; v0l = t >>> 0
  t = v3h; v3h = ((v3h << 21) | (v3l >>> 11)) >>> 0; v3l = ((v3l << 21) | (t >>> 11)) >>> 0
  v3h = (v3h ^ v0h) >>> 0; v3l = (v3l ^ v0l) >>> 0
  // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
  t = v2l + v1l; v2h = (v2h + v1h + (t > 0xffffffff ? 1 : 0)) >>> 0; v2l = t >>> 0
  t = v1h; v1h = ((v1h << 17) | (v1l >>> 15)) >>> 0; v1l = ((v1l << 17) | (t >>> 15)) >>> 0
  v1h = (v1h ^ v2h) >>> 0; v1l = (v1l ^ v2l) >>> 0
  t = v2h; v2h = v2l; v2l = t
}

function compress (mh: number, ml: number): void {
  v3h = (v3h ^ mh) >>> 0; v3l = (v3l ^ ml) >>> 0
  sipRound(); sipRound()
  v0h = (v0h ^ mh) >>> 0; v0l = (v0l ^ ml) >>> 0
}

function readLE32 (m: Uint8Array, o: number): number {
  return (m[o]! | (m[o + 1]! << 8) | (m[o + 2]! << 16) | (m[o + 3]! << 24)) >>> 0
}

/** High 32 bits of the last {@link sipHash24} result. */
export let sipHashHigh = 0

/**
 * SipHash-2-4 of `msg[0, length)` under the key given as four little-endian 32-bit words
 * (k0 low, k0 high, k1 low, k1 high). Returns the low 32 bits of the 64-bit tag; the high 32 bits
 * are left in {@link sipHashHigh}.
 */
export function sipHash24 (key: Uint32Array, msg: Uint8Array, length: number): number {
  const k0l = key[0]!; const k0h = key[1]!; const k1l = key[2]!; const k1h = key[3]!
  v0h = (k0h ^ 0x736f6d65) >>> 0; v0l = (k0l ^ 0x70736575) >>> 0
  v1h = (k1h ^ 0x646f7261) >>> 0; v1l = (k1l ^ 0x6e646f6d) >>> 0
  v2h = (k0h ^ 0x6c796765) >>> 0; v2l = (k0l ^ 0x6e657261) >>> 0
  v3h = (k1h ^ 0x74656462) >>> 0; v3l = (k1l ^ 0x79746573) >>> 0
  const whole = length - (length & 7)
  let i = 0
  for (; i < whole; i += 8) compress(readLE32(msg, i + 4), readLE32(msg, i))
  // Last block: the remaining 0-7 bytes, with the length's low byte in the top byte.
  let bh = (length & 0xff) << 24
  let bl = 0
  const rest = length - whole
  for (let k = 0; k < rest; k++) {
    const b = msg[i + k]!
    if (k < 4) bl |= b << (8 * k)
    else bh |= b << (8 * (k - 4))
  }
  compress(bh >>> 0, bl >>> 0)
  v2l = (v2l ^ 0xff) >>> 0
  sipRound(); sipRound(); sipRound(); sipRound()
  sipHashHigh = (v0h ^ v1h ^ v2h ^ v3h) >>> 0
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0
}
