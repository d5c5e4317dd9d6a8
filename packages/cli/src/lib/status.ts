/**
 * `otctl status`: one screen saying whether the daemon is up and how it is doing.
 */
import { formatBytes, formatCount, formatDuration, formatPairs, formatRate, plural } from './format.js'
import type { Status } from './otd-client.js'

/** Requests of every kind: HTTP requests (announces, scrapes, stats, admin, ...) plus UDP packets. */
export function totalRequests (s: Status): number {
  return (s.requests['http'] ?? 0) + (s.requests['udp'] ?? 0)
}

export interface Rates {
  /** Seconds the rate was measured over. */
  windowSeconds: number
  requestsPerSecond: number
  announcesPerSecond: number
  /** Whether the window is the whole uptime (no `--sample`). */
  sinceStart: boolean
}

export function rates (a: Status | null, b: Status, windowSeconds: number): Rates {
  const announces = (s: Status): number => (s.requests['http_announce'] ?? 0) + (s.requests['udp_announce'] ?? 0)
  if (a === null) {
    const t = Math.max(1, b.uptime)
    return { windowSeconds: b.uptime, requestsPerSecond: totalRequests(b) / t, announcesPerSecond: announces(b) / t, sinceStart: true }
  }
  const t = Math.max(0.001, windowSeconds)
  return {
    windowSeconds,
    requestsPerSecond: (totalRequests(b) - totalRequests(a)) / t,
    announcesPerSecond: (announces(b) - announces(a)) / t,
    sinceStart: false
  }
}

export function renderStatus (s: Status, r: Rates, url: string): string {
  const q = s.requests
  const p = (k: string, one: string): string => plural(q[k] ?? 0, one)
  const listeners = s.listeners.map((l) => `${l.protocol} ${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`).join(', ')
  const lists = s.access.length === 0
    ? 'none (open tracker)'
    : s.access.map((l) => `${l.list} ${plural(l.entries, 'entry', 'entries')}${l.file !== null ? ` (${l.file})` : ''}`).join('; ')
  const errors = Object.entries(s.http_errors).filter(([, v]) => v > 0).map(([k, v]) => `${k}: ${formatCount(v)}`).join(', ')
  const m = s.memory
  const pairs: Array<[string, string]> = [
    ['daemon', `${s.name} ${s.version}, pid ${s.pid}, up ${formatDuration(s.uptime)}`],
    ['url', url],
    ['listeners', listeners === '' ? '-' : listeners],
    ['torrents', formatCount(s.torrents)],
    ['peers', `${formatCount(s.peers)} (IPv4 ${formatCount(s.peers_ipv4)}, IPv6 ${formatCount(s.peers_ipv6)})`],
    ['seeders', formatCount(s.seeders)],
    ['leechers', formatCount(s.leechers)],
    ['completed', formatCount(s.completed)],
    ['requests/s', `${formatRate(r.requestsPerSecond)} (announces ${formatRate(r.announcesPerSecond)}/s), ${r.sinceStart ? 'average since start' : `over the last ${formatRate(r.windowSeconds)} s`}`],
    ['http', `${p('http', 'request')}: ${p('http_announce', 'announce')}, ${p('http_scrape', 'scrape')}, ${p('fullscrape', 'full scrape')}`],
    ['udp', `${p('udp', 'packet')}: ${p('udp_connect', 'connect')}, ${p('udp_announce', 'announce')}, ${p('udp_scrape', 'scrape')}`],
    ['http errors', errors === '' ? 'none' : errors],
    ['access lists', lists],
    ['memory', `rss ${formatBytes(m['rss'] ?? 0)}, heap ${formatBytes(m['heap_used'] ?? 0)} of ${formatBytes(m['heap_total'] ?? 0)}, external ${formatBytes(m['external'] ?? 0)}`],
    ['event loop', `${(s.event_loop.utilization * 100).toFixed(1)}% busy, p99 delay ${s.event_loop.delay_p99_ms.toFixed(1)} ms`]
  ]
  return formatPairs(pairs)
}
