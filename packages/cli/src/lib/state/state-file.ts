/**
 * Checks otd's warm-restart state file (docs/state.md) as it is downloaded. `GET /otd/state` has
 * no Content-Length (the daemon streams it while walking the swarm), so a connection that breaks
 * early would look like a short, complete download; the file's own trailer says how long it is
 * and carries a CRC-32 of everything before it, and otctl refuses to keep a file that fails it.
 *
 *   header   "OTDSTATE" | u32le version | u32le saved-at           16 bytes
 *   records  ...
 *   trailer  u32le torrents | u32le peers | u64le record bytes | u32le CRC-32 of header and records | "OTDEND\0\0"   28 bytes
 */
import { crc32 } from 'node:zlib'

const MAGIC = 'OTDSTATE'
const END = 'OTDEND\0\0'
export const STATE_HEADER_BYTES = 16
export const STATE_TRAILER_BYTES = 28

export interface StateFileSummary { torrents: number, peers: number, savedAt: number, bytes: number }

/** Fed the file chunk by chunk; `finish()` validates and summarises, or throws with the reason. */
export class StateFileChecker {
  private crc = 0
  private bytes = 0
  private head = Buffer.alloc(0)
  /** The last bytes seen, held back from the CRC until we know they are not the trailer. */
  private tail = Buffer.alloc(0)

  update (chunk: Buffer): void {
    this.bytes += chunk.length
    if (this.head.length < STATE_HEADER_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, STATE_HEADER_BYTES - this.head.length)])
    const joined = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk])
    const keep = Math.min(STATE_TRAILER_BYTES, joined.length)
    const done = joined.subarray(0, joined.length - keep)
    if (done.length > 0) this.crc = crc32(done, this.crc)
    this.tail = Buffer.from(joined.subarray(joined.length - keep))
  }

  finish (): StateFileSummary {
    if (this.bytes < STATE_HEADER_BYTES + STATE_TRAILER_BYTES) throw new Error(`state file too short (${this.bytes} bytes)`)
    if (this.head.toString('latin1', 0, 8) !== MAGIC) throw new Error('not an otd state file (no OTDSTATE header)')
    const t = this.tail
    if (t.toString('latin1', 20, 28) !== END) throw new Error('state file truncated (no OTDEND trailer)')
    const recordBytes = t.readUInt32LE(8) + t.readUInt32LE(12) * 0x100000000
    if (STATE_HEADER_BYTES + recordBytes + STATE_TRAILER_BYTES !== this.bytes) {
      throw new Error(`state file is ${this.bytes} bytes, its trailer says ${STATE_HEADER_BYTES + recordBytes + STATE_TRAILER_BYTES}`)
    }
    if (t.readUInt32LE(16) !== this.crc >>> 0) throw new Error('state file checksum mismatch')
    return { torrents: t.readUInt32LE(0), peers: t.readUInt32LE(4), savedAt: this.head.readUInt32LE(12), bytes: this.bytes }
  }
}
