/**
 * mulberry32: a small seeded PRNG, so every workload is reproducible from `--seed`.
 * Not for anything security-related.
 */
export class Prng {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform 32-bit unsigned integer. */
  u32 (): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** Uniform in [0, 1). */
  float (): number {
    return this.u32() / 0x1_0000_0000
  }

  /** Integer in [0, n). */
  int (n: number): number {
    return Math.floor(this.float() * n)
  }

  /** Fills `out[off, off + n)` with random bytes. */
  fill (out: Buffer, off: number, n: number): void {
    for (let i = 0; i < n; i += 4) {
      const v = this.u32()
      for (let k = 0; k < 4 && i + k < n; k++) out[off + i + k] = (v >>> (8 * k)) & 0xff
    }
  }
}
