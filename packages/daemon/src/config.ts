/**
 * Tracker configuration: one typed object with one source of defaults. Units are in the names.
 */
import type { Logger } from 'pino'
import type { Clock } from './clock.js'

/** An address and port to listen on. Port 0 picks a free port (see the addresses `listen()` returns). */
export interface ListenSpec {
  host: string
  port: number
}

export interface TrackerOptions {
  /** TCP (HTTP) listeners. Default: `[::]:6969`, dual stack (falls back to 0.0.0.0 without IPv6). */
  http: ListenSpec[]
  /** UDP (BEP 15) listeners. Default: `[::]:6969`, dual stack. */
  udp: ListenSpec[]
  /** Base announce interval; each reply draws from [base - jitter/2, base + jitter/2). Default 1800. */
  announceIntervalSeconds: number
  /** Width of the interval's random spread (opentracker: 360, giving 1620-1979). */
  announceIntervalJitterSeconds: number
  /** Peers returned when the client does not say (numwant absent or negative). Default 50. */
  numwantDefault: number
  /** Most peers in one HTTP reply. Default 200. */
  numwantMax: number
  /** Most info_hashes answered in one HTTP scrape. Default 64. */
  scrapeMaxHashes: number
  /** A peer that has not announced for this long is dropped. Default 2700 (45 minutes). */
  peerTimeoutSeconds: number
  /** An empty torrent with downloads is kept this long after its last peer expired. Default 86400. */
  torrentTimeoutSeconds: number
  /** How long a full cleaning pass over all torrents takes, spread in one-second slices. Default 120. */
  cleanPassSeconds: number
  /** Idle HTTP connections are closed after this long. Default 30. */
  httpIdleTimeoutSeconds: number
  /** Largest HTTP request head accepted; beyond it the reply is 500 (opentracker). Default 8192. */
  httpMaxRequestBytes: number
  /** UDP connection ids are accepted for this long after connect. Default 300. */
  udpConnectionIdMaxAgeSeconds: number
  /** Redirect target for `GET /`; empty for 404. */
  redirectUrl: string
  /** Clock (tests inject a ManualClock). */
  clock?: Clock
  /** pino logger; silent when absent. */
  logger?: Logger
}

export const DEFAULT_PORT = 6969

export function defaultOptions (): TrackerOptions {
  return {
    http: [{ host: '::', port: DEFAULT_PORT }],
    udp: [{ host: '::', port: DEFAULT_PORT }],
    announceIntervalSeconds: 1800,
    announceIntervalJitterSeconds: 360,
    numwantDefault: 50,
    numwantMax: 200,
    scrapeMaxHashes: 64,
    peerTimeoutSeconds: 2700,
    torrentTimeoutSeconds: 86400,
    cleanPassSeconds: 120,
    httpIdleTimeoutSeconds: 30,
    httpMaxRequestBytes: 8192,
    udpConnectionIdMaxAgeSeconds: 300,
    redirectUrl: ''
  }
}

/** Merges user options over the defaults and checks them; throws a clear Error on bad values. */
export function resolveOptions (user: Partial<TrackerOptions> = {}): TrackerOptions {
  const o: TrackerOptions = { ...defaultOptions(), ...user }
  const positive: Array<keyof TrackerOptions> = [
    'announceIntervalSeconds', 'numwantMax', 'scrapeMaxHashes', 'peerTimeoutSeconds',
    'torrentTimeoutSeconds', 'cleanPassSeconds', 'httpIdleTimeoutSeconds', 'httpMaxRequestBytes',
    'udpConnectionIdMaxAgeSeconds'
  ]
  for (const k of positive) {
    const v = o[k]
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`invalid ${k}: ${String(v)} (a positive integer is required)`)
  }
  for (const k of ['announceIntervalJitterSeconds', 'numwantDefault'] as const) {
    const v = o[k]
    if (!Number.isInteger(v) || v < 0) throw new Error(`invalid ${k}: ${String(v)} (a non-negative integer is required)`)
  }
  if (o.announceIntervalJitterSeconds >= o.announceIntervalSeconds) throw new Error('announceIntervalJitterSeconds must be smaller than announceIntervalSeconds')
  if (o.numwantMax > 1000) throw new Error('numwantMax above 1000 is not supported')
  if (o.scrapeMaxHashes > 1000) throw new Error('scrapeMaxHashes above 1000 is not supported')
  if (o.udpConnectionIdMaxAgeSeconds < 120) throw new Error('udpConnectionIdMaxAgeSeconds must be at least 120 (BEP 15)')
  for (const l of [...o.http, ...o.udp]) {
    if (typeof l.host !== 'string' || l.host === '' || !Number.isInteger(l.port) || l.port < 0 || l.port > 65535) {
      throw new Error(`invalid listen address ${JSON.stringify(l)}`)
    }
  }
  return o
}
