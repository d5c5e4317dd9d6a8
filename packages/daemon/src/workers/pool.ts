/**
 * `otd --workers N` (docs/workers.md): N worker threads in this process, each a whole tracker
 * owning a shard of the torrents (shard.ts), all bound to the same ports with SO_REUSEPORT. The
 * main thread only starts and stops them, keeps signals and the privilege drop, and relays
 * reloads; it handles no requests.
 *
 * Start-up keeps the single-thread order (bind, drop privileges, then read lists and state):
 *  1. worker 0 binds (a port 0 becomes a real port), then the others bind the same ports;
 *  2. the command drops privileges: setuid/setgid in any thread change every thread of the
 *     process (glibc applies them to all threads), so every socket was bound as root and every
 *     file is read as the unprivileged user;
 *  3. every worker loads the access lists and its shard of the state file, and starts.
 * Since all sockets are bound before the drop and Linux only lets sockets of the same user join a
 * SO_REUSEPORT group, no other (unprivileged) process can bind into our ports afterwards.
 */
import { randomFillSync } from 'node:crypto'
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { ListReport } from '../access/access-lists.js'
import { type TrackerOptions, resolveOptions } from '../config.js'
import { OT_ERR_BIND, OtdError } from '../errors.js'
import type { StateDumpReport } from '../state/statedump.js'
import type { StateSaveReport } from '../state/statefile.js'
import type { BoundAddresses, StartReport } from '../tracker.js'
import type { MeshInit } from './mesh.js'
import { RingShared } from './ring.js'
import type { WorkerCommand, WorkerInit } from './worker-main.js'
import { sumReports } from './link.js'

/** The most workers (a shard is a first byte of the info_hash; far more than cores anyone has for one process). */
export const MAX_WORKERS = 64

/** What the command needs of a tracker, one thread or many. */
export interface TrackerProcess {
  bind (): Promise<BoundAddresses>
  start (): Promise<StartReport>
  reload (): Promise<ListReport[]>
  loadStateDump (path: string): StateDumpReport | Promise<StateDumpReport>
  saveState (): Promise<StateSaveReport | null>
  shutdown (graceMs?: number): Promise<void>
  close (): Promise<void>
}

export interface WorkerPoolOptions {
  workers: number
  logLevel: string
  logger: Logger
  /** Ring bytes per ordered pair of workers (default: 1 MiB up to 8 workers, 256 KiB beyond). */
  ringBytes?: number
}

class WorkerHandle {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  exited = false

  constructor (readonly index: number, readonly worker: Worker, onDeath: (why: string) => void) {
    worker.on('message', (m: { id: number, ok: boolean, value?: unknown, message?: string, code?: string }) => {
      const w = this.waiting.get(m.id)
      if (w === undefined) return
      this.waiting.delete(m.id)
      if (m.ok) w.resolve(m.value)
      else w.reject(m.code === OT_ERR_BIND ? new OtdError(OT_ERR_BIND, m.message ?? '') : Object.assign(new Error(m.message), { code: m.code }))
    })
    worker.on('error', (err) => onDeath(`worker ${index} failed: ${err.stack ?? err.message}`))
    worker.on('exit', (code) => {
      this.exited = true
      for (const w of this.waiting.values()) w.reject(new Error(`worker ${index} exited (${code})`))
      this.waiting.clear()
      onDeath(`worker ${index} exited with code ${code}`)
    })
  }

  run<T = unknown> (command: WorkerCommand): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`worker ${this.index} is gone`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.worker.postMessage({ id, command })
    })
  }
}

export function createWorkerPool (userOptions: Partial<TrackerOptions>, o: WorkerPoolOptions): TrackerProcess {
  const n = o.workers
  if (!Number.isInteger(n) || n < 2 || n > MAX_WORKERS) throw new Error(`workers must be 2 to ${MAX_WORKERS}`)
  const { clock: _c, logger: _l, ...plain } = userOptions
  const options = resolveOptions(plain)
  const { clock: _c2, logger: _l2, ...base } = options
  const logger = o.logger
  const ringBytes = o.ringBytes ?? (n <= 8 ? 1 << 20 : 1 << 18)
  const rings = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => i === j ? null : new RingShared(ringBytes).sab))
  const wake = new SharedArrayBuffer(4 * 16 * n)
  const ports: Array<Array<MessagePort | null>> = Array.from({ length: n }, () => new Array<MessagePort | null>(n).fill(null))
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ch = new MessageChannel()
      ports[i]![j] = ch.port1
      ports[j]![i] = ch.port2
    }
  }
  const connectionIdKey = new Uint32Array(4)
  randomFillSync(connectionIdKey)
  const trackerId = (Math.random() * 0x100000000) >>> 0
  const startedAtMs = Date.now()
  // Limits are the process's: each shard gets its part.
  const shardOptions = {
    ...base,
    maxTorrents: Math.ceil(base.maxTorrents / n),
    memoryLimitBytes: Math.floor(base.memoryLimitBytes / n)
  }
  const handles: WorkerHandle[] = []
  let closing = false

  const onDeath = (why: string): void => {
    if (closing) return
    closing = true
    logger.fatal(why)
    process.exitCode = 1
    void pool.close().finally(() => process.exit(1))
  }

  function spawn (i: number, opts: typeof shardOptions): WorkerHandle {
    const mesh: MeshInit = { index: i, count: n, rings, wake, ports: ports[i]! }
    const data: WorkerInit = { options: opts, mesh, connectionIdKey, trackerId, startedAtMs, logLevel: o.logLevel }
    const transfer = ports[i]!.filter((p): p is MessagePort => p !== null)
    const w = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: data, transferList: transfer })
    const h = new WorkerHandle(i, w, onDeath)
    handles.push(h)
    return h
  }

  const all = <T>(command: WorkerCommand): Promise<T[]> => Promise.all(handles.map((h) => h.run<T>(command)))

  const pool: TrackerProcess = {
    async bind () {
      // Worker 0 first: it turns port 0 into real ports, which the others then share.
      const bound = await spawn(0, shardOptions).run<BoundAddresses>({ t: 'bind' })
      const fixed = {
        ...shardOptions,
        http: shardOptions.http.map((s, k) => ({ host: s.host, port: s.port === 0 ? bound.http[k]?.port ?? 0 : s.port })),
        udp: shardOptions.udp.map((s, k) => ({ host: s.host, port: s.port === 0 ? bound.udp[k]?.port ?? 0 : s.port }))
      }
      for (let i = 1; i < n; i++) spawn(i, fixed)
      await Promise.all(handles.slice(1).map((h) => h.run({ t: 'bind' })))
      return bound
    },
    async start () {
      const reports = await all<StartReport>({ t: 'start' })
      const files = reports.map((r) => r.stateFile).filter((f) => f !== null)
      const stateFile = files.length === 0
        ? null
        : files.every((f) => f.loaded)
          ? { loaded: true, torrents: files.reduce((a, f) => a + (f.torrents ?? 0), 0), peers: files.reduce((a, f) => a + (f.peers ?? 0), 0) }
          : files.find((f) => !f.loaded)!
      return { lists: reports[0]!.lists, stateFile }
    },
    async reload () {
      const reports = await all<ListReport[]>({ t: 'reload' })
      const r = reports[0]!
      logger.info({ lists: r, workers: n }, `access lists reloaded in ${n} workers: ${r.map((l) => `${l.list} ${l.ok ? `${l.entries} entries` : `kept (${l.error ?? ''})`}`).join(', ') || 'none configured'}`)
      return r
    },
    async loadStateDump (path: string) {
      return sumReports(await all<Record<string, unknown>>({ t: 'statedump', path })) as unknown as StateDumpReport
    },
    async saveState () {
      return await handles[0]!.run<StateSaveReport | null>({ t: 'save' })
    },
    async shutdown (graceMs = 5000) {
      await all({ t: 'quiesce', graceMs })
      // Worker 0 writes the state file with every shard's records: all workers are still up.
      await handles[0]!.run({ t: 'save' })
      await pool.close()
    },
    async close () {
      closing = true
      await Promise.all(handles.map((h) => h.exited ? undefined : h.run({ t: 'close' }).catch(() => {})))
      await Promise.all(handles.map((h) => h.worker.terminate()))
    }
  }
  return pool
}
