/**
 * `/sync`, opentracker's batch sync (reference §10.1) for addresses blessed with MAY_SYNC
 * (`-A`, `batchsync.cluster.admin_ip`); the route checks the blessing before it gets here.
 *
 *   GET  /sync[?since=SECONDS]             this node's own peers of the window (default 300 s) as a changeset
 *   GET  /sync?changeset=<urlencoded>[&changeset=...]   import; answers OK
 *   POST /sync   body: one or more changesets back to back   import; answers OK
 *
 * Imports are all or nothing: every changeset is decoded and checked before the first record is
 * applied, and a malformed one gets 400 with the reason. Replies carry `X-Otd-Tracker-Id` (the
 * node's random id, which changes on restart: otsync uses it to notice an emptied node) and, on
 * import, `X-Otd-Sync-Result` with the outcome counts.
 */
import type net from 'node:net'
import { METHOD_GET, METHOD_POST, decodeChangeset, decodeChangesets, percentDecode, type ChangesetTorrent } from '@otd/proto'
import type { Counters } from '../counters.js'
import { HttpStatusError, readBody } from '../http/body.js'
import { simpleReply } from '../http/simple-reply.js'
import { ApplyCounts, type OutcomeCounts, type SyncApplier } from './apply.js'
import type { ExportResult } from './export.js'

/** Largest POST /sync body: 10 changesets of 500 IPv6 peers are ~105 kB; leave room for bigger batches. */
export const SYNC_MAX_BODY_BYTES = 64 * 1024 * 1024

export interface BatchHost {
  readonly trackerId: number
  readonly applier: SyncApplier
  readonly counters: Counters
  readonly defaultWindowSeconds: number
  readonly maxWindowSeconds: number
  now (): number
  exportPeers (windowSeconds: number): Promise<ExportResult>
  /** With `--workers`: the worker owning torrent `key` when it is another one, else -1. */
  ownerOf (key: string): number
  /** With `--workers`: applies records of torrents owned by worker `owner` there; resolves with the outcomes. */
  applyElsewhere (owner: number, torrents: ForeignTorrent[]): Promise<OutcomeCounts>
}

/** A torrent's records for another worker: key (latin1), family, the records (8 or 20 bytes each). */
export type ForeignTorrent = [string, number, Uint8Array]


function reply (status: number, body: string | Buffer, headers = '', contentType = 'text/plain'): Buffer {
  return simpleReply({ status, contentType, body, keepAlive: false, extraHeaders: headers })
}

/** `name=value` pairs of a query whose name is `name`, values still percent-encoded (latin1). */
function rawValues (query: string, name: string): string[] {
  const out: string[] = []
  for (const part of query.split('&')) {
    const eq = part.indexOf('=')
    if (eq >= 0 && part.slice(0, eq) === name) out.push(part.slice(eq + 1))
  }
  return out
}

/** Checked changesets to apply: the buffer and the located torrents. */
interface Batch { buf: Buffer, torrents: ChangesetTorrent[] }

async function applyAll (h: BatchHost, batches: Batch[]): Promise<ApplyCounts> {
  const counts = new ApplyCounts()
  const now = h.now()
  const foreign = new Map<number, ForeignTorrent[]>()
  for (const { buf, torrents } of batches) {
    for (const t of torrents) {
      const key = buf.toString('latin1', t.hashOffset, t.hashOffset + 20)
      const size = t.family === 4 ? 8 : 20
      const owner = h.ownerOf(key)
      if (owner >= 0) {
        let list = foreign.get(owner)
        if (list === undefined) foreign.set(owner, list = [])
        // A copy: a view would take the whole request body along to the other worker.
        list.push([key, t.family, new Uint8Array(buf.subarray(t.recordsOffset, t.recordsOffset + t.count * size))])
        continue
      }
      for (let i = 0; i < t.count; i++) counts.count(h.applier.apply(key, t.family, buf, t.recordsOffset + i * size, now))
    }
  }
  for (const c of await Promise.all([...foreign].map(([owner, list]) => h.applyElsewhere(owner, list)))) counts.add(c)
  counts.addTo(h.counters)
  h.counters.syncImports++
  return counts
}

function imported (h: BatchHost, counts: ApplyCounts): Buffer {
  return reply(200, 'OK', `X-Otd-Tracker-Id: ${h.trackerId}\r\nX-Otd-Sync-Result: ${counts.toString()}\r\n`)
}

async function route (h: BatchHost, method: number, query: string, contentLength: number, socket: net.Socket, rest: Buffer): Promise<Buffer> {
  if (method === METHOD_POST) {
    if (contentLength === -2) throw new HttpStatusError(400, 'malformed Content-Length')
    if (contentLength < 0) throw new HttpStatusError(411, 'POST /sync needs a Content-Length')
    if (contentLength > SYNC_MAX_BODY_BYTES) throw new HttpStatusError(413, `request body over ${SYNC_MAX_BODY_BYTES} bytes`)
    const body = await readBody(socket, rest, contentLength)
    const r = decodeChangesets(body)
    if (!r.ok) throw new HttpStatusError(400, `nothing imported: ${r.error}`)
    return imported(h, await applyAll(h, r.changesets.map((c) => ({ buf: body, torrents: c.torrents }))))
  }
  if (method !== METHOD_GET) throw new HttpStatusError(405, '/sync takes GET or POST')
  const changesets = rawValues(query, 'changeset')
  if (changesets.length > 0) {
    const batches: Batch[] = []
    for (let i = 0; i < changesets.length; i++) {
      const raw = Buffer.from(changesets[i]!, 'latin1')
      const buf = Buffer.allocUnsafe(raw.length)
      const n = percentDecode(raw, 0, raw.length, buf, 0, buf.length)
      if (n < 0) throw new HttpStatusError(400, `nothing imported: changeset ${i + 1}: bad percent-encoding`)
      const data = buf.subarray(0, n)
      const r = decodeChangeset(data)
      if (!r.ok) throw new HttpStatusError(400, `nothing imported: changeset ${i + 1}: ${r.error}`)
      if (r.end !== data.length) throw new HttpStatusError(400, `nothing imported: changeset ${i + 1}: trailing bytes at offset ${r.end}`)
      batches.push({ buf: data, torrents: r.torrents })
    }
    return imported(h, await applyAll(h, batches))
  }
  let window = h.defaultWindowSeconds
  const since = rawValues(query, 'since')[0]
  if (since !== undefined) {
    if (!/^\d{1,9}$/.test(since)) throw new HttpStatusError(400, `since must be a number of seconds, not ${JSON.stringify(since.slice(0, 20))}`)
    window = Math.max(1, Math.min(Number(since), h.maxWindowSeconds))
  }
  const r = await h.exportPeers(window)
  h.counters.syncExports++
  h.counters.syncExportedPeers += r.peers + r.stopped
  return reply(200, r.body,
    `X-Otd-Tracker-Id: ${h.trackerId}\r\nX-Otd-Sync-Window: ${window}\r\nX-Otd-Sync-Peers: ${r.peers}\r\nX-Otd-Sync-Stopped: ${r.stopped}\r\n`,
    'application/x-bittorrent')
}

/** Answers one /sync request on a connection taken over from the HTTP server. */
export async function handleSync (h: BatchHost, method: number, query: string, contentLength: number, socket: net.Socket, rest: Buffer): Promise<void> {
  let out: Buffer
  try {
    out = await route(h, method, query, contentLength, socket, rest)
  } catch (err) {
    const status = err instanceof HttpStatusError ? err.status : 500
    if (status === 400 && (err as Error).message.startsWith('nothing imported')) h.counters.syncImportsRejected++
    h.counters.httpError(status)
    out = reply(status, (err instanceof Error ? err.message : String(err)) + '\n')
  }
  if (!socket.destroyed) socket.end(out)
}
