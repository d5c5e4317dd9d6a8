/** What `otctl announce` and `otctl scrape` report, whichever protocol answered. */

export interface Peer { ip: string, port: number }

export interface AnnounceRequest {
  infoHash: Buffer
  peerId: Buffer
  port: number
  uploaded: number
  downloaded: number
  left: number
  /** none, completed, started, stopped (BEP 3 / BEP 15 names). */
  event: 'none' | 'completed' | 'started' | 'stopped'
  numWant: number
  key: number
}

export interface AnnounceResult {
  tracker: string
  protocol: 'http' | 'udp'
  info_hash: string
  interval: number
  min_interval?: number
  seeders: number
  leechers: number
  downloaded?: number
  peers: Peer[]
  warning?: string
  external_ip?: string
}

export interface ScrapeEntry { info_hash: string, seeders: number, completed: number, leechers: number }

export interface ScrapeResult {
  tracker: string
  protocol: 'http' | 'udp'
  files: ScrapeEntry[]
  /** Hashes the tracker did not report (unknown to it, or refused). */
  missing: string[]
}
