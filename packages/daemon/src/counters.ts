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
  fullScrapeBytes = 0
  /** Reply bytes handed to the kernel. */
  httpBytesOut = 0
  udpBytesOut = 0
  /** Peers received from cluster sync (livesync records and /sync changesets). */
  syncPeersReceived = 0
  /** Requests whose address came from a trusted proxy's X-Forwarded-For. */
  httpForwarded = 0

  httpError (status: number): void {
    this.httpErrors.set(status, (this.httpErrors.get(status) ?? 0) + 1)
  }
}
