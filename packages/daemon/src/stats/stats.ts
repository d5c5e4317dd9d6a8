/**
 * The `/stats` page (reference §6): opentracker's modes with their exact text bodies (MRTG-style
 * bodies have no trailing newline), plus `format=json` for every mode, which opentracker lacks.
 * `tpbs` and `statedump` are full scrapes and are streamed by fullscrape.ts; this module only
 * decides that. Differences from opentracker, all deliberate (docs/stats.md):
 *  - `busy` reports event-loop load instead of a 500;
 *  - `fscr` counts full scrapes (opentracker stopped counting in 2015);
 *  - `herr` labels line up with their counts;
 *  - `tpbs` without `format` is a bencoded full scrape instead of a request that never completes.
 */
import { SCRAPE_FORMAT_BEN, SCRAPE_FORMAT_STATEDUMP, parseScrapeFormat } from '@otd/proto'
import { queryPairs } from '../http/query-params.js'
import type { SwarmStore } from '../swarm/store.js'
import { type StatsView, type TopEntry, type TopTorrents, topTorrents as topOfStore } from './context.js'

export type { TopEntry }

/** The `n` torrents of `ctx.store` with the most peers, seeds and leechers (see stats/context.ts). */
export function topTorrents (ctx: { store: SwarmStore }, n: number): TopTorrents {
  return topOfStore(ctx.store, n)
}

export type StatsAnswer =
  | { kind: 'reply', status: number, contentType: string, body: string }
  | { kind: 'fullscrape', format: number, json: boolean }

export interface StatsParams {
  mode: string
  format: string
  hasInfoHash: boolean
}

/** Decodes the stats query (`mode`, `format`; `info_hash` is noted, everything else skipped). */
export function parseStatsQuery (query: string): StatsParams {
  const p: StatsParams = { mode: 'peer', format: '', hasInfoHash: false }
  for (const [k, v] of queryPairs(query, '\u0000')) {
    if (k === 'mode') p.mode = v
    else if (k === 'format') p.format = v
    else if (k === 'info_hash') p.hasInfoHash = true
  }
  return p
}

/** Whether answering `p` reads the tracker's figures (not a full scrape, not a parameter error). */
export function statsReadsFigures (p: StatsParams): boolean {
  return !p.hasInfoHash && MODES.has(p.mode) && p.mode !== 'tpbs' && p.mode !== 'statedump'
}

/** How many top torrents answering `p` needs (0 for modes without a top list). */
export function statsTopCount (p: StatsParams): number {
  return p.mode === 'top10' ? 10 : p.mode === 'top100' ? 100 : 0
}

const MODES = new Set(['peer', 'torr', 'conn', 'udp4', 'tcp4', 'scrp', 'fscr', 'completed', 'syncs', 'herr', 'renew',
  'version', 'busy', 'top10', 'top100', 'everything', 'tpbs', 'statedump'])

export const STATS_MODES: readonly string[] = [...MODES]

function bad (why: string): StatsAnswer {
  return { kind: 'reply', status: 400, contentType: 'text/plain', body: why }
}

function text (body: string): StatsAnswer {
  return { kind: 'reply', status: 200, contentType: 'text/plain', body }
}

function json (value: unknown): StatsAnswer {
  return { kind: 'reply', status: 200, contentType: 'application/json', body: JSON.stringify(value) + '\n' }
}

/** `<t> seconds (<h> hours)` and the per-second rate used by the MRTG modes. */
function mrtg (ctx: StatsView, a: number, b: number, label: string): string {
  const t = ctx.uptimeSeconds
  return `${a}\n${b}\n${t} seconds (${Math.floor(t / 3600)} hours)\n${label}`
}

function perSecond (n: number, t: number): number {
  return t > 0 ? Math.floor(n / t) : n
}

/** opentracker's `herr` slots, labels aligned with what they count. */
function httpErrorRows (ctx: StatsView): Array<[string, number]> {
  const e = ctx.counters.httpErrors
  const get = (code: number): number => e.get(code) ?? 0
  return [['302 RED', get(302)], ['400 ...', get(400)], ['400 PAR', 0], ['400 COM', 0], ['403 IP ', get(403)], ['404 INV', get(404)], ['500 SRV', get(500)]]
}

export function answerStats (p: StatsParams, ctx: StatsView): StatsAnswer {
  if (p.hasInfoHash) return bad('info_hash is not a stats parameter: this is the stats page, not an announce URL\n')
  if (!MODES.has(p.mode)) return bad(`unknown stats mode ${JSON.stringify(p.mode)}; modes: ${STATS_MODES.join(', ')}\n`)
  const asJson = p.format === 'json'
  if (p.mode === 'tpbs' || p.mode === 'statedump') {
    if (p.mode === 'statedump') {
      if (p.format !== '' && !asJson) return bad('statedump takes no format (or format=json)\n')
      return { kind: 'fullscrape', format: SCRAPE_FORMAT_STATEDUMP, json: asJson }
    }
    if (asJson) return { kind: 'fullscrape', format: SCRAPE_FORMAT_BEN, json: true }
    const f = p.format === '' ? SCRAPE_FORMAT_BEN : parseScrapeFormat(p.format)
    if (f < 0) return bad(`unknown full scrape format ${JSON.stringify(p.format)}; formats: ben, txt, txtp, bin, url, json\n`)
    return { kind: 'fullscrape', format: f, json: false }
  }
  if (p.format !== '' && !asJson) return bad(`format ${JSON.stringify(p.format)} applies to mode=tpbs only (or format=json)\n`)

  const s = ctx.store
  const c = ctx.counters
  const t = ctx.uptimeSeconds
  const torrents = s.torrentCount
  switch (p.mode) {
    case 'peer':
      return asJson
        ? json({ mode: 'peer', peers: s.peers, peers_ipv4: s.peers - s.peers6, peers_ipv6: s.peers6, seeds: s.seeders, leechers: s.peers - s.seeders, torrents })
        : text(`${s.peers}\n${s.seeders}\nopentracker serving ${torrents} torrents\nopentracker`)
    case 'torr':
      return asJson ? json({ mode: 'torr', torrents }) : text(`${torrents}\n0\nopentracker serving ${torrents} torrents\nopentracker`)
    case 'conn': {
      const a = c.tcpAccepts + c.udpPackets
      const b = c.httpAnnounces + c.udpAnnounces + c.udpConnects
      return asJson
        ? json({ mode: 'conn', connections: a, successes: b, uptime: t })
        : text(mrtg(ctx, a, b, `opentracker connections, ${perSecond(a, t)} conns/s :: ${perSecond(b, t)} success/s.`))
    }
    case 'udp4': {
      const a = c.udpPackets
      const b = c.udpAnnounces + c.udpConnects
      return asJson
        ? json({ mode: 'udp4', packets: a, connects: c.udpConnects, announces: c.udpAnnounces, scrapes: c.udpScrapes, bad_connection_id: c.udpBadConnectionId, dropped: c.udpDropped, uptime: t })
        : text(mrtg(ctx, a, b, `opentracker udp4 stats, ${perSecond(a, t)} conns/s :: ${perSecond(b, t)} success/s.`))
    }
    case 'tcp4': {
      const a = c.tcpAccepts
      const b = c.httpAnnounces
      return asJson
        ? json({ mode: 'tcp4', accepts: a, requests: c.httpRequests, announces: b, scrapes: c.httpScrapes, open: ctx.openConnections(), uptime: t })
        : text(mrtg(ctx, a, b, `opentracker tcp4 stats, ${perSecond(a, t)} conns/s :: ${perSecond(b, t)} success/s.`))
    }
    case 'scrp':
      return asJson
        ? json({ mode: 'scrp', tcp: c.httpScrapes, udp: c.udpScrapes, uptime: t })
        : text(mrtg(ctx, c.httpScrapes, c.udpScrapes, `opentracker scrape stats, ${perSecond(c.httpScrapes + c.udpScrapes, t)} scrape/s (tcp and udp)`))
    case 'fscr':
      return asJson
        ? json({ mode: 'fscr', fullscrapes: c.fullScrapes, limited: c.fullScrapesLimited, bytes: c.fullScrapeBytes, uptime: t })
        : text(mrtg(ctx, c.fullScrapes * 1000, c.fullScrapeBytes, `opentracker full scrape stats, ${perSecond(c.fullScrapes, t)} conns/s :: ${perSecond(c.fullScrapeBytes, t)} bytes/s.`))
    case 'completed':
      return asJson
        ? json({ mode: 'completed', completed: s.completed, uptime: t })
        : text(mrtg(ctx, s.completed, 0, `opentracker, ${t > 0 ? Math.floor(s.completed * 3600 / t) : s.completed} completed/h.`))
    case 'syncs':
      return asJson
        ? json({
          mode: 'syncs',
          received: c.syncPeersReceived,
          outcomes: { added: c.syncAdded, updated: c.syncUpdated, removed: c.syncRemoved, unchanged: c.syncUnchanged, denied: c.syncDenied, expired: c.syncExpired },
          batch: { exports: c.syncExports, exported_peers: c.syncExportedPeers, imports: c.syncImports, rejected: c.syncImportsRejected },
          livesync: {
            packets_in: c.syncLivePacketsIn,
            packets_out: c.syncLivePacketsOut,
            records_out: c.syncLiveRecordsOut,
            send_errors: c.syncLiveSendErrors,
            dropped: { malformed: c.syncLiveMalformed, unauthorized: c.syncLiveUnauthorized, forged: c.syncLiveForged, replayed: c.syncLiveReplayed, own: c.syncLiveOwn }
          },
          uptime: t
        })
        : text(mrtg(ctx, c.syncPeersReceived, c.syncLiveRecordsOut, `opentracker connections, ${perSecond(c.syncPeersReceived, t)} conns/s :: ${perSecond(c.syncLiveRecordsOut, t)} success/s.`))
    case 'herr': {
      if (asJson) return json({ mode: 'herr', errors: Object.fromEntries([...c.httpErrors].sort((a, b) => a[0] - b[0])) })
      return text(httpErrorRows(ctx).map(([label, n]) => `${label} ${n}\n`).join(''))
    }
    case 'renew': {
      const r = [...s.renew]
      if (asJson) return json({ mode: 'renew', minutes: r })
      return text(r.map((n, i) => `${String(i).padStart(2, '0')} ${n}\n`).join(''))
    }
    case 'version':
      return asJson ? json({ mode: 'version', name: 'otd', version: ctx.version }) : text(`otd ${ctx.version}\n`)
    case 'busy': {
      const util = ctx.utilization()
      const lag = ctx.lagMs(99)
      if (asJson) return json({ mode: 'busy', event_loop_utilization: util, event_loop_delay_p50_ms: ctx.lagMs(50), event_loop_delay_p99_ms: lag, open_connections: ctx.openConnections() })
      const pct = Math.round(util * 1000) / 10
      return text(mrtg(ctx, Math.round(util * 1000), Math.round(lag), `otd event loop ${pct}% busy, ${Math.round(lag)} ms p99 delay`))
    }
    case 'top10': case 'top100': {
      const n = p.mode === 'top10' ? 10 : 100
      const top = ctx.top(n)
      if (asJson) return json({ mode: p.mode, ...top })
      const block = (label: string, rows: TopEntry[]): string => `Top ${n} torrents by ${label}:\n` + rows.map((r) => `\t${r.count}\t${r.hash}\n`).join('')
      return text(block('peers', top.peers) + block('seeds', top.seeds) + block('leechers', top.leechers))
    }
    default: // 'everything'
      return asJson ? json(everythingObject(ctx)) : text(everythingXml(ctx))
  }
}

function everythingObject (ctx: StatsView): Record<string, unknown> {
  const s = ctx.store
  const c = ctx.counters
  return {
    mode: 'everything',
    tracker_id: ctx.trackerId,
    version: `otd ${ctx.version}`,
    uptime: ctx.uptimeSeconds,
    torrents: s.torrentCount,
    peers: s.peers,
    peers_ipv6: s.peers6,
    seeds: s.seeders,
    completed: s.completed,
    connections: {
      tcp: { accept: c.tcpAccepts, announce: c.httpAnnounces, scrape: c.httpScrapes },
      udp: { overall: c.udpPackets, connect: c.udpConnects, announce: c.udpAnnounces, scrape: c.udpScrapes, missmatch: c.udpBadConnectionId },
      livesync: c.syncPeersReceived
    },
    renew: [...s.renew],
    http_error: Object.fromEntries([...c.httpErrors].sort((a, b) => a[0] - b[0])),
    rate_limited: {
      http: { announce: c.httpAnnouncesLimited, scrape: c.httpScrapesLimited, fullscrape: c.fullScrapesLimited },
      udp: { announce: c.udpAnnouncesLimited, scrape: c.udpScrapesLimited }
    },
    store: { live_bytes: s.liveBytes, allocated_bytes: s.bytes, memory_limit_bytes: s.limits.memoryLimitBytes ?? 0 },
    evicted: { torrents: s.evictedTorrents, torrent_peers: s.evictedTorrentPeers, peers: s.evictedPeers },
    ...(ctx.workers !== undefined ? { workers: ctx.workers } : {})
  }
}

const HTTP_ERROR_LABELS: Array<[number, string]> = [[302, '302 Redirect'], [400, '400 Parse Error'], [402, '402 Payment Required'],
  [403, '403 Access Denied'], [404, '404 Not found'], [429, '429 Too Many Requests'], [500, '500 Internal Server Error'], [503, '503 Service Unavailable']]

/** `mode=everything` (reference §6.2): 2-space indentation, no trailing newline. */
function everythingXml (ctx: StatsView): string {
  const s = ctx.store
  const c = ctx.counters
  const renew = [...s.renew].map((n, i) => `      <count interval="${String(i).padStart(2, '0')}">${n}</count>`).join('\n')
  const herr = HTTP_ERROR_LABELS.map(([code, label]) => `      <count code="${label}">${c.httpErrors.get(code) ?? 0}</count>`).join('\n')
  return `<?xml version="1.0" encoding="UTF-8"?>
<stats>
  <tracker_id>${ctx.trackerId}</tracker_id>
  <version>
otd ${ctx.version}
  </version>
  <uptime>${ctx.uptimeSeconds}</uptime>
  <torrents>
    <count_mutex>${s.torrentCount}</count_mutex>
    <count_iterator>${s.torrentCount}</count_iterator>
  </torrents>
  <peers>
    <count>${s.peers}</count>
  </peers>
  <seeds>
    <count>${s.seeders}</count>
  </seeds>
  <completed>
    <count>${s.completed}</count>
  </completed>
  <connections>
    <tcp>
      <accept>${c.tcpAccepts}</accept>
      <announce>${c.httpAnnounces}</announce>
      <scrape>${c.httpScrapes}</scrape>
    </tcp>
    <udp>
      <overall>${c.udpPackets}</overall>
      <connect>${c.udpConnects}</connect>
      <announce>${c.udpAnnounces}</announce>
      <scrape>${c.udpScrapes}</scrape>
      <missmatch>${c.udpBadConnectionId}</missmatch>
    </udp>
    <livesync>
      <count>${c.syncPeersReceived}</count>
    </livesync>
  </connections>
  <debug>
    <renew>
${renew}
    </renew>
    <http_error>
${herr}
    </http_error>
    <mutex_stall>
      <count>0</count>
    </mutex_stall>
  </debug>
</stats>`
}
