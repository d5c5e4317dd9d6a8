/**
 * `/stats?mode=MODE&format=json` (docs/stats.md) and `/metrics` rendered for people: counts with
 * thousands separators, bytes and durations in human units, lists as aligned tables.
 */
import { formatBytes, formatCount, formatDuration, formatPairs, formatTable } from '../format.js'

/** Every `/stats` mode otd answers, plus `metrics` (the Prometheus page). */
export const STATS_MODES = ['peer', 'torr', 'conn', 'udp4', 'tcp4', 'scrp', 'fscr', 'completed', 'syncs', 'herr', 'renew',
  'version', 'busy', 'top10', 'top100', 'everything', 'tpbs', 'statedump', 'metrics'] as const

export type StatsMode = typeof STATS_MODES[number]

/** Modes whose body is a full scrape: big, streamed, not meant for `--watch`. */
export const STREAMED_MODES: ReadonlySet<string> = new Set(['tpbs', 'statedump'])

const LABELS: Record<string, string> = {
  peers_ipv4: 'peers (IPv4)',
  peers_ipv6: 'peers (IPv6)',
  bad_connection_id: 'bad connection ids',
  event_loop_utilization: 'event loop busy',
  event_loop_delay_p50_ms: 'event loop delay p50',
  event_loop_delay_p99_ms: 'event loop delay p99',
  open_connections: 'open connections',
  fullscrapes: 'full scrapes',
  limited: 'full scrapes refused (rate limit)',
  tracker_id: 'tracker id'
}

function label (path: string): string {
  const last = path.split('.').pop() ?? path
  return LABELS[last] !== undefined && path === last ? LABELS[last] : path.replace(/_/g, ' ')
}

function formatValue (key: string, v: unknown): string {
  if (v === null || v === undefined) return '-'
  if (typeof v === 'number') {
    const last = key.split('.').pop() ?? key
    if (last === 'uptime') return v < 60 ? formatDuration(v) : `${formatDuration(v)} (${formatCount(v)} s)`
    if (last === 'tracker_id') return String(v)
    if (last === 'bytes' || last.endsWith('_bytes')) return formatBytes(v)
    if (last.endsWith('_ms')) return `${v.toFixed(1)} ms`
    if (last.endsWith('utilization')) return `${(v * 100).toFixed(1)}%`
    return formatCount(v)
  }
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

/** Flattens nested objects to `a.b.c` pairs; arrays are rendered by the caller. */
function flatten (obj: Record<string, unknown>, prefix = '', out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  for (const [k, v] of Object.entries(obj)) {
    if (prefix === '' && k === 'mode') continue
    const key = prefix === '' ? k : `${prefix}.${k}`
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out)
    else out.push([key, v])
  }
  return out
}

interface TopEntry { hash: string, count: number }

function topTable (title: string, rows: TopEntry[]): string {
  if (rows.length === 0) return `${title}: none`
  return `${title}:\n` + formatTable(rows.map((r, i) => [String(i + 1), formatCount(r.count), r.hash.toLowerCase()]), ['#', 'count', 'info_hash'])
}

/** The 45 renew buckets: minutes since a re-announcing peer's previous announce, non-empty rows only. */
function renewTable (minutes: number[]): string {
  const rows = minutes.map((n, i) => [String(i), formatCount(n)]).filter((r) => r[1] !== '0')
  if (rows.length === 0) return 'no re-announces counted yet'
  return formatTable(rows, ['minutes', 're-announces'])
}

export function renderStatsJson (mode: string, obj: Record<string, unknown>): string {
  switch (mode) {
    case 'top10': case 'top100': {
      const n = mode === 'top10' ? 10 : 100
      return [['peers', obj['peers']], ['seeds', obj['seeds']], ['leechers', obj['leechers']]]
        .map(([by, rows]) => topTable(`top ${n} torrents by ${String(by)}`, (rows ?? []) as TopEntry[])).join('\n\n')
    }
    case 'renew':
      return renewTable((obj['minutes'] ?? []) as number[])
    case 'herr': {
      const errors = Object.entries((obj['errors'] ?? {}) as Record<string, number>)
      return errors.length === 0 ? 'no HTTP errors' : formatTable(errors.map(([code, n]) => [code, formatCount(n)]), ['status', 'count'])
    }
    default: {
      const pairs = flatten(obj)
      const scalars = pairs.filter(([, v]) => !Array.isArray(v))
      let out = formatPairs(scalars.map(([k, v]) => [label(k), formatValue(k, v)]))
      for (const [k, v] of pairs) {
        if (!Array.isArray(v)) continue
        out += `\n\n${label(k)}:\n` + (k === 'renew' ? renewTable(v as number[]) : (v as unknown[]).map((x) => `  ${JSON.stringify(x)}`).join('\n'))
      }
      return out
    }
  }
}

export interface Metric { name: string, labels: Record<string, string>, value: number }

/** Parses Prometheus text exposition (the subset otd writes: no timestamps, no escapes in labels but `\"`). */
export function parseMetrics (text: string): Metric[] {
  const out: Metric[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1')
    out.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return out
}

function metricValue (m: Metric): string {
  if (m.name.includes('_bytes')) return formatBytes(m.value)
  if (m.name.endsWith('_seconds')) {
    if (m.name.includes('uptime')) return formatDuration(m.value)
    return m.value < 1 ? `${(m.value * 1000).toFixed(1)} ms` : `${m.value.toFixed(2)} s`
  }
  if (m.name.endsWith('_utilization')) return `${(m.value * 100).toFixed(1)}%`
  return formatCount(m.value)
}

export function renderMetrics (metrics: Metric[]): string {
  return formatTable(metrics.map((m) => [m.name, Object.entries(m.labels).map(([k, v]) => `${k}=${v}`).join(' '), metricValue(m)]),
    ['metric', 'labels', 'value'], ['left', 'left', 'right'])
}
