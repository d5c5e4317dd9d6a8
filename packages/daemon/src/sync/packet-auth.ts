/**
 * Authentication of unicast live-sync packets (framing in proto sync/livesync.ts).
 *
 * Security model: every node of a cluster shares one secret key. A packet is accepted when
 *  1. its MAC, HMAC-SHA256(key, every byte before the MAC) truncated to 128 bits (RFC 2104 §5
 *     allows truncation to half the output), matches in constant time: without the key nobody
 *     can forge or alter a packet;
 *  2. its timestamp (the sender's Unix seconds) is within {@link MAX_SKEW_SECONDS} of ours: a
 *     captured packet cannot be replayed later (node clocks must be roughly in sync, as NTP gives);
 *  3. its counter was not seen before from that sender (tracker id) within a sliding window of
 *     {@link REPLAY_WINDOW} packets: it cannot be replayed within the freshness window either.
 * State per sender is created only for packets that passed 1 and 2, so forged traffic cannot
 * grow it; it is dropped after twice the skew, when every packet it could match is stale anyway.
 * Confidentiality is not a goal: peer addresses are what trackers hand out to anyone.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { LIVESYNC_MAC_BYTES } from '@otd/proto'

/** Largest difference between the packet's timestamp and our clock. */
export const MAX_SKEW_SECONDS = 60
/** Packets a sender may be reordered by and still be accepted. */
export const REPLAY_WINDOW = 32

export const AUTH_OK = 0
export const AUTH_FORGED = 1
export const AUTH_STALE = 2
export const AUTH_REPLAYED = 3

interface SenderState {
  /** Highest counter accepted. */
  top: number
  /** Bit d set: counter top - d was accepted. */
  bits: number
  /** When (our seconds) the last packet was accepted. */
  seen: number
}

export class PacketAuth {
  private readonly key: Buffer
  private readonly senders = new Map<number, SenderState>()

  constructor (keyHex: string) {
    this.key = Buffer.from(keyHex, 'hex')
  }

  /** Writes the MAC of `packet[0, macOffset)` at `macOffset`. */
  sign (packet: Buffer, macOffset: number): void {
    createHmac('sha256', this.key).update(packet.subarray(0, macOffset)).digest().copy(packet, macOffset, 0, LIVESYNC_MAC_BYTES)
  }

  /**
   * Checks a received packet: the MAC at `macOffset` (16 bytes, the packet's end), the sender's
   * `seconds` against `now`, and `counter` against what `trackerId` sent before. Returns AUTH_*.
   * Only an accepted packet updates the replay state.
   */
  check (packet: Buffer, macOffset: number, trackerId: number, seconds: number, counter: number, now: number): number {
    const mac = createHmac('sha256', this.key).update(packet.subarray(0, macOffset)).digest().subarray(0, LIVESYNC_MAC_BYTES)
    const given = packet.subarray(macOffset, macOffset + LIVESYNC_MAC_BYTES)
    if (given.length !== LIVESYNC_MAC_BYTES || !timingSafeEqual(mac, given)) return AUTH_FORGED
    if (Math.abs(now - seconds) > MAX_SKEW_SECONDS) return AUTH_STALE
    const s = this.senders.get(trackerId)
    if (s === undefined) {
      this.senders.set(trackerId, { top: counter, bits: 1, seen: now })
      return AUTH_OK
    }
    if (counter > s.top) {
      const shift = counter - s.top
      s.bits = shift >= REPLAY_WINDOW ? 1 : ((s.bits << shift) | 1) >>> 0
      s.top = counter
    } else {
      const d = s.top - counter
      if (d >= REPLAY_WINDOW) return AUTH_REPLAYED
      const bit = (1 << d) >>> 0
      if ((s.bits & bit) !== 0) return AUTH_REPLAYED
      s.bits = (s.bits | bit) >>> 0
    }
    s.seen = now
    return AUTH_OK
  }

  /** Forgets senders not heard from for twice the skew (their old packets are stale by now). */
  prune (now: number): void {
    for (const [id, s] of this.senders) if (now - s.seen > 2 * MAX_SKEW_SECONDS) this.senders.delete(id)
  }

  get senderCount (): number { return this.senders.size }
}
