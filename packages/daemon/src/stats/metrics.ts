/**
 * Prometheus text exposition (version 0.0.4) of otd's counters and gauges at `/metrics`,
 * restricted like `/stats`. Names follow Prometheus conventions: `_total` for counters, base
 * units (seconds, bytes).
 */
import type { StatsView, WorkerFigures } from './context.js'

export function renderMetrics (ctx: StatsView): string {
  const s = ctx.store
  const c = ctx.counters
  const out: string[] = []
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[string, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, v] of samples) out.push(`${name}${labels} ${Number.isFinite(v) ? v : 0}`)
  }
  metric('otd_info', 'gauge', 'otd version.', [[`{version="${ctx.version}"}`, 1]])
  metric('otd_uptime_seconds', 'gauge', 'Seconds since the tracker started.', [['', ctx.uptimeSeconds]])
  metric('otd_requests_total', 'counter', 'Requests by protocol and action.', [
    ['{protocol="http",action="announce"}', c.httpAnnounces],
    ['{protocol="http",action="scrape"}', c.httpScrapes],
    ['{protocol="http",action="fullscrape"}', c.fullScrapes],
    ['{protocol="http",action="any"}', c.httpRequests],
    ['{protocol="udp",action="connect"}', c.udpConnects],
    ['{protocol="udp",action="announce"}', c.udpAnnounces],
    ['{protocol="udp",action="scrape"}', c.udpScrapes],
    ['{protocol="udp",action="any"}', c.udpPackets]
  ])
  metric('otd_http_errors_total', 'counter', 'HTTP error replies by status code.',
    [...c.httpErrors].sort((a, b) => a[0] - b[0]).map(([code, n]) => [`{code="${code}"}`, n]))
  metric('otd_udp_errors_total', 'counter', 'UDP packets not answered normally, by kind.', [
    ['{kind="bad_connection_id"}', c.udpBadConnectionId],
    ['{kind="malformed"}', c.udpDropped],
    ['{kind="send_failed"}', c.udpSendErrors]
  ])
  metric('otd_access_denied_total', 'counter', 'Announces refused by the access lists.', [
    ['{protocol="http"}', c.httpDenied], ['{protocol="udp"}', c.udpDenied]
  ])
  metric('otd_fullscrape_limited_total', 'counter', 'Full scrapes refused by the per-address rate limit.', [['', c.fullScrapesLimited]])
  metric('otd_rate_limited_total', 'counter', 'Requests refused by the per-address rate limits, by protocol and kind.', [
    ['{protocol="http",kind="announce"}', c.httpAnnouncesLimited], ['{protocol="http",kind="scrape"}', c.httpScrapesLimited],
    ['{protocol="http",kind="fullscrape"}', c.fullScrapesLimited],
    ['{protocol="udp",kind="announce"}', c.udpAnnouncesLimited], ['{protocol="udp",kind="scrape"}', c.udpScrapesLimited]
  ])
  const table = ctx.rateTable()
  if (table !== null) {
    metric('otd_rate_limit_table_slots', 'gauge', 'Addresses the rate limiter can remember.', [['', table.slots]])
    metric('otd_rate_limit_table_entries', 'gauge', 'Addresses with a bucket that is not full now.', [['', table.entries]])
    metric('otd_rate_limit_table_evictions_total', 'counter', 'Live entries evicted for a new address (the table is too small if this grows fast).', [['', table.evictions]])
  }
  metric('otd_fullscrape_bytes_total', 'counter', 'Bytes of full scrapes sent (after compression).', [['', c.fullScrapeBytes]])
  metric('otd_bytes_out_total', 'counter', 'Reply bytes sent by protocol.', [['{protocol="http"}', c.httpBytesOut], ['{protocol="udp"}', c.udpBytesOut]])
  metric('otd_tcp_connections_total', 'counter', 'TCP connections accepted.', [['', c.tcpAccepts]])
  metric('otd_tcp_connections_open', 'gauge', 'TCP connections open now.', [['', ctx.openConnections()]])
  metric('otd_tcp_refused_total', 'counter', 'TCP connections reset right after accept, by the cap reached.', [
    ['{reason="max_connections"}', c.tcpRefusedMaxConnections], ['{reason="per_address"}', c.tcpRefusedPerAddress]
  ])
  metric('otd_http_closed_total', 'counter', 'HTTP connections closed by a limit, by reason.', [
    ['{reason="first_byte_timeout"}', c.httpClosedFirstByteTimeout], ['{reason="request_timeout"}', c.httpClosedRequestTimeout],
    ['{reason="idle_timeout"}', c.httpClosedIdleTimeout], ['{reason="head_too_large"}', c.httpHeadTooLarge]
  ])
  metric('otd_forwarded_requests_total', 'counter', 'Requests whose address came from a trusted X-Forwarded-For.', [['', c.httpForwarded]])
  metric('otd_sync_peers_received_total', 'counter', 'Peers received from cluster sync.', [['', c.syncPeersReceived]])
  metric('otd_sync_received_records_total', 'counter', 'Received sync records (live sync and /sync imports) by what they did.', [
    ['{outcome="added"}', c.syncAdded], ['{outcome="updated"}', c.syncUpdated], ['{outcome="removed"}', c.syncRemoved],
    ['{outcome="unchanged"}', c.syncUnchanged], ['{outcome="denied"}', c.syncDenied], ['{outcome="expired"}', c.syncExpired]
  ])
  metric('otd_sync_exports_total', 'counter', 'GET /sync changesets served.', [['', c.syncExports]])
  metric('otd_sync_exported_peers_total', 'counter', 'Peer records (live and stopped) in served changesets.', [['', c.syncExportedPeers]])
  metric('otd_sync_imports_total', 'counter', '/sync imports by result (rejected: malformed, nothing applied).', [
    ['{result="applied"}', c.syncImports], ['{result="rejected"}', c.syncImportsRejected]
  ])
  metric('otd_sync_livesync_packets_total', 'counter', 'Live-sync datagrams by direction.', [['{direction="in"}', c.syncLivePacketsIn], ['{direction="out"}', c.syncLivePacketsOut]])
  metric('otd_sync_livesync_records_sent_total', 'counter', 'Live-sync peer records sent (each once per packet, however many destinations).', [['', c.syncLiveRecordsOut]])
  metric('otd_sync_livesync_send_errors_total', 'counter', 'Live-sync datagrams the kernel refused.', [['', c.syncLiveSendErrors]])
  metric('otd_sync_livesync_dropped_total', 'counter', 'Live-sync datagrams dropped, by reason.', [
    ['{reason="malformed"}', c.syncLiveMalformed], ['{reason="unauthorized"}', c.syncLiveUnauthorized], ['{reason="forged"}', c.syncLiveForged],
    ['{reason="replayed"}', c.syncLiveReplayed], ['{reason="own"}', c.syncLiveOwn]
  ])
  metric('otd_torrents', 'gauge', 'Torrents in memory.', [['', s.torrentCount]])
  metric('otd_peers', 'gauge', 'Peers by address family.', [['{family="ipv4"}', s.peers - s.peers6], ['{family="ipv6"}', s.peers6]])
  metric('otd_seeders', 'gauge', 'Peers that are seeding.', [['', s.seeders]])
  metric('otd_leechers', 'gauge', 'Peers that are not seeding.', [['', s.peers - s.seeders]])
  metric('otd_completed_total', 'counter', 'Completed downloads counted since start.', [['', s.completed]])
  metric('otd_store_bytes', 'gauge', 'Bytes of the swarm store: live (what the memory limit counts) and allocated.', [['{kind="live"}', s.liveBytes], ['{kind="allocated"}', s.bytes]])
  metric('otd_store_memory_limit_bytes', 'gauge', 'The swarm store budget (0: none).', [['', s.limits.memoryLimitBytes ?? 0]])
  metric('otd_evicted_torrents_total', 'counter', 'Torrents evicted to stay within tracker.max_torrents or tracker.memory_limit.', [['', s.evictedTorrents]])
  metric('otd_evicted_peers_total', 'counter', 'Peers dropped by eviction: with their torrent, or to make room under tracker.max_peers_per_torrent.', [
    ['{reason="torrent"}', s.evictedTorrentPeers], ['{reason="max_peers"}', s.evictedPeers]
  ])
  const lists = ctx.access.names()
  if (lists.length > 0) {
    metric('otd_access_list_entries', 'gauge', 'Entries per access list.', lists.map((l) => [`{list="${l}"}`, ctx.access.size(l)]))
    metric('otd_access_list_reloads_total', 'counter', 'Access-list reloads (SIGHUP, admin).', [['', ctx.access.reloads]])
    metric('otd_access_list_reload_failures_total', 'counter', 'List files that could not be (re)loaded; the previous list was kept.', [['', ctx.access.reloadFailures]])
  }
  metric('otd_event_loop_delay_seconds', 'gauge', 'Event-loop delay percentiles since start.', [
    ['{quantile="0.5"}', ctx.lagMs(50) / 1000], ['{quantile="0.99"}', ctx.lagMs(99) / 1000], ['{quantile="1"}', ctx.lagMs(100) / 1000]
  ])
  metric('otd_event_loop_utilization', 'gauge', 'Share of time the event loop was busy (last second or more).', [['', ctx.utilization()]])
  const w = ctx.workers
  if (w !== undefined) {
    const per = (f: (x: WorkerFigures) => number, extra = ''): Array<[string, number]> => w.map((x) => [`{worker="${x.worker}"${extra}}`, f(x)])
    metric('otd_workers', 'gauge', 'Worker threads (--workers), each owning a shard of the torrents.', [['', w.length]])
    metric('otd_worker_torrents', 'gauge', 'Torrents in each worker\'s shard.', per((x) => x.torrents))
    metric('otd_worker_peers', 'gauge', 'Peers in each worker\'s shard.', per((x) => x.peers))
    metric('otd_worker_requests_total', 'counter', 'Requests answered by each worker, by protocol (a forwarded request counts at its owner).', [
      ...per((x) => x.udpPackets, ',protocol="udp"'), ...per((x) => x.httpRequests, ',protocol="http"')
    ])
    metric('otd_worker_forwarded_total', 'counter', 'Requests each worker handed to the owner of their torrent, by kind.', [
      ...per((x) => x.udpForwarded, ',kind="udp"'), ...per((x) => x.httpForwarded, ',kind="http"'),
      ...per((x) => x.scrapeGathers, ',kind="scrape_gather"'), ...per((x) => x.udpDropped, ',kind="udp_dropped"')
    ])
    metric('otd_worker_wakes_total', 'counter', 'Wake-ups each worker sent to others after handing them requests (most hand-overs need none).', per((x) => x.wakes))
    metric('otd_worker_event_loop_utilization', 'gauge', 'Share of time each worker\'s event loop was busy.', per((x) => x.utilization))
  }
  const m = process.memoryUsage()
  metric('otd_memory_bytes', 'gauge', 'Process memory by kind.', [
    ['{kind="rss"}', m.rss], ['{kind="heap_used"}', m.heapUsed], ['{kind="heap_total"}', m.heapTotal],
    ['{kind="external"}', m.external], ['{kind="array_buffers"}', m.arrayBuffers]
  ])
  return out.join('\n') + '\n'
}
