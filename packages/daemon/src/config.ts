/**
 * Tracker configuration: one typed object with one source of defaults. Units are in the names.
 */
import { FAMILY_INVALID, FAMILY_V4, parseAddress, parseNet } from '@otd/proto'
import { totalmem } from 'node:os'
import type { Logger } from 'pino'
import type { Clock } from './clock.js'

/** An address and port to listen on. Port 0 picks a free port (see the addresses `listen()` returns). */
export interface ListenSpec {
  host: string
  port: number
}

/** Permission bits of blessed addresses (reference §11; otd adds admin and sync). */
export const MAY_STAT = 1
export const MAY_PROXY = 2
export const MAY_LIVESYNC = 4
export const MAY_FULLSCRAPE = 8
export const MAY_ADMIN = 16
export const MAY_SYNC = 32
/** What `-A` grants: everything. */
export const MAY_ALL = 63

/** A blessed address or network (`ip` or `ip/bits`, IPv4 or IPv6) and what it may do. */
export interface Blessing {
  net: string
  perms: number
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
  /** Most torrents held; at the limit the least recently active make room. 0 = no limit (default). */
  maxTorrents: number
  /** Most peers per torrent and address family; at the limit a stale peer makes room. 0 = no limit (default). */
  maxPeersPerTorrent: number
  /**
   * Budget in bytes for the swarm store (torrents and peers); over it the least recently active
   * torrents are evicted. 0 = no limit. Default: half of the machine's memory.
   */
  memoryLimitBytes: number
  /** How long a full cleaning pass over all torrents takes, spread in one-second slices. Default 120. */
  cleanPassSeconds: number
  /** HTTP connections without a byte received for this long are closed (idle keep-alive, stalled heads). Default 30. */
  httpIdleTimeoutSeconds: number
  /** A new HTTP connection must send its first byte within this long (half-open and silent connections). Default 10. */
  httpFirstByteTimeoutSeconds: number
  /** A request head must be complete this long after its first byte (slowloris), however bytes trickle in. Default 10. */
  httpRequestTimeoutSeconds: number
  /** Most open HTTP connections over all listeners; more are reset right after accept. Default 16384. */
  httpMaxConnections: number
  /**
   * Most open HTTP connections from one IPv4 address or one IPv6 /64; more are reset right after
   * accept. Addresses blessed with MAY_PROXY are exempt. Default 128.
   */
  httpMaxConnectionsPerAddress: number
  /** Largest HTTP request head accepted; beyond it the reply is 500 (opentracker). Default 8192. */
  httpMaxRequestBytes: number
  /** UDP connection ids are accepted for this long after connect. Default 300. */
  udpConnectionIdMaxAgeSeconds: number
  /** Redirect target for `GET /`; empty for 404. */
  redirectUrl: string
  /** Allow-list file (opentracker format); empty for none. Relative to the working directory. */
  whitelistFile: string
  /** Deny-list file; empty for none. With both lists, a hash must be allowed and not denied. */
  blacklistFile: string
  /** FIFO whose hash lines are added to the list (opentracker `access.fifo_add`); empty for none. */
  fifoAddPath: string
  /** FIFO whose hash lines are removed from the list (`access.fifo_delete`); empty for none. */
  fifoDeletePath: string
  /** Blessed addresses and networks with their permissions (`-A`, `access.stats`, `access.proxy`, ...). */
  blessed: Blessing[]
  /** Path of the stats page without the leading slash (`access.stats_path`). Default `stats`. */
  statsPath: string
  /** Whether /stats and /metrics answer only addresses blessed with MAY_STAT. */
  statsRestricted: boolean
  /** Minimum seconds between two full scrapes from one address (0: unlimited; opentracker modest: 300). */
  fullScrapeIntervalSeconds: number
  /** Full scrapes an address may make at once before {@link fullScrapeIntervalSeconds} applies. Default 1. */
  fullScrapeBurst: number
  /** Announces per second each address may make on average (HTTP and UDP; 0: unlimited, the default). Fractions allowed. */
  announceRatePerSecond: number
  /** Announces an address may make at once before the rate applies (at least the rate). Default 1000. */
  announceBurst: number
  /** Scrapes (not full scrapes) per second each address may make on average (0: unlimited, the default). */
  scrapeRatePerSecond: number
  /** Scrapes an address may make at once before the rate applies (at least the rate). Default 1000. */
  scrapeBurst: number
  /** Addresses the rate limiter remembers, rounded up to a power of two (48 bytes each, allocated only when a limit is on). Default 65536. */
  rateLimitTableSlots: number
  /** IPv6 addresses are rate limited per prefix of this many bits. Default 64. */
  rateLimitIPv6PrefixBits: number
  /** Send BEP 24 `external ip` in HTTP announce replies. */
  externalIp: boolean
  /** Warm-restart state file (live peers and counts); empty for none. */
  stateFile: string
  /** How often the state file is rewritten while running (seconds; 0: only at shutdown). Default 300. */
  stateFileIntervalSeconds: number
  /**
   * Live sync over multicast (reference §10.2): the interface address and port, or null for none.
   * Packets are received on `0.0.0.0:port` in {@link livesyncGroup} joined on that interface
   * (`0.0.0.0` or `::`: the default interface) and sent to the group on the same port.
   */
  livesyncListen: ListenSpec | null
  /** Multicast group of live sync (IPv4). Default `224.0.23.5`, opentracker's. */
  livesyncGroup: string
  /** Authenticated unicast live sync: where to receive packets from the other nodes, or null. */
  livesyncUnicastListen: ListenSpec | null
  /** Authenticated unicast live sync: the other nodes' receive addresses. */
  livesyncPeers: ListenSpec[]
  /** Shared key of authenticated live sync, hex (16 to 64 bytes); '' for none. Needed by unicast live sync. */
  livesyncKey: string
  /** Buffered live-sync records go out at least this often (opentracker: 15 s). Default 15000. */
  livesyncFlushMs: number
  /** `GET /sync` exports own peers that announced (or stopped) within this many seconds. Default 300. */
  syncWindowSeconds: number
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
    maxTorrents: 0,
    maxPeersPerTorrent: 0,
    memoryLimitBytes: Math.floor(totalmem() / 2),
    httpIdleTimeoutSeconds: 30,
    httpFirstByteTimeoutSeconds: 10,
    httpRequestTimeoutSeconds: 10,
    httpMaxConnections: 16384,
    httpMaxConnectionsPerAddress: 128,
    httpMaxRequestBytes: 8192,
    udpConnectionIdMaxAgeSeconds: 300,
    redirectUrl: '',
    whitelistFile: '',
    blacklistFile: '',
    fifoAddPath: '',
    fifoDeletePath: '',
    blessed: [],
    statsPath: 'stats',
    statsRestricted: false,
    fullScrapeIntervalSeconds: 0,
    fullScrapeBurst: 1,
    announceRatePerSecond: 0,
    announceBurst: 1000,
    scrapeRatePerSecond: 0,
    scrapeBurst: 1000,
    rateLimitTableSlots: 65536,
    rateLimitIPv6PrefixBits: 64,
    externalIp: false,
    stateFile: '',
    stateFileIntervalSeconds: 300,
    livesyncListen: null,
    livesyncGroup: '224.0.23.5',
    livesyncUnicastListen: null,
    livesyncPeers: [],
    livesyncKey: '',
    livesyncFlushMs: 15_000,
    syncWindowSeconds: 300
  }
}

/** Merges user options over the defaults and checks them; throws a clear Error on bad values. */
export function resolveOptions (user: Partial<TrackerOptions> = {}): TrackerOptions {
  const o: TrackerOptions = { ...defaultOptions(), ...user }
  const positive: Array<keyof TrackerOptions> = [
    'announceIntervalSeconds', 'numwantMax', 'scrapeMaxHashes', 'peerTimeoutSeconds',
    'torrentTimeoutSeconds', 'cleanPassSeconds', 'httpIdleTimeoutSeconds', 'httpMaxRequestBytes',
    'httpFirstByteTimeoutSeconds', 'httpRequestTimeoutSeconds', 'httpMaxConnections', 'httpMaxConnectionsPerAddress',
    'udpConnectionIdMaxAgeSeconds', 'livesyncFlushMs', 'syncWindowSeconds'
  ]
  for (const k of positive) {
    const v = o[k]
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`invalid ${k}: ${String(v)} (a positive integer is required)`)
  }
  for (const k of ['announceIntervalJitterSeconds', 'numwantDefault', 'fullScrapeIntervalSeconds', 'stateFileIntervalSeconds', 'maxTorrents', 'maxPeersPerTorrent', 'memoryLimitBytes'] as const) {
    const v = o[k]
    if (!Number.isInteger(v) || v < 0) throw new Error(`invalid ${k}: ${String(v)} (a non-negative integer is required)`)
  }
  if (o.announceIntervalJitterSeconds >= o.announceIntervalSeconds) throw new Error('announceIntervalJitterSeconds must be smaller than announceIntervalSeconds')
  if (o.numwantMax > 1000) throw new Error('numwantMax above 1000 is not supported')
  if (o.scrapeMaxHashes > 1000) throw new Error('scrapeMaxHashes above 1000 is not supported')
  if (o.udpConnectionIdMaxAgeSeconds < 120) throw new Error('udpConnectionIdMaxAgeSeconds must be at least 120 (BEP 15)')
  checkRateLimits(o)
  for (const l of [...o.http, ...o.udp]) {
    if (typeof l.host !== 'string' || l.host === '' || !Number.isInteger(l.port) || l.port < 0 || l.port > 65535) {
      throw new Error(`invalid listen address ${JSON.stringify(l)}`)
    }
  }
  if (o.statsPath === '' || o.statsPath.startsWith('/') || Buffer.byteLength(o.statsPath) > 64 || /[\s?%]/.test(o.statsPath)) {
    throw new Error(`invalid statsPath ${JSON.stringify(o.statsPath)} (a path without leading slash, at most 64 bytes)`)
  }
  for (const b of o.blessed) {
    if (parseNet(b.net) === null) throw new Error(`invalid blessed address ${JSON.stringify(b.net)} (ip or ip/bits)`)
    if (!Number.isInteger(b.perms) || b.perms <= 0 || b.perms > MAY_ALL) throw new Error(`invalid permissions for ${b.net}`)
  }
  if (o.blessed.length > 1024) throw new Error('at most 1024 blessed addresses')
  checkLivesync(o)
  return o
}

/** Rate limits (limits/rate-limit.ts): the clock ticks once a second, so a burst below the rate would cap the rate. */
function checkRateLimits (o: TrackerOptions): void {
  for (const [rate, burst, kind] of [['announceRatePerSecond', 'announceBurst', 'announce'], ['scrapeRatePerSecond', 'scrapeBurst', 'scrape']] as const) {
    const r = o[rate]
    const b = o[burst]
    if (typeof r !== 'number' || !Number.isFinite(r) || r < 0 || r > 1_000_000) throw new Error(`invalid ${rate}: ${String(r)} (0 to 1000000 requests per second)`)
    if (!Number.isInteger(b) || b < 1 || b > 100_000_000) throw new Error(`invalid ${burst}: ${String(b)} (a positive integer is required)`)
    if (r > 0 && b < Math.ceil(r)) {
      throw new Error(`${burst} ${b} (limits.${kind}_burst) must be at least ${rate} ${r} (limits.${kind}_rate): the clock ticks once a second`)
    }
  }
  if (!Number.isInteger(o.fullScrapeBurst) || o.fullScrapeBurst < 1 || o.fullScrapeBurst > 1_000_000) throw new Error(`invalid fullScrapeBurst: ${String(o.fullScrapeBurst)} (a positive integer is required)`)
  if (!Number.isInteger(o.rateLimitTableSlots) || o.rateLimitTableSlots < 1024 || o.rateLimitTableSlots > 1 << 24) {
    throw new Error(`invalid rateLimitTableSlots: ${String(o.rateLimitTableSlots)} (1024 to 16777216)`)
  }
  if (!Number.isInteger(o.rateLimitIPv6PrefixBits) || o.rateLimitIPv6PrefixBits < 16 || o.rateLimitIPv6PrefixBits > 128) {
    throw new Error(`invalid rateLimitIPv6PrefixBits: ${String(o.rateLimitIPv6PrefixBits)} (16 to 128)`)
  }
}

const scratch = new Uint32Array(4)

function checkLivesync (o: TrackerOptions): void {
  const listens = [o.livesyncListen, o.livesyncUnicastListen, ...o.livesyncPeers]
  for (const l of listens) {
    if (l !== null && (typeof l.host !== 'string' || parseAddress(l.host, scratch) === FAMILY_INVALID || !Number.isInteger(l.port) || l.port < 0 || l.port > 65535)) {
      throw new Error(`invalid live sync address ${JSON.stringify(l)}`)
    }
  }
  for (const p of o.livesyncPeers) if (p.port === 0) throw new Error(`live sync peer ${p.host} needs a port`)
  if (parseAddress(o.livesyncGroup, scratch) !== FAMILY_V4 || scratch[0]! >>> 28 !== 14) {
    throw new Error(`invalid livesyncGroup ${JSON.stringify(o.livesyncGroup)} (an IPv4 multicast address, 224.0.0.0/4)`)
  }
  if (o.livesyncKey !== '' && (!/^(?:[0-9a-fA-F]{2}){16,64}$/.test(o.livesyncKey))) {
    throw new Error('invalid livesyncKey: 32 to 128 hex digits (16 to 64 bytes) are required')
  }
  if ((o.livesyncUnicastListen !== null || o.livesyncPeers.length > 0) && o.livesyncKey === '') {
    throw new Error('unicast live sync needs a shared key (livesync.unicast.key or livesync.unicast.key_file)')
  }
}
