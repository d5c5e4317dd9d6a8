/**
 * Reply buffers carved from a slab. `socket.write` and `dgram.send` keep a reference to the bytes
 * until they are on the wire, so a reply buffer cannot be reused right away; instead each reply
 * takes the next free bytes of a large slab, and a full slab is simply dropped (it dies with its
 * last pending write) for a fresh one. One allocation per 256 KiB of replies, none per reply.
 */
export class ReplySlab {
  buf: Buffer
  off = 0

  constructor (readonly size = 256 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(size)
  }

  /** Makes sure `n` bytes are free at `this.off` (in a new slab if needed); returns the slab. */
  reserve (n: number): Buffer {
    if (this.off + n > this.buf.length) {
      this.buf = Buffer.allocUnsafeSlow(Math.max(this.size, n))
      this.off = 0
    }
    return this.buf
  }

  /** Marks `[this.off, end)` as used by a reply in flight. */
  commit (end: number): void {
    this.off = (end + 7) & ~7
  }
}
