/**
 * The operator routes behind the tracker's HTTP port: `/stats` (and `access.stats_path`),
 * `/metrics`, the full scrape (`GET /scrape` without a query), the admin endpoint (`/otd/...`)
 * and `/sync`. None of them is on the announce path; they build whole replies or take over the
 * connection ({@link Deferred}) to stream or to read a request body.
 *
 * Access: stats and metrics are public unless `access.stats` restricted them to MAY_STAT
 * addresses; the admin endpoint needs MAY_ADMIN (`-A` or `access.admin`) and is refused to
 * everyone when nobody is blessed; `/sync` needs MAY_SYNC. Full scrapes are public, as in
 * opentracker, with an optional per-address interval (`access.fullscrape_interval`).
 */
import type net from 'node:net'
import {
  ENCODING_IDENTITY, ROUTE_ADMIN, ROUTE_FULL_SCRAPE, ROUTE_METRICS, ROUTE_STATS, ROUTE_SYNC,
  SCRAPE_FORMAT_BEN, chooseEncoding, type HttpRequestHead
} from '@otd/proto'
import { MAY_ADMIN, MAY_FULLSCRAPE, MAY_STAT, MAY_SYNC } from '../config.js'
import { streamFullScrape, type FullScrapeRequest } from '../fullscrape/stream.js'
import { KIND_FULLSCRAPE } from '../limits/rate-limit.js'
import { renderMetrics } from '../stats/metrics.js'
import { answerStats, parseStatsQuery, statsReadsFigures, statsTopCount } from '../stats/stats.js'
import { handleAdmin, type AdminHost } from './admin.js'
import { jsonReply, simpleReply } from './simple-reply.js'

/** Takes over a connection: the socket, and the bytes already received after the request head. */
export type Deferred = (socket: net.Socket, rest: Buffer) => void

export class OpsRoutes {
  /** Whether the connection closes after a {@link handle} that returned a buffer, and that reply's status. */
  close = true
  status = 200
  constructor (private readonly host: AdminHost) {}

  private perms (family: number, ip: Uint32Array): number {
    return this.host.blessings.permsOf(family, ip)
  }

  private statsAllowed (family: number, ip: Uint32Array): boolean {
    return !this.host.options.statsRestricted || (this.perms(family, ip) & MAY_STAT) !== 0
  }

  /**
   * Answers an operator route for a client at (`family`, `ip`); (`limitFamily`, `limitIp`) is the
   * address full scrapes are rate limited by (the X-Forwarded-For of a trusted proxy, or the same).
   */
  handle (route: number, buf: Buffer, head: HttpRequestHead, family: number, ip: Uint32Array,
    limitFamily = family, limitIp = ip): Buffer | Deferred | number {
    const h = this.host
    this.close = !head.keepAlive
    this.status = 200
    const query = head.queryStart < 0 ? '' : buf.toString('latin1', head.queryStart, head.queryEnd)
    switch (route) {
      case ROUTE_STATS: {
        if (!this.statsAllowed(family, ip)) return 403
        const p = parseStatsQuery(query)
        if (h.sharded && statsReadsFigures(p)) {
          // Figures of every worker: collected asynchronously, answered on a taken-over connection.
          this.close = true
          return (socket) => {
            Promise.resolve(h.statsView(statsTopCount(p))).then((view) => {
              const a = answerStats(p, view)
              if (a.kind !== 'reply') throw new Error('unexpected full scrape')
              socket.end(simpleReply({ status: a.status, contentType: a.contentType, body: a.body, keepAlive: false }))
              if (a.status !== 200) h.counters.httpError(a.status)
            }).catch((err: unknown) => { h.logger.error({ err }, 'stats failed'); socket.destroy() })
          }
        }
        const answer = answerStats(p, h.stats)
        if (answer.kind === 'reply') {
          if (answer.status !== 200) return this.error(answer.status, simpleReply({ status: answer.status, contentType: 'text/plain', body: answer.body, keepAlive: false }))
          return simpleReply({ status: 200, contentType: answer.contentType, body: answer.body, keepAlive: !this.close })
        }
        return this.fullScrape(buf, head, family, ip, limitFamily, limitIp, answer.format, answer.json)
      }
      case ROUTE_FULL_SCRAPE:
        return this.fullScrape(buf, head, family, ip, limitFamily, limitIp, SCRAPE_FORMAT_BEN, false)
      case ROUTE_METRICS:
        if (!this.statsAllowed(family, ip)) return 403
        if (h.sharded) {
          this.close = true
          return (socket) => {
            Promise.resolve(h.statsView(0)).then((view) => {
              socket.end(simpleReply({ status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: renderMetrics(view), keepAlive: false }))
            }).catch((err: unknown) => { h.logger.error({ err }, 'metrics failed'); socket.destroy() })
          }
        }
        return simpleReply({ status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: renderMetrics(h.stats), keepAlive: !this.close })
      case ROUTE_ADMIN:
        if ((this.perms(family, ip) & MAY_ADMIN) === 0) {
          return this.error(403, jsonReply(403, { error: 'this address may not use the admin endpoint (bless it with -A or access.admin)' }))
        }
        return (socket, rest) => { void handleAdmin(h, buf.toString('latin1', head.pathStart, head.pathEnd), query, head.method, head.contentLength, socket, rest) }
      case ROUTE_SYNC:
        if ((this.perms(family, ip) & MAY_SYNC) === 0) return 403
        return (socket, rest) => { h.sync.handle(head.method, query, head.contentLength, socket, rest) }
      default:
        return 404
    }
  }

  /** An error reply: the connection closes after it. */
  private error (status: number, reply: Buffer): Buffer {
    this.status = status
    this.close = true
    return reply
  }

  private fullScrape (buf: Buffer, head: HttpRequestHead, family: number, ip: Uint32Array, limitFamily: number, limitIp: Uint32Array,
    format: number, json: boolean): Buffer | Deferred {
    const h = this.host
    this.close = true
    if (h.limiter !== null && h.limiter.limits(KIND_FULLSCRAPE) && (this.perms(family, ip) & MAY_FULLSCRAPE) === 0) {
      const wait = h.limiter.take(KIND_FULLSCRAPE, limitFamily, limitIp, h.clock.seconds)
      if (wait > 0) {
        h.counters.fullScrapesLimited++
        return this.error(429, simpleReply({
          status: 429,
          contentType: 'text/plain',
          body: `one full scrape per ${h.limiter.intervalSeconds(KIND_FULLSCRAPE)} s per address; retry in ${wait} s\n`,
          keepAlive: false,
          extraHeaders: `Retry-After: ${wait}\r\n`
        }))
      }
    }
    const r: FullScrapeRequest = {
      format,
      json,
      encoding: head.acceptEncodingStart < 0 ? ENCODING_IDENTITY : chooseEncoding(buf, head.acceptEncodingStart, head.acceptEncodingEnd, true),
      http11: head.versionMinor === 1
    }
    return (socket) => {
      streamFullScrape(socket, h.scrapeRecords(), r, h.counters).catch((err: unknown) => {
        h.logger.debug({ err }, 'full scrape aborted')
        socket.destroy()
      })
    }
  }
}
