/**
 * createTracker(options): the whole tracker behind one factory. It wires the store, the HTTP and
 * UDP front ends, access lists, stats, the clock and the timers.
 *  - `bind()` binds every listener; `start()` then loads the access lists, opens the FIFOs and
 *    restores the state file (the command runs them apart, dropping privileges in between, like
 *    opentracker); `listen()` does both.
 *  - `reload()` re-reads the access lists (SIGHUP).
 *  - `shutdown()` stops accepting, lets replies in flight finish, writes the state file and
 *    closes; `close()` releases everything at once.
 * With a {@link WorkerContext} (`--workers N`, workers/), the tracker is one shard of the process:
 * it binds its ports with SO_REUSEPORT next to the other workers, hands requests for other shards
 * to their owners (workers/router.ts) and answers operator routes for the whole process
 * (workers/link.ts).
 */
import type dgram from 'node:dgram'
import type net from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { pino } from 'pino'
import { AccessLists, type ListReport } from './access/access-lists.js'
import { Blessings } from './access/blessings.js'
import { FifoReader } from './access/fifo.js'
import { SystemClock } from './clock.js'
import { resolveOptions, type ListenSpec, type TrackerOptions } from './config.js'
import { Counters } from './counters.js'
import { OT_ERR_BIND, OT_ERR_CONFIG, OtdError } from './errors.js'
import { removeStaleTemps } from './fs-atomic.js'
import { RateLimiter, perSecond } from './limits/rate-limit.js'
import type { AdminHost, ListenerInfo } from './http/admin.js'
import { ConnectionGuard } from './http/connection-guard.js'
import { HttpHandler } from './http/handler.js'
import { OpsRoutes } from './http/ops.js'
import type { TrackerParts } from './parts.js'
import { createHttpServer, listenHttp } from './http/server.js'
import { loadStateDumpBuffer, loadStateDumpFile, type StateDumpReport } from './state/statedump.js'
import { encodeState, frameState, isStateFile, loadStateBuffer, loadStateFile, saveState, saveStateRecords, type StateSaveReport } from './state/statefile.js'
import { StatsContext } from './stats/context.js'
import { scrapeRecords } from './fullscrape/stream.js'
import { SwarmStore } from './swarm/store.js'
import { ClusterSync } from './sync/cluster.js'
import type { LiveSyncAddress } from './sync/livesync.js'
import { ConnectionIds } from './udp/connection-id.js'
import { UdpHandler } from './udp/handler.js'
import { bindUdp, udpAddress, type BoundAddress } from './udp/server.js'
import { VERSION } from './version.js'
import type { WorkerContext } from './workers/context.js'
import { WorkerLink } from './workers/link.js'
import { ShardRouter } from './workers/router.js'
import { ShardMap } from './workers/shard.js'

export type { BoundAddress }

export interface BoundAddresses {
  http: BoundAddress[]
  udp: BoundAddress[]
  /** Live-sync sockets, when live sync listens (with `--workers`, worker 0's). */
  livesync?: LiveSyncAddress[]
}

export interface StartReport {
  lists: ListReport[]
  stateFile: { loaded: boolean, torrents?: number, peers?: number, error?: string } | null
}

export interface Tracker extends TrackerParts {
  /** Binds every listener; rejects (with everything released) if any cannot be bound. */
  bind (): Promise<BoundAddresses>
  /**
   * Loads the access lists (an unreadable or malformed list file is a configuration error here,
   * unlike on reload), opens the FIFOs, restores the state file and starts the timers.
   */
  start (): Promise<StartReport>
  /** bind() then start(). */
  listen (): Promise<BoundAddresses>
  /** Re-reads the access-list files; a list whose file is unusable is kept. */
  reload (): Promise<ListReport[]>
  /** Loads an opentracker state dump (`-l`). */
  loadStateDump (path: string): StateDumpReport
  /** Re-reads this tracker's own access-list files (with workers, {@link reload} reloads every worker's). */
  reloadLocal (): Promise<ListReport[]>
  /** Stops accepting and lets replies in flight finish (at most `graceMs`): the first step of {@link shutdown}. */
  quiesce (graceMs?: number): Promise<void>
  /** Writes the state file now (null when none is configured). */
  saveState (): Promise<StateSaveReport | null>
  /** Stops accepting, finishes replies in flight (at most `graceMs`), writes the state file, closes. */
  shutdown (graceMs?: number): Promise<void>
  /** Closes listeners and open connections and stops timers, at once. */
  close (): Promise<void>
  /** Runs one complete cleaning pass now (expired peers, stale torrents). */
  sweep (): void
}

/** Whether `spec` is the IPv6 wildcard and the same port is also asked for on the IPv4 wildcard. */
function needsV6Only (spec: ListenSpec, all: ListenSpec[]): boolean {
  return spec.host === '::' && all.some((o) => o.host === '0.0.0.0' && o.port === spec.port && o.port !== 0)
}

function hostPort (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** The per-address rate limiter, or null (no table allocated) when no limit is on. */
function createRateLimiter (o: TrackerOptions): RateLimiter | null {
  if (o.announceRatePerSecond === 0 && o.scrapeRatePerSecond === 0 && o.fullScrapeIntervalSeconds === 0) return null
  return new RateLimiter({
    announce: perSecond(o.announceRatePerSecond, o.announceBurst),
    scrape: perSecond(o.scrapeRatePerSecond, o.scrapeBurst),
    fullScrape: { secondsPerRequest: o.fullScrapeIntervalSeconds, burst: o.fullScrapeBurst },
    slots: o.rateLimitTableSlots,
    ipv6PrefixBits: o.rateLimitIPv6PrefixBits
  })
}

function isNoIPv6 (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL'
}

export function createTracker (userOptions: Partial<TrackerOptions> = {}, worker: WorkerContext | null = null): Tracker {
  const options = resolveOptions(userOptions)
  const clock = options.clock ?? new SystemClock()
  const logger = options.logger ?? pino({ level: 'silent' })
  const counters = new Counters()
  const store = new SwarmStore(clock, {
    peerTimeoutSeconds: options.peerTimeoutSeconds,
    torrentTimeoutSeconds: options.torrentTimeoutSeconds,
    maxTorrents: options.maxTorrents,
    maxPeersPerTorrent: options.maxPeersPerTorrent,
    memoryLimitBytes: options.memoryLimitBytes
  })
  const ids = new ConnectionIds(options.udpConnectionIdMaxAgeSeconds, worker?.connectionIdKey ?? null)
  const shards = worker === null ? null : new ShardMap(worker.mesh.index, worker.mesh.count)
  /** Worker 0 (or the only tracker) does what must happen once per process: FIFOs, state file writes. */
  const first = worker === null || worker.mesh.index === 0
  const access = new AccessLists(options.whitelistFile, options.blacklistFile, logger)
  const blessings = new Blessings(options.blessed)
  const limiter = createRateLimiter(options)
  const servers: net.Server[] = []
  const sockets: dgram.Socket[] = []
  const connections = new Set<net.Socket>()
  /** Connections taken over by a slow route (full scrape, admin): left to finish on shutdown. */
  const busy = new Set<net.Socket>()
  const fifos: FifoReader[] = []
  const listeners: ListenerInfo[] = []
  const stats = new StatsContext(store, counters, access, VERSION, () => connections.size, limiter, worker)
  let sweepTimer: NodeJS.Timeout | null = null
  let stateTimer: NodeJS.Timeout | null = null
  let stateWrite: Promise<StateSaveReport | null> | null = null
  let closed = false
  let quiesced = false

  const allows = (key: string): boolean => access.allows(key)
  /** With workers: the torrents of this shard (state files and dumps are read by every worker). */
  const owns = shards === null ? null : (key: string): boolean => shards.ownsKey(key)

  const link = worker === null
    ? null
    : new WorkerLink({
      mesh: worker.mesh,
      shards: shards!,
      store,
      counters,
      access,
      stats,
      clock,
      restoreLocal: (data) => restoreBuffer(data),
      reloadLocal: () => tracker.reloadLocal(),
      relayFlushMs: options.livesyncFlushMs
    })
  const sync = new ClusterSync({ options, store, counters, access, blessings, clock, logger, trackerId: stats.trackerId, onFatal: (err) => onFatal(err), workers: link })
  link?.attachSync(sync)
  const parts: TrackerParts = { options, store, counters, clock, logger, access, blessings, stats, sync }
  const host: AdminHost = {
    ...parts,
    limiter,
    listeners: () => listeners,
    reload: () => tracker.reload(),
    encodeState: () => link === null ? encodeState(store, clock.seconds) : frameState(link.stateRecords(), clock.seconds),
    restoreState: (data: Buffer) => link === null ? restoreBuffer(data) : link.restore(data),
    sharded: link !== null,
    scrapeRecords: () => link === null ? scrapeRecords(store) : link.scrapeRecords(),
    statsView: (top: number) => link === null ? stats : link.statsView(top),
    hasTorrent: (key: string) => link === null ? store.findKey(key) >= 0 : link.hasTorrent(key),
    accessChanged: async (name, add, keys) => { if (link !== null) await link.accessChanged(name, add, keys) }
  }
  const ops = new OpsRoutes(host)
  const router = worker === null ? null : new ShardRouter(worker.mesh, shards!, store, counters, options.scrapeMaxHashes)
  const httpHandler = new HttpHandler(store, options, counters, access, blessings, ops, limiter, router)
  const udpHandler = new UdpHandler(store, ids, options, counters, access, limiter, shards)
  if (router !== null) router.http = httpHandler
  /** Connection caps and deadlines over all HTTP listeners (of this worker, with `--workers`). */
  const connectionGuard = new ConnectionGuard(options, counters, blessings)

  /** A state file (recognised by its magic) or an opentracker statedump, into the running store (this shard's part of it). */
  function restoreBuffer (data: Buffer): Record<string, unknown> {
    if (isStateFile(data)) return { format: 'otd-state', ...loadStateBuffer(data, store, clock.seconds, options.peerTimeoutSeconds, allows, owns) }
    const r = loadStateDumpBuffer(data, store, clock.seconds, options.torrentTimeoutSeconds, allows, owns)
    if (r.torrents + r.existing === 0 && r.rejectedLines > 0 && worker === null) throw new Error(`not a state file or statedump: ${r.rejectedLines} unreadable line(s)`)
    return { format: 'statedump', ...r }
  }

  const onFatal = (err: Error): void => {
    // A listener failing after start-up leaves the tracker degraded: fail loudly instead.
    logger.fatal({ err }, 'listener failed')
    process.exitCode = 1
    void tracker.close().finally(() => process.exit(1))
  }

  async function bindAll (): Promise<BoundAddresses> {
    const bound: BoundAddresses = { http: [], udp: [] }
    for (const spec of options.http) {
      let host = spec.host
      const server = createHttpServer(httpHandler, options, counters, (s) => { busy.add(s); s.once('close', () => busy.delete(s)) }, connectionGuard,
        router === null ? null : () => { router.mesh.busy() })
      server.on('connection', (s: net.Socket) => { connections.add(s); s.once('close', () => connections.delete(s)) })
      try {
        await listenHttp(server, host, spec.port, needsV6Only(spec, options.http), worker !== null)
      } catch (err) {
        if (host === '::' && isNoIPv6(err)) {
          host = '0.0.0.0'
          logger.warn('IPv6 is not available; HTTP listens on 0.0.0.0 only')
          await listenHttp(server, host, spec.port, false, worker !== null).catch((e: unknown) => { throw bindError('tcp', host, spec.port, e) })
        } else {
          throw bindError('tcp', host, spec.port, err)
        }
      }
      servers.push(server)
      server.on('error', onFatal)
      const a = server.address() as net.AddressInfo
      bound.http.push({ address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' })
      listeners.push({ protocol: 'http', address: a.address, port: a.port })
    }
    for (let i = 0; i < options.udp.length; i++) {
      const spec = options.udp[i]!
      const shard = router === null ? null : { router, index: i }
      let socket: dgram.Socket
      try {
        socket = await bindUdp(spec.host, spec.port, needsV6Only(spec, options.udp), udpHandler, counters, onFatal, shard)
      } catch (err) {
        if (spec.host === '::' && isNoIPv6(err)) {
          logger.warn('IPv6 is not available; UDP listens on 0.0.0.0 only')
          socket = await bindUdp('0.0.0.0', spec.port, false, udpHandler, counters, onFatal, shard)
            .catch((e: unknown) => { throw bindError('udp', '0.0.0.0', spec.port, e) })
        } else {
          throw bindError('udp', spec.host, spec.port, err)
        }
      }
      sockets.push(socket)
      const a = udpAddress(socket)
      bound.udp.push(a)
      listeners.push({ protocol: 'udp', address: a.address, port: a.port })
    }
    await sync.bind()
    const live = sync.addresses()
    if (live.length > 0) bound.livesync = live
    router?.start()
    return bound
  }

  function bindError (proto: string, host: string, port: number, err: unknown): OtdError {
    const e = err as NodeJS.ErrnoException
    return new OtdError(OT_ERR_BIND, `cannot bind ${proto} ${hostPort(host, port)}: ${e.code ?? e.message}`, { cause: err })
  }

  function openFifos (): void {
    const target = access.dynamicTarget
    for (const [path, add] of [[options.fifoAddPath, true], [options.fifoDeletePath, false]] as const) {
      if (path === '') continue
      if (target === null) throw new OtdError(OT_ERR_CONFIG, `${add ? 'access.fifo_add' : 'access.fifo_delete'} needs an access list (-w or -b)`)
      const fifo = new FifoReader(path, (key) => { access.applyDynamic(key, add); link?.dynamicChanged(key, add) }, logger)
      fifo.open()
      fifos.push(fifo)
      logger.info({ path, list: target }, `FIFO ${path}: info_hashes written here are ${add ? 'added to' : 'removed from'} the ${target} list`)
    }
  }

  function restoreStateFile (): StartReport['stateFile'] {
    if (options.stateFile === '') return null
    // Writes interrupted by a crash or kill -9 leave their temporary file; the state file itself is
    // whole. Only the writer (worker 0 with --workers) clears them.
    const stale = first ? removeStaleTemps(options.stateFile) : { removed: [], failed: [] }
    if (stale.removed.length > 0) logger.info({ files: stale.removed }, `state file ${options.stateFile}: removed ${stale.removed.length} temporary file(s) left by an interrupted write`)
    for (const f of stale.failed) logger.warn({ file: f.file }, `cannot remove the stale temporary file ${f.file}: ${f.code}`)
    try {
      const r = loadStateFile(options.stateFile, store, clock.seconds, options.peerTimeoutSeconds, allows, owns)
      logger.info({ file: options.stateFile, ...r }, `state file ${options.stateFile}: restored ${r.torrents} torrents, ${r.peers} peers`)
      return { loaded: true, torrents: r.torrents, peers: r.peers }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      if (e.code === 'ENOENT') {
        logger.info({ file: options.stateFile }, `state file ${options.stateFile} does not exist yet; starting empty`)
        return { loaded: false, error: 'ENOENT' }
      }
      const why = e.code ?? e.message
      logger.error({ file: options.stateFile }, `state file ${options.stateFile} refused: ${why}; starting empty`)
      return { loaded: false, error: why }
    }
  }

  function writeState (): Promise<StateSaveReport | null> {
    if (options.stateFile === '') return Promise.resolve(null)
    if (stateWrite !== null) return stateWrite // one write at a time; callers share it
    const written = link === null ? saveState(options.stateFile, store, clock.seconds) : saveStateRecords(options.stateFile, link.stateRecords(), clock.seconds)
    stateWrite = written.then((r) => {
      logger.info({ file: options.stateFile, ...r }, `state file ${options.stateFile} written: ${r.torrents} torrents, ${r.peers} peers, ${r.bytes} bytes`)
      return r
    }, (err: unknown) => {
      const e = err as NodeJS.ErrnoException
      // The previous file is intact (atomic rename): keep serving, say why loudly.
      logger.error({ file: options.stateFile, err }, `cannot write state file ${options.stateFile}: ${e.code ?? e.message}; the previous file is kept`)
      return null
    }).finally(() => { stateWrite = null })
    return stateWrite
  }

  function stopTimers (): void {
    if (sweepTimer !== null) clearInterval(sweepTimer)
    if (stateTimer !== null) clearInterval(stateTimer)
    sweepTimer = stateTimer = null
    for (const f of fifos) f.close()
    stats.stop()
    clock.stop()
  }

  const tracker: Tracker = {
    ...parts,
    async bind () {
      clock.start()
      try {
        return await bindAll()
      } catch (err) {
        await tracker.close()
        throw err
      }
    },
    async start () {
      const lists = await access.reload()
      const failed = lists.find((l) => !l.ok)
      if (failed !== undefined) throw new OtdError(OT_ERR_CONFIG, `access list ${failed.error ?? failed.file}`)
      if (first) openFifos()
      const stateFile = restoreStateFile()
      stats.start()
      sync.start()
      // Clean in one-second slices so a full pass over all torrents takes cleanPassSeconds.
      sweepTimer = setInterval(() => {
        store.sweepSlice(Math.ceil(store.torrentCount / options.cleanPassSeconds) + 1)
      }, 1000)
      sweepTimer.unref()
      if (first && options.stateFile !== '' && options.stateFileIntervalSeconds > 0) {
        stateTimer = setInterval(() => { void writeState() }, options.stateFileIntervalSeconds * 1000)
        stateTimer.unref()
      }
      return { lists, stateFile }
    },
    async listen () {
      const bound = await tracker.bind()
      try {
        await tracker.start()
      } catch (err) {
        await tracker.close()
        throw err
      }
      return bound
    },
    async reload () {
      if (link !== null) return await link.reloadAll()
      return await tracker.reloadLocal()
    },
    async reloadLocal () {
      const r = await access.reload()
      logger.info({ lists: r }, `access lists reloaded: ${r.map((l) => `${l.list} ${l.ok ? `${l.entries} entries` : `kept (${l.error ?? ''})`}`).join(', ') || 'none configured'}`)
      return r
    },
    loadStateDump (path: string) {
      const r = loadStateDumpFile(path, store, clock.seconds, options.torrentTimeoutSeconds, allows, owns)
      const log = r.rejectedLines > 0 ? logger.warn.bind(logger) : logger.info.bind(logger)
      log({ file: path, ...r }, `statedump ${path}: ${r.torrents} torrents restored` +
        (r.rejectedLines > 0 ? `, ${r.rejectedLines} malformed line(s) ignored` : '') +
        (r.expired > 0 ? `, ${r.expired} older than the torrent timeout` : '') + (r.denied > 0 ? `, ${r.denied} refused by the access lists` : ''))
      return r
    },
    saveState: writeState,
    async quiesce (graceMs = 5000) {
      if (closed || quiesced) return
      quiesced = true
      // Stop accepting; idle keep-alive connections close now, replies in flight drain.
      for (const s of servers) s.close()
      for (const s of sockets) s.close()
      for (const s of connections) if (!busy.has(s)) s.end()
      const deadline = delay(graceMs, undefined, { ref: false })
      const drained = (async () => { while (connections.size > 0) await delay(20) })()
      await Promise.race([drained, deadline])
    },
    async shutdown (graceMs = 5000) {
      if (closed) return
      await tracker.quiesce(graceMs)
      await writeState()
      await tracker.close()
    },
    async close () {
      if (closed) return
      closed = true
      stopTimers()
      for (const s of connections) s.destroy()
      worker?.mesh.close()
      await Promise.all([
        sync.close(),
        ...servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
        ...sockets.map((s) => new Promise<void>((resolve) => { try { s.close(() => resolve()) } catch { resolve() } }))
      ])
    },
    sweep () {
      store.sweepAll()
    }
  }
  return tracker
}

export { hostPort }
