/** Tiny seeded PRNG (mulberry32) and generators for property/fuzz tests. Not a test file itself. */

export type Rng = () => number

/** mulberry32: returns a function giving uniform floats in [0, 1). */
export function mulberry32 (seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Integer in [lo, hi] inclusive. */
export function int (rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1))
}

/** Random unsigned 32-bit word. */
export function u32 (rng: Rng): number {
  return Math.floor(rng() * 4294967296) >>> 0
}

export function pick<T> (rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!
}

export function randomBytes (rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256)
  return b
}

/**
 * Random bytes drawn mostly from an alphabet of "interesting" characters (so that parsers get past
 * their first checks), with occasional arbitrary bytes.
 */
export function randomFrom (rng: Rng, n: number, alphabet: string): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) {
    b[i] = rng() < 0.9 ? alphabet.charCodeAt(Math.floor(rng() * alphabet.length)) : Math.floor(rng() * 256)
  }
  return b
}

/** Percent-encodes every byte (`%XX`, random case). */
export function pctAll (bytes: Buffer, rng?: Rng): string {
  let s = ''
  for (const b of bytes) {
    const h = b.toString(16).padStart(2, '0')
    s += '%' + (rng !== undefined && rng() < 0.5 ? h.toUpperCase() : h)
  }
  return s
}
