/**
 * A single-producer single-consumer byte ring in a SharedArrayBuffer: the fast path between two
 * worker threads (one ring per ordered pair). Messages are copied in and read in place; nothing
 * is allocated per message, and no structured clone or MessageEvent is involved, unlike
 * MessagePort.postMessage (docs/workers.md has the measurement).
 *
 *   SharedArrayBuffer:  [ head (i32) | pad to 64 | tail (i32) | pad to 128 | data: capacity bytes ]
 *   message at data[pos]:  u32 payload length | u8 kind | u8 flags | u16 aux | payload | pad to 8
 *
 * head and tail are byte counters that only grow (mod 2^32); `tail - head` is what is in use. The
 * producer owns tail, the consumer owns head, and each publishes its counter with an Atomics.store
 * after the bytes it covers are written (or read), so the other side never sees a half message.
 * A message never wraps: when it does not fit before the end, a PAD marker fills the rest and the
 * message starts at 0. head and tail sit on separate cache lines.
 */

const HEAD = 0
const TAIL = 16
const DATA = 128
/** Header bytes before a payload. */
export const RING_HEADER_BYTES = 8
const PAD = 0xffffffff

export class RingShared {
  readonly sab: SharedArrayBuffer
  constructor (readonly capacity: number) {
    if ((capacity & (capacity - 1)) !== 0 || capacity < 4096) throw new Error('ring capacity must be a power of two >= 4096')
    this.sab = new SharedArrayBuffer(DATA + capacity)
  }
}

function capacityOf (sab: SharedArrayBuffer): number {
  return sab.byteLength - DATA
}

export class RingWriter {
  readonly buf: Buffer
  private readonly ctl: Int32Array
  private readonly capacity: number
  private readonly mask: number
  private tail: number
  /** Largest payload {@link reserve} accepts (a quarter of the ring, so one message never starves the rest). */
  readonly maxPayload: number
  /** Where the reserved message's header is (data-relative). */
  private at = 0

  constructor (sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, 32)
    this.capacity = capacityOf(sab)
    this.mask = this.capacity - 1
    this.buf = Buffer.from(sab, DATA, this.capacity)
    this.tail = Atomics.load(this.ctl, TAIL) >>> 0
    this.maxPayload = (this.capacity >>> 2) - RING_HEADER_BYTES
  }

  /**
   * Reserves room for a payload of `n` bytes; returns the offset in {@link buf} where the payload
   * goes, or -1 when the ring is full (or `n` is too large). Follow with {@link commit}.
   */
  reserve (n: number): number {
    if (n > this.maxPayload) return -1
    const need = (RING_HEADER_BYTES + n + 7) & ~7
    const used = (this.tail - (Atomics.load(this.ctl, HEAD) >>> 0)) >>> 0
    let free = this.capacity - used
    let pos = this.tail & this.mask
    const toEnd = this.capacity - pos
    if (need > toEnd) {
      if (free < toEnd + need) return -1
      this.buf.writeUInt32LE(PAD, pos)
      this.tail = (this.tail + toEnd) >>> 0
      free -= toEnd
      pos = 0
    } else if (free < need) {
      return -1
    }
    this.at = pos
    return pos + RING_HEADER_BYTES
  }

  /** Publishes the reserved message with its real payload length (at most what was reserved). */
  commit (kind: number, length: number, aux = 0): void {
    const b = this.buf
    const at = this.at
    b.writeUInt32LE(length, at)
    b[at + 4] = kind
    b[at + 5] = 0
    b.writeUInt16LE(aux, at + 6)
    this.tail = (this.tail + ((RING_HEADER_BYTES + length + 7) & ~7)) >>> 0
    Atomics.store(this.ctl, TAIL, this.tail | 0)
  }

  /** Whether the consumer has read everything published. */
  get empty (): boolean {
    return (Atomics.load(this.ctl, HEAD) >>> 0) === this.tail
  }
}

/** Called for each message: kind, aux, the ring's buffer and the payload's [start, end). */
export type RingHandler = (kind: number, aux: number, buf: Buffer, start: number, end: number) => void

export class RingReader {
  readonly buf: Buffer
  private readonly ctl: Int32Array
  private readonly capacity: number
  private readonly mask: number
  private head: number

  constructor (sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, 32)
    this.capacity = capacityOf(sab)
    this.mask = this.capacity - 1
    this.buf = Buffer.from(sab, DATA, this.capacity)
    this.head = Atomics.load(this.ctl, HEAD) >>> 0
  }

  /** Whether a message is waiting. */
  get pending (): boolean {
    return (Atomics.load(this.ctl, TAIL) >>> 0) !== this.head
  }

  /**
   * Hands up to `budget` waiting messages to `handler` (which must be done with the bytes when it
   * returns) and frees their space. Returns how many were handled.
   */
  poll (handler: RingHandler, budget: number): number {
    const tail = Atomics.load(this.ctl, TAIL) >>> 0
    const b = this.buf
    let head = this.head
    let n = 0
    while (head !== tail && n < budget) {
      const pos = head & this.mask
      const len = b.readUInt32LE(pos)
      if (len === PAD) { head = (head + this.capacity - pos) >>> 0; continue }
      const start = pos + RING_HEADER_BYTES
      handler(b[pos + 4]!, b.readUInt16LE(pos + 6), b, start, start + len)
      head = (head + ((RING_HEADER_BYTES + len + 7) & ~7)) >>> 0
      n++
    }
    this.head = head
    Atomics.store(this.ctl, HEAD, head | 0)
    return n
  }
}
