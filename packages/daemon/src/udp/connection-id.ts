/**
 * Stateless BEP 15 connection ids: `issued (u32 seconds) ‖ MAC(key, issued ‖ client address)`.
 *
 * Why: a connection id proves that the client can receive packets at its source address, so that
 * a spoofed source cannot make the tracker send announce or scrape replies (amplification) to a
 * victim. opentracker's ids never expire (its rotation is dead code, reference §12.1);
 * bittorrent-tracker uses a constant. Here the MAC is SipHash-2-4 with a random 128-bit key
 * generated at start-up, truncated to 32 bits: forging one for an address the attacker cannot
 * receive at takes ~2^31 guesses per packet, and ids die after `maxAgeSeconds`.
 *
 * Validity: BEP 15 says an id should be accepted for at least 2 minutes; uTorrent reuses ids for
 * longer, so the default window is 5 minutes. Ids from the future (beyond a 2 s skew for the
 * cached clock) are rejected. The client port is not part of the MAC: NATs may re-map it between
 * connect and announce.
 */
import { randomFillSync } from 'node:crypto'
import { sipHash24 } from './siphash.js'

export class ConnectionIds {
  private readonly key = new Uint32Array(4)
  private readonly msg = new Uint8Array(24)
  private readonly view = new DataView(this.msg.buffer)
  /** High word of the last id made by {@link make}. */
  high = 0

  /** `key`: with `--workers`, the one key all workers share (otherwise a random one of our own). */
  constructor (readonly maxAgeSeconds = 300, key: Uint32Array | null = null) {
    if (key === null) randomFillSync(this.key)
    else this.key.set(key)
  }

  private mac (issued: number, family: number, ip: Uint32Array): number {
    const v = this.view
    v.setUint32(0, issued)
    if (family === 4) {
      v.setUint32(4, ip[0]!)
      return sipHash24(this.key, this.msg, 8)
    }
    v.setUint32(4, ip[0]!); v.setUint32(8, ip[1]!); v.setUint32(12, ip[2]!); v.setUint32(16, ip[3]!)
    return sipHash24(this.key, this.msg, 20)
  }

  /** Makes an id for a client; returns the low word, the high word is in `this.high`. */
  make (nowSeconds: number, family: number, ip: Uint32Array): number {
    const issued = nowSeconds >>> 0
    this.high = issued
    return this.mac(issued, family, ip)
  }

  /** Whether `high ‖ low` is an unexpired id issued by this process to this address. */
  check (nowSeconds: number, high: number, low: number, family: number, ip: Uint32Array): boolean {
    const age = nowSeconds - high
    if (age > this.maxAgeSeconds || age < -2) return false
    return this.mac(high, family, ip) === low
  }
}
