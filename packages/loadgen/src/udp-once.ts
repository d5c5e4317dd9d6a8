/**
 * Single BEP 15 exchanges (connect, then one scrape), for checks around a run such as verifying
 * what a preload left in the tracker. Retries on loss; not for load.
 */
import dgram from 'node:dgram'
import net from 'node:net'
import { ACTION_CONNECT, ACTION_SCRAPE, writeConnectRequest, writeScrapeRequest } from '@otd/proto'

export interface ScrapeEntry {
  seeders: number
  completed: number
  leechers: number
}

async function exchange (s: dgram.Socket, req: Buffer, port: number, host: string, tx: number, action: number, timeoutMs: number): Promise<Buffer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const reply = await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => { s.off('message', on); resolve(null) }, timeoutMs)
      const on = (m: Buffer): void => {
        if (m.length >= 8 && m.readUInt32BE(4) === tx) {
          clearTimeout(timer)
          s.off('message', on)
          resolve(m)
        }
      }
      s.on('message', on)
      s.send(req, port, host)
    })
    if (reply !== null) {
      if (reply.readUInt32BE(0) !== action) throw new Error(`unexpected UDP reply action ${reply.readUInt32BE(0)} (expected ${action})`)
      return reply
    }
  }
  throw new Error(`no UDP reply from ${host}:${port}`)
}

/** Connects and scrapes `hashes` (20 bytes each, at most 74); returns one entry per hash. */
export async function udpScrape (host: string, port: number, hashes: Buffer, timeoutMs = 1000): Promise<ScrapeEntry[]> {
  const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4')
  s.on('error', () => {})
  try {
    const c = Buffer.alloc(16)
    writeConnectRequest(c, 0, 0x51c0ffee)
    const cr = await exchange(s, c, port, host, 0x51c0ffee, ACTION_CONNECT, timeoutMs)
    const req = Buffer.alloc(16 + hashes.length)
    writeScrapeRequest(req, 0, cr.readUInt32BE(8), cr.readUInt32BE(12), 0x5c4a9e00, hashes)
    const r = await exchange(s, req, port, host, 0x5c4a9e00, ACTION_SCRAPE, timeoutMs)
    const out: ScrapeEntry[] = []
    for (let off = 8; off + 12 <= r.length; off += 12) {
      out.push({ seeders: r.readUInt32BE(off), completed: r.readUInt32BE(off + 4), leechers: r.readUInt32BE(off + 8) })
    }
    return out
  } finally {
    s.close()
  }
}
