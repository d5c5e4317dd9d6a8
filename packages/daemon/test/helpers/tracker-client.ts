// Tracker-level helpers on top of the raw HTTP/UDP helpers: deterministic test
// hashes, HTTP announce/scrape wrappers that validate the reply shape, and peer
// list utilities.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { asDict, asInt, decodeStrict, getInt } from './bencode-strict.js'
import type { BDict } from './bencode-strict.js'
import { exchange, pctAll, query } from './http-raw.js'
import type { Endpoint, QueryValue, RawResponse } from './http-raw.js'
import { parseCompactPeers, peerKey } from './udp-raw.js'
import type { UdpPeer } from './udp-raw.js'

/** Deterministic 20-byte info_hash number `n` (each test file uses its own range). */
export function testHash(n: number): Buffer {
  return createHash('sha1').update(`otd-test-hash-${n}`).digest()
}

export const MIN_INTERVAL = 1620
export const MAX_INTERVAL = 1979

/** Asserts the exact success framing: `HTTP/1.1 200 OK`, exactly Content-Type: text/plain and Content-Length. */
export function assertOkFraming(res: RawResponse): void {
  assert.equal(res.statusLine, 'HTTP/1.1 200 OK', `status line; reply: ${JSON.stringify(res.raw.toString('latin1').slice(0, 300))}`)
  assert.deepEqual(
    res.headers.map(([n, v]) => `${n}: ${n.toLowerCase() === 'content-length' ? '<n>' : v}`),
    ['Content-Type: text/plain', 'Content-Length: <n>'],
    'headers must be exactly Content-Type: text/plain and Content-Length',
  )
  assert.equal(Number(res.headers[1]?.[1]), res.body.length)
}

export function assertIntervals(d: BDict): { interval: number; minInterval: number } {
  const interval = getInt(d, 'interval')
  const minInterval = getInt(d, 'min interval')
  assert.ok(interval >= MIN_INTERVAL && interval <= MAX_INTERVAL, `interval ${interval} outside [${MIN_INTERVAL}, ${MAX_INTERVAL}]`)
  assert.equal(minInterval, Math.floor(interval / 2), 'min interval = floor(interval / 2)')
  return { interval, minInterval }
}

export interface AnnounceResult {
  res: RawResponse
  dict: BDict
  keys: string[]
  complete: number
  incomplete: number
  downloaded: number | undefined
  interval: number
  /** `peers` (6-byte compact entries); empty when the key is absent. */
  peers: UdpPeer[]
  /** `peers6` (18-byte compact entries); empty when the key is absent. */
  peers6: UdpPeer[]
}

/** Decodes and validates a successful compact announce reply. */
export function parseAnnounce(res: RawResponse): AnnounceResult {
  assertOkFraming(res)
  const dict = asDict(decodeStrict(res.body), 'announce body')
  assert.ok(!dict.has('failure reason'), `unexpected failure reason: ${res.body.toString('latin1')}`)
  const { interval } = assertIntervals(dict)
  const peersRaw = dict.get('peers')
  const peers6Raw = dict.get('peers6')
  if (peersRaw !== undefined) assert.ok(Buffer.isBuffer(peersRaw), '`peers` must be a compact byte string')
  if (peers6Raw !== undefined) assert.ok(Buffer.isBuffer(peers6Raw), '`peers6` must be a compact byte string')
  const downloaded = dict.get('downloaded')
  return {
    res,
    dict,
    keys: [...dict.keys()],
    complete: getInt(dict, 'complete'),
    incomplete: getInt(dict, 'incomplete'),
    downloaded: downloaded === undefined ? undefined : asInt(downloaded, 'downloaded'),
    interval,
    peers: Buffer.isBuffer(peersRaw) ? parseCompactPeers(peersRaw, 'IPv4') : [],
    peers6: Buffer.isBuffer(peers6Raw) ? parseCompactPeers(peers6Raw, 'IPv6') : [],
  }
}

export interface AnnounceParams {
  infoHash: Buffer | string
  port?: QueryValue
  left?: QueryValue
  event?: string
  numwant?: QueryValue
  /** Extra raw query items appended after the standard ones. */
  extra?: Array<[string, QueryValue | null]>
  /** Path before `?`; default `/announce`. */
  path?: string
  peerId?: Buffer
}

export function announceTarget(p: AnnounceParams): string {
  const items: Array<[string, QueryValue | null]> = [
    ['info_hash', typeof p.infoHash === 'string' ? p.infoHash : pctAll(p.infoHash)],
  ]
  if (p.peerId !== undefined) items.push(['peer_id', p.peerId])
  if (p.port !== undefined) items.push(['port', p.port])
  items.push(['uploaded', 0], ['downloaded', 0])
  if (p.left !== undefined) items.push(['left', p.left])
  if (p.event !== undefined) items.push(['event', p.event])
  if (p.numwant !== undefined) items.push(['numwant', p.numwant])
  items.push(...(p.extra ?? []))
  return `${p.path ?? '/announce'}?${query(items)}`
}

/** Raw single-shot HTTP/1.0 GET of an announce target; no validation. */
export function rawAnnounce(ep: Endpoint, p: AnnounceParams): Promise<RawResponse> {
  return exchange(ep, `GET ${announceTarget(p)} HTTP/1.0\r\n\r\n`)
}

/** HTTP/1.0 announce (default left=1000, i.e. a leecher) that must succeed. */
export async function announce(ep: Endpoint, p: AnnounceParams): Promise<AnnounceResult> {
  const res = await rawAnnounce(ep, { left: 1000, ...p })
  return parseAnnounce(res)
}

export interface ScrapeStats {
  complete: number
  downloaded: number
  incomplete: number
}

export function scrapeTarget(hashes: Array<Buffer | string>, path = '/scrape'): string {
  return `${path}?${hashes.map((h) => `info_hash=${typeof h === 'string' ? h : pctAll(h)}`).join('&')}`
}

/** Parses a scrape reply into hash(latin1 key) → stats, in body order. */
export function parseScrape(res: RawResponse): Map<string, ScrapeStats> {
  assertOkFraming(res)
  const top = asDict(decodeStrict(res.body), 'scrape body')
  assert.deepEqual([...top.keys()], ['files'], 'scrape body has exactly the key `files`')
  const files = asDict(top.get('files'), 'files')
  const out = new Map<string, ScrapeStats>()
  for (const [k, v] of files) {
    assert.equal(Buffer.from(k, 'latin1').length, 20, 'scrape keys are 20-byte hashes')
    const entry = asDict(v, 'scrape entry')
    assert.deepEqual([...entry.keys()], ['complete', 'downloaded', 'incomplete'])
    out.set(k, { complete: getInt(entry, 'complete'), downloaded: getInt(entry, 'downloaded'), incomplete: getInt(entry, 'incomplete') })
  }
  return out
}

export async function scrape(ep: Endpoint, hashes: Array<Buffer | string>, path?: string): Promise<Map<string, ScrapeStats>> {
  const res = await exchange(ep, `GET ${scrapeTarget(hashes, path)} HTTP/1.0\r\n\r\n`)
  return parseScrape(res)
}

export function v4(port: number): string {
  return `127.0.0.1:${port}`
}

export function v6(port: number): string {
  return `[::1]:${port}`
}

export function keys(peers: UdpPeer[]): string[] {
  return peers.map(peerKey)
}

/** Runs async jobs with bounded concurrency, preserving result order. */
export async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count)
  let next = 0
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++
      results[i] = await job(i)
    }
  })
  await Promise.all(workers)
  return results
}
