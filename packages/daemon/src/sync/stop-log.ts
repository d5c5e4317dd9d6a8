/**
 * The stops of the last few minutes, for `GET /sync`: a changeset carries a stopped peer as a
 * record flagged STOPPED, so the other nodes drop it too. Stopped peers are gone from the store,
 * so they are remembered here.
 *
 * A ring of fixed slots in one Buffer, allocated once when batch sync is on. Recording a stop
 * writes one slot and allocates nothing. When the ring is full the oldest stop is overwritten;
 * the peer it named then simply expires on the other nodes.
 *
 *   slot, 48 bytes:
 *   [ info_hash 20 | ip 16 (IPv4: the first 4) | port u16be | family u8 | - | seconds u32be | - 4 ]
 *     0              20                          36           38          39  40              44
 */
export const STOP_SLOT_BYTES = 48

export class StopLog {
  private readonly slots: Buffer
  /** Index of the slot the next stop goes to. */
  private next = 0
  /** Slots in use (up to capacity). */
  size = 0

  constructor (readonly capacity = 16384) {
    this.slots = Buffer.alloc(capacity * STOP_SLOT_BYTES)
  }

  record (key: string, family: number, ip: Uint32Array, port: number, seconds: number): void {
    const b = this.slots
    const o = this.next * STOP_SLOT_BYTES
    b.write(key, o, 20, 'latin1')
    const words = family === 4 ? 1 : 4
    for (let k = 0; k < words; k++) b.writeUInt32BE(ip[k]!, o + 20 + 4 * k)
    b.writeUInt16BE(port, o + 36)
    b[o + 38] = family
    b.writeUInt32BE(seconds >>> 0, o + 40)
    if (++this.next === this.capacity) this.next = 0
    if (this.size < this.capacity) this.size++
  }

  /**
   * Calls `fn(slots, offset)` for every stop at most `windowSeconds` old, newest first, stopping at
   * the first older one (slots are in time order).
   */
  forEachRecent (now: number, windowSeconds: number, fn: (slots: Buffer, at: number) => void): void {
    let i = this.next
    for (let n = 0; n < this.size; n++) {
      i = i === 0 ? this.capacity - 1 : i - 1
      const at = i * STOP_SLOT_BYTES
      if (now - this.slots.readUInt32BE(at + 40) >= windowSeconds) return
      fn(this.slots, at)
    }
  }
}
