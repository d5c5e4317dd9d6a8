/**
 * Plain integer counters, incremented inline on the hot paths (no objects, no events) and read
 * by stats and logs. Names follow what opentracker's /stats reports.
 */
export class Counters {
  readonly startedAt = Date.now()
  tcpAccepts = 0
  httpRequests = 0
  httpAnnounces = 0
  httpScrapes = 0
  /** HTTP error replies by status (400, 404, 500, ...). */
  readonly httpErrors = new Map<number, number>()
  udpPackets = 0
  udpConnects = 0
  udpAnnounces = 0
  udpScrapes = 0
  /** UDP packets carrying a wrong or expired connection id. */
  udpBadConnectionId = 0
  /** UDP packets dropped without a reply (malformed, unknown action). */
  udpDropped = 0
  udpSendErrors = 0
  /** Announces refused by the access lists. */
  httpDenied = 0
  udpDenied = 0
  /** Full scrapes started (HTTP /scrape and stats tpbs), refused by the rate limit, and bytes sent. */
  fullScrapes = 0
  fullScrapesLimited = 0
  /** Announces and scrapes refused by the per-address rate limits (limits/rate-limit.ts), by protocol. */
  httpAnnouncesLimited = 0
  httpScrapesLimited = 0
  udpAnnouncesLimited = 0
  udpScrapesLimited = 0
  fullScrapeBytes = 0
  /** Reply bytes handed to the kernel. */
  httpBytesOut = 0
  udpBytesOut = 0
  /** Peers received from cluster sync (livesync records and /sync changesets). */
  syncPeersReceived = 0
  /** Received sync records by outcome (sync/apply.ts): added, updated, removed, unchanged, refused by the access lists, too old. */
  syncAdded = 0
  syncUpdated = 0
  syncRemoved = 0
  syncUnchanged = 0
  syncDenied = 0
  syncExpired = 0
  /** `GET /sync` exports answered, and the peer records (live and stopped) they carried. */
  syncExports = 0
  syncExportedPeers = 0
  /** `/sync` imports applied, and those refused as malformed (400, nothing applied). */
  syncImports = 0
  syncImportsRejected = 0
  /** Live-sync packets received and sent (one multicast or one unicast datagram each), and records sent. */
  syncLivePacketsIn = 0
  syncLivePacketsOut = 0
  syncLiveRecordsOut = 0
  syncLiveSendErrors = 0
  /** Live-sync packets dropped: malformed, plain from an address without MAY_LIVESYNC (or authenticated without a key), bad MAC, stale or replayed, our own. */
  syncLiveMalformed = 0
  syncLiveUnauthorized = 0
  syncLiveForged = 0
  syncLiveReplayed = 0
  syncLiveOwn = 0
  /** Requests whose address came from a trusted proxy's X-Forwarded-For. */
  httpForwarded = 0
  /** TCP connections reset right after accept: over http.max_connections, over http.max_connections_per_address. */
  tcpRefusedMaxConnections = 0
  tcpRefusedPerAddress = 0
  /** HTTP connections closed by a deadline (http/connection-guard.ts): no first byte, head not complete, idle. */
  httpClosedFirstByteTimeout = 0
  httpClosedRequestTimeout = 0
  httpClosedIdleTimeout = 0
  /** Request heads over http.max_request_bytes (answered 500, then closed). */
  httpHeadTooLarge = 0
  /**
   * `--workers` (workers/router.ts): UDP packets handed to the worker owning their torrent, and
   * those dropped because its ring was full; HTTP announces handed over; scrapes whose counts were
   * collected from other workers. All 0 with one worker.
   */
  shardUdpForwarded = 0
  shardUdpDropped = 0
  shardHttpForwarded = 0
  shardScrapeGathers = 0

  httpError (status: number): void {
    this.httpErrors.set(status, (this.httpErrors.get(status) ?? 0) + 1)
  }
}
