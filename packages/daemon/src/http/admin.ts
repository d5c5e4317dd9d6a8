/**
 * The admin endpoint, for addresses blessed with MAY_ADMIN (`-A`, `access.admin`); otctl's
 * interface to a running otd. JSON in and out, one request per connection:
 *
 *   GET  /otd/status                       version, uptime, listeners, counts, memory
 *   GET  /otd/access                       configured lists and their sizes
 *   GET  /otd/access/{white|black}         entries (lowercase hex; ?format=txt for the list file format)
 *   POST /otd/access/{white|black}/add     body: info_hashes (40 hex), whitespace or newline separated
 *   POST /otd/access/{white|black}/remove  same; the list file is rewritten atomically
 *   GET  /otd/access/check?info_hash=HEX   whether each hash may be announced, and why
 *   POST /otd/reload                       reload the list files (as SIGHUP)
 *   GET  /otd/state                        the warm-restart state (binary, see state/statefile.ts)
 *   POST /otd/state                        restore: a state file or an opentracker statedump
 *
 * Mutations need POST, so a crawler or a prefetching proxy can never change anything.
 */
import type net from 'node:net'
import { METHOD_POST, parseHashHex } from '@otd/proto'
import type { ListName } from '../access/access-lists.js'
import type { RateLimiter } from '../limits/rate-limit.js'
import type { TrackerParts } from '../parts.js'
import type { StatsView } from '../stats/context.js'
import { HttpStatusError, readBody } from './body.js'
import { queryValues } from './query-params.js'
import { jsonReply } from './simple-reply.js'

/** Largest admin request body (a state file of a few million peers). */
export const ADMIN_MAX_BODY_BYTES = 256 * 1024 * 1024

export interface ListenerInfo { protocol: 'http' | 'udp', address: string, port: number }

/** What the operator routes need of the tracker. */
export interface AdminHost extends TrackerParts {
  /** Per-address rate limits (null when no limit is on). */
  readonly limiter: RateLimiter | null
  listeners (): ListenerInfo[]
  reload (): Promise<unknown>
  /** The warm-restart state as buffers. */
  encodeState (): AsyncIterable<Buffer>
  /** Restores a state file or statedump into the running store. Throws with a message on bad input. */
  restoreState (data: Buffer): unknown
  /** Whether the tracker runs `--workers` (figures, scrapes and state then span every worker's shard). */
  readonly sharded: boolean
  /** Every torrent as sorted scrape records (fullscrape/stream.ts), over all shards. */
  scrapeRecords (): AsyncIterable<Buffer>
  /** The figures of the whole process (with workers, summed; `top` > 0 also merges the top lists). */
  statsView (top: number): StatsView | Promise<StatsView>
  /** Whether the torrent `key` is in memory (in whichever shard owns it). */
  hasTorrent (key: string): boolean | Promise<boolean>
  /** After an admin change of a list here: the other workers apply it in memory too. */
  accessChanged (name: ListName, add: boolean, keys: readonly string[]): Promise<void>
}



/** Hashes from a body or query values: 40 hex digits each; anything else is reported back. */
export function parseHashList (text: string): { keys: string[], invalid: string[] } {
  const keys: string[] = []
  const invalid: string[] = []
  for (const word of text.split(/[\s,]+/)) {
    if (word === '') continue
    const h = parseHashHex(word)
    if (h === null) invalid.push(word.length > 64 ? word.slice(0, 64) + '...' : word)
    else keys.push(h.toString('latin1'))
  }
  return { keys, invalid }
}

function listName (s: string | undefined): ListName {
  if (s === 'white' || s === 'whitelist') return 'white'
  if (s === 'black' || s === 'blacklist') return 'black'
  throw new HttpStatusError(404, `no such list ${JSON.stringify(s)}: use white or black`)
}

function status (h: AdminHost, v: StatsView): Record<string, unknown> {
  const s = v.store
  const c = v.counters
  const m = process.memoryUsage()
  return {
    name: 'otd',
    version: v.version,
    pid: process.pid,
    uptime: v.uptimeSeconds,
    listeners: h.listeners(),
    torrents: s.torrentCount,
    peers: s.peers,
    peers_ipv4: s.peers - s.peers6,
    peers_ipv6: s.peers6,
    seeders: s.seeders,
    leechers: s.peers - s.seeders,
    completed: s.completed,
    requests: {
      http: c.httpRequests,
      http_announce: c.httpAnnounces,
      http_scrape: c.httpScrapes,
      fullscrape: c.fullScrapes,
      udp: c.udpPackets,
      udp_connect: c.udpConnects,
      udp_announce: c.udpAnnounces,
      udp_scrape: c.udpScrapes
    },
    http_errors: Object.fromEntries(c.httpErrors),
    access: h.access.names().map((l) => ({ list: l, file: h.access.file(l), entries: h.access.size(l) })),
    memory: { rss: m.rss, heap_used: m.heapUsed, heap_total: m.heapTotal, external: m.external, array_buffers: m.arrayBuffers },
    event_loop: { utilization: v.utilization(), delay_p99_ms: v.lagMs(99) },
    ...(v.workers !== undefined ? { workers: v.workers } : {})
  }
}

async function route (h: AdminHost, parts: string[], query: string, post: boolean, body: () => Promise<Buffer>, socket: net.Socket): Promise<Buffer | null> {
  const [first, second, third] = parts
  const expect = (method: 'GET' | 'POST'): void => {
    if (post !== (method === 'POST')) throw new HttpStatusError(405, `${parts.join('/')} needs ${method}`)
  }
  switch (first) {
    case 'status':
      expect('GET')
      return jsonReply(200, status(h, await h.statsView(0)))
    case 'reload':
      expect('POST')
      return jsonReply(200, { reloaded: await h.reload() })
    case 'access': {
      if (second === undefined) {
        expect('GET')
        return jsonReply(200, { lists: h.access.names().map((l) => ({ list: l, file: h.access.file(l), entries: h.access.size(l) })), dynamic: h.access.dynamicTarget })
      }
      if (second === 'check') {
        const { keys, invalid } = parseHashList([...queryValues(query, 'info_hash'), ...queryValues(query, 'hash')].join(' ') +
          (post ? ' ' + (await body()).toString('latin1') : ''))
        if (invalid.length > 0) throw new HttpStatusError(400, `not a 40-hex-digit info_hash: ${invalid.join(', ')}`)
        const inMemory = await Promise.all(keys.map((k) => h.hasTorrent(k)))
        return jsonReply(200, {
          results: keys.map((k, i) => ({
            info_hash: Buffer.from(k, 'latin1').toString('hex'),
            allowed: h.access.allows(k),
            whitelisted: h.access.white === null ? null : h.access.white.has(k),
            blacklisted: h.access.black === null ? null : h.access.black.has(k),
            in_memory: inMemory[i]!
          }))
        })
      }
      const name = listName(second)
      if (h.access.file(name) === null) throw new HttpStatusError(409, `no ${name} list is configured (start otd with -${name === 'white' ? 'w' : 'b'} FILE)`)
      if (third === undefined) {
        expect('GET')
        const entries = h.access.entries(name)
        if (queryValues(query, 'format')[0] === 'txt') {
          socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${entries.length * 41}\r\nConnection: close\r\n\r\n`), Buffer.from(entries.map((e) => e + '\n').join(''))]))
          return null
        }
        return jsonReply(200, { list: name, file: h.access.file(name), entries })
      }
      if (third !== 'add' && third !== 'remove') throw new HttpStatusError(404, `unknown access action ${JSON.stringify(third)}: add or remove`)
      expect('POST')
      const { keys, invalid } = parseHashList((await body()).toString('latin1') + ' ' + queryValues(query, 'info_hash').join(' '))
      if (invalid.length > 0) throw new HttpStatusError(400, `not a 40-hex-digit info_hash: ${invalid.slice(0, 10).join(', ')}${invalid.length > 10 ? ` (and ${invalid.length - 10} more)` : ''}; nothing changed`)
      if (keys.length === 0) throw new HttpStatusError(400, 'no info_hash given')
      const report = await h.access.change(name, third === 'add', keys)
      await h.accessChanged(name, third === 'add', keys)
      return jsonReply(report.persisted ? 200 : 500, report)
    }
    case 'state': {
      if (second !== undefined) break
      if (!post) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n')
        for await (const chunk of h.encodeState()) {
          if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve))
        }
        socket.end()
        return null
      }
      try {
        return jsonReply(200, { restored: await h.restoreState(await body()) })
      } catch (err) {
        if (err instanceof HttpStatusError) throw err
        throw new HttpStatusError(400, err instanceof Error ? err.message : String(err))
      }
    }
  }
  throw new HttpStatusError(404, `unknown admin path /otd/${parts.join('/')}; see docs/admin.md`)
}

export async function handleAdmin (h: AdminHost, path: string, query: string, method: number, contentLength: number,
  socket: net.Socket, rest: Buffer): Promise<void> {
  const post = method === METHOD_POST
  let reply: Buffer | null
  try {
    if (contentLength === -2) throw new HttpStatusError(400, 'malformed Content-Length')
    if (contentLength > ADMIN_MAX_BODY_BYTES) throw new HttpStatusError(413, `request body over ${ADMIN_MAX_BODY_BYTES} bytes`)
    const body = (): Promise<Buffer> => readBody(socket, rest, Math.max(0, contentLength))
    const parts = path.split('/').slice(1).filter((p) => p !== '')
    reply = await route(h, parts, query, post, body, socket)
  } catch (err) {
    if (err instanceof HttpStatusError) {
      reply = jsonReply(err.status, { error: err.message })
      h.counters.httpError(err.status)
    } else {
      h.logger.error({ err }, 'admin request failed')
      reply = jsonReply(500, { error: err instanceof Error ? err.message : String(err) })
      h.counters.httpError(500)
    }
  }
  if (reply !== null && !socket.destroyed) socket.end(reply)
}
