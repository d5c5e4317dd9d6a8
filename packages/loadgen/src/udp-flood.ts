/**
 * `otbench udp`: many BEP 15 sockets, each with a window of requests in flight, drawing announces
 * and scrapes from a {@link Workload}.
 */
import { ANNOUNCE_REQUEST_BYTES, writeScrapeRequest } from '@otd/proto'
import type { AnnounceDraw, Workload } from './pool.js'
import { Counters } from './stats.js'
import { KIND_ANNOUNCE, KIND_SCRAPE, UdpClient, type UdpClientOptions, type UdpSlot, type UdpSource } from './udp-client.js'

/**
 * Writes the announce `d` of `w` into `buf` (connection and transaction ids left for the client).
 * Byte layout as proto's writeAnnounceRequest; written field by field so no object or view is
 * made per request.
 */
export function writeDrawnAnnounce (buf: Buffer, w: Workload, d: AnnounceDraw, numwant: number): number {
  const t = w.torrents
  const p = w.peers
  buf.writeUInt32BE(1, 8) // action: announce
  t.hashes.copy(buf, 16, 20 * d.torrent, 20 * d.torrent + 20)
  p.peerIds.copy(buf, 36, 20 * d.peer, 20 * d.peer + 20)
  buf.writeUInt32BE(0, 56) // downloaded
  buf.writeUInt32BE(0, 60)
  buf.writeUInt32BE(Math.floor(d.left / 0x1_0000_0000), 64)
  buf.writeUInt32BE(d.left >>> 0, 68)
  buf.writeUInt32BE(0, 72) // uploaded
  buf.writeUInt32BE(0, 76)
  buf.writeUInt32BE(d.event, 80)
  buf.writeUInt32BE(0, 84) // ip: the source address
  buf.writeUInt32BE(p.keys[d.peer]!, 88)
  buf.writeUInt32BE(numwant >>> 0, 92)
  buf.writeUInt16BE(p.ports[d.peer]!, 96)
  return ANNOUNCE_REQUEST_BYTES
}

/** Announces and scrapes drawn from a workload, forever. */
export class WorkloadUdpSource implements UdpSource {
  private readonly draw: AnnounceDraw = { torrent: 0, peer: 0, event: 0, left: 0 }
  private readonly hashes: Buffer

  constructor (private readonly w: Workload) {
    this.hashes = Buffer.alloc(20 * w.mix.scrapeHashes)
  }

  next (buf: Buffer, slot: UdpSlot): number {
    const w = this.w
    if (w.nextIsScrape()) {
      slot.kind = KIND_SCRAPE
      w.drawScrapeHashes(this.hashes, 0)
      return writeScrapeRequest(buf, 0, 0, 0, 0, this.hashes)
    }
    slot.kind = KIND_ANNOUNCE
    w.drawAnnounce(this.draw)
    return writeDrawnAnnounce(buf, w, this.draw, w.mix.numwant)
  }

  finish (): void {}
}

export interface UdpFloodOptions extends UdpClientOptions {
  sockets: number
}

/** A set of UDP clients sharing one source and one set of counters. */
export class UdpFlood {
  readonly counters = new Counters()
  private readonly clients: UdpClient[]

  constructor (opts: UdpFloodOptions, source: UdpSource) {
    this.clients = Array.from({ length: opts.sockets }, () => new UdpClient(opts, source, this.counters))
  }

  async start (): Promise<void> {
    await Promise.all(this.clients.map(async (c) => await c.start()))
  }

  async stop (): Promise<void> {
    for (const c of this.clients) c.stop()
  }

  inFlight (): number {
    let n = 0
    for (const c of this.clients) n += c.inFlight()
    return n
  }
}
