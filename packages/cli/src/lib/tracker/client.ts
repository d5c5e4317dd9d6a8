/**
 * One announce or scrape against any tracker, HTTP or UDP, from its URL. Loaded only by the
 * `announce` and `scrape` commands.
 */
import { randomBytes } from 'node:crypto'
import { OT_ERR_TRACKER, OtctlError, badInput } from '../../errors.js'
import { HttpClient } from '../http.js'
import { announceHttp, scrapeHttp } from './http-tracker.js'
import type { AnnounceRequest, AnnounceResult, ScrapeResult } from './types.js'
import { UdpTracker } from './udp-tracker.js'
import type { TrackerUrl } from './url.js'

/** Azureus-style peer id: `-OC0100-` and 12 random characters (BEP 20). */
export function makePeerId (given?: string): Buffer {
  if (given !== undefined) {
    const b = /^[0-9a-fA-F]{40}$/.test(given) ? Buffer.from(given, 'hex') : Buffer.from(given, 'latin1')
    if (b.length !== 20) throw badInput(`--peer-id must be 20 bytes (or 40 hex digits), not ${b.length}`)
    return b
  }
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
  const tail = [...randomBytes(12)].map((x) => alphabet[x % alphabet.length]).join('')
  return Buffer.from(`-OC0100-${tail}`, 'latin1')
}

export function randomKey (): number {
  return randomBytes(4).readUInt32BE(0)
}

export async function announce (t: TrackerUrl, r: AnnounceRequest, timeoutMs: number): Promise<AnnounceResult> {
  if (t.kind === 'udp') {
    const udp = new UdpTracker(t.host, t.port, timeoutMs)
    try { return await udp.announce(r) } finally { udp.close() }
  }
  const http = new HttpClient(timeoutMs)
  try { return await announceHttp(http, t.announce, r) } finally { await http.close() }
}

export async function scrape (t: TrackerUrl, hashes: Buffer[], timeoutMs: number): Promise<ScrapeResult> {
  if (t.kind === 'udp') {
    const udp = new UdpTracker(t.host, t.port, timeoutMs)
    try { return await udp.scrape(hashes) } finally { udp.close() }
  }
  if (t.scrape === null) {
    throw new OtctlError(OT_ERR_TRACKER, `${t.text} cannot be scraped: its path does not end in /announce, so there is no scrape URL (BEP 48)`)
  }
  const http = new HttpClient(timeoutMs)
  try { return await scrapeHttp(http, t.scrape, hashes) } finally { await http.close() }
}
