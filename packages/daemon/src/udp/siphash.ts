/**
 * SipHash-2-4 (Aumasson & Bernstein, https://www.aumasson.jp/siphash/siphash.pdf) over 32-bit
 * halves, so it runs on JS numbers without BigInt and without allocating. Used as the keyed MAC
 * of UDP connection ids: a PRF with a 128-bit key, far cheaper per packet than node:crypto's HMAC
 * (which allocates an object per call).
 *
 * The state words v0..v3 are 64-bit, held as (high, low) int32 pairs in locals of one function,
 * with the round written once inside a loop. Why not module variables and a round function: a
 * uint32 above 2^30 stored in a module variable is a heap number, so every state update allocated
 * and paid a write barrier (perf: 6% of a UDP announce's CPU, against ~1% now); locals stay
 * unboxed in registers. Sums are int32 (`| 0`) with the carry from an unsigned compare.
 */

function readLE32 (m: Uint8Array, o: number): number {
  return m[o]! | (m[o + 1]! << 8) | (m[o + 2]! << 16) | (m[o + 3]! << 24)
}

/**
 * `[0]`: the high 32 bits of the last {@link sipHash24} result. A typed array, not a module
 * variable: a uint32 stored there would be a heap number, allocated on every hash, and only the
 * tests read it (connection ids use the low word).
 */
export const sipHashHigh = new Uint32Array(1)

/**
 * SipHash-2-4 of `msg[0, length)` under the key given as four little-endian 32-bit words
 * (k0 low, k0 high, k1 low, k1 high). Returns the low 32 bits of the 64-bit tag; the high 32 bits
 * are left in `sipHashHigh[0]`.
 */
export function sipHash24 (key: Uint32Array, msg: Uint8Array, length: number): number {
  const k0l = key[0]! | 0; const k0h = key[1]! | 0; const k1l = key[2]! | 0; const k1h = key[3]! | 0
  let v0h = k0h ^ 0x736f6d65; let v0l = k0l ^ 0x70736575
  let v1h = k1h ^ 0x646f7261; let v1l = k1l ^ 0x6e646f6d
  let v2h = k0h ^ 0x6c796765; let v2l = k0l ^ 0x6e657261
  let v3h = k1h ^ 0x74656462; let v3l = k1l ^ 0x79746573
  const whole = length - (length & 7)
  let i = 0
  // Blocks: the whole 8-byte words, then the last one (0-7 bytes, the length's low byte on top),
  // then finalization; one pass of the loop per block, plus one for finalization.
  for (;;) {
    let mh = 0
    let ml = 0
    let rounds = 2
    if (i < whole) {
      ml = readLE32(msg, i); mh = readLE32(msg, i + 4)
    } else if (i === whole) {
      mh = (length & 0xff) << 24
      for (let k = 0; k < length - whole; k++) {
        const b = msg[i + k]!
        if (k < 4) ml |= b << (8 * k)
        else mh |= b << (8 * (k - 4))
      }
    } else {
      v2l ^= 0xff
      rounds = 4
    }
    v3h ^= mh; v3l ^= ml
    for (let r = 0; r < rounds; r++) {
      let t: number
      // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
      t = (v0l + v1l) | 0; v0h = (v0h + v1h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t
      t = v1h; v1h = (v1h << 13) | (v1l >>> 19); v1l = (v1l << 13) | (t >>> 19)
      v1h ^= v0h; v1l ^= v0l
      t = v0h; v0h = v0l; v0l = t
      // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
      t = (v2l + v3l) | 0; v2h = (v2h + v3h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t
      t = v3h; v3h = (v3h << 16) | (v3l >>> 16); v3l = (v3l << 16) | (t >>> 16)
      v3h ^= v2h; v3l ^= v2l
      // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
      t = (v0l + v3l) | 0; v0h = (v0h + v3h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t
      t = v3h; v3h = (v3h << 21) | (v3l >>> 11); v3l = (v3l << 21) | (t >>> 11)
      v3h ^= v0h; v3l ^= v0l
      // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
      t = (v2l + v1l) | 0; v2h = (v2h + v1h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t
      t = v1h; v1h = (v1h << 17) | (v1l >>> 15); v1l = (v1l << 17) | (t >>> 15)
      v1h ^= v2h; v1l ^= v2l
      t = v2h; v2h = v2l; v2l = t
    }
    if (rounds === 4) break
    v0h ^= mh; v0l ^= ml
    i += 8
  }
  sipHashHigh[0] = v0h ^ v1h ^ v2h ^ v3h
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0
}
