// Minimal types for the parts of the npm `bittorrent-tracker` (v11) client that
// the end-to-end tests use. The package ships no TypeScript declarations.

declare module 'bittorrent-tracker/client' {
  import { EventEmitter } from 'node:events'

  export interface AnnounceOpts {
    uploaded?: number
    downloaded?: number
    /** HTTP sends 16384 and UDP sends 2^64-1 when omitted: always pass it. */
    left?: number
    numwant?: number
  }

  export interface ClientOpts {
    /** 40 hex characters or 20 bytes. */
    infoHash: string | Uint8Array
    /** 40 hex characters or 20 bytes. */
    peerId: string | Uint8Array
    announce: string | string[]
    port: number
    userAgent?: string
    getAnnounceOpts?: () => AnnounceOpts
  }

  /** `update` event: the tracker's announce reply (HTTP: the whole decoded dictionary). */
  export interface UpdateData {
    announce: string
    complete: number
    incomplete: number
    [key: string]: unknown
  }

  export interface ScrapeData {
    announce: string
    infoHash: string
    complete: number
    incomplete: number
    downloaded: number
    [key: string]: unknown
  }

  export default class Client extends EventEmitter {
    constructor(opts: ClientOpts)
    readonly peerId: string
    readonly infoHash: string
    destroyed: boolean
    start(opts?: AnnounceOpts): void
    stop(opts?: AnnounceOpts): void
    complete(opts?: AnnounceOpts): void
    update(opts?: AnnounceOpts): void
    scrape(opts?: { infoHash?: string | string[] }): void
    setInterval(intervalMs: number): void
    destroy(cb?: (err: Error | null) => void): void

    on(event: 'update', listener: (data: UpdateData) => void): this
    on(event: 'scrape', listener: (data: ScrapeData) => void): this
    /** `ip:port` (IPv6 as `[ip]:port`). */
    on(event: 'peer', listener: (addr: string) => void): this
    on(event: 'warning' | 'error', listener: (err: Error) => void): this
  }
}
