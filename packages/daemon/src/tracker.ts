/**
 * createTracker(options): the whole tracker behind one factory. It wires the store, the HTTP and
 * UDP front ends, the clock and the cleaning timer; `listen()` binds everything and resolves with
 * the bound addresses, `close()` releases everything.
 */
import type dgram from 'node:dgram'
import type net from 'node:net'
import { pino, type Logger } from 'pino'
import { SystemClock, type Clock } from './clock.js'
import { resolveOptions, type ListenSpec, type TrackerOptions } from './config.js'
import { Counters } from './counters.js'
import { OT_ERR_BIND, OtdError } from './errors.js'
import { HttpHandler } from './http/handler.js'
import { createHttpServer, listenHttp } from './http/server.js'
import { SwarmStore } from './swarm/store.js'
import { ConnectionIds } from './udp/connection-id.js'
import { UdpHandler } from './udp/handler.js'
import { bindUdp, udpAddress, type BoundAddress } from './udp/server.js'

export type { BoundAddress }

export interface BoundAddresses {
  http: BoundAddress[]
  udp: BoundAddress[]
}

export interface Tracker {
  readonly options: TrackerOptions
  readonly store: SwarmStore
  readonly counters: Counters
  readonly clock: Clock
  readonly logger: Logger
  /** Binds every listener; rejects (with everything released) if any cannot be bound. */
  listen (): Promise<BoundAddresses>
  /** Closes listeners and open connections and stops timers. */
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

function isNoIPv6 (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL'
}

export function createTracker (userOptions: Partial<TrackerOptions> = {}): Tracker {
  const options = resolveOptions(userOptions)
  const clock = options.clock ?? new SystemClock()
  const logger = options.logger ?? pino({ level: 'silent' })
  const counters = new Counters()
  const store = new SwarmStore(clock, {
    peerTimeoutSeconds: options.peerTimeoutSeconds,
    torrentTimeoutSeconds: options.torrentTimeoutSeconds
  })
  const ids = new ConnectionIds(options.udpConnectionIdMaxAgeSeconds)
  const httpHandler = new HttpHandler(store, options, counters)
  const udpHandler = new UdpHandler(store, ids, options, counters)

  const servers: net.Server[] = []
  const sockets: dgram.Socket[] = []
  const connections = new Set<net.Socket>()
  let sweepTimer: NodeJS.Timeout | null = null
  let closed = false

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
      const server = createHttpServer(httpHandler, options, counters, clock)
      server.on('connection', (s: net.Socket) => { connections.add(s); s.once('close', () => connections.delete(s)) })
      try {
        await listenHttp(server, host, spec.port, needsV6Only(spec, options.http))
      } catch (err) {
        if (host === '::' && isNoIPv6(err)) {
          host = '0.0.0.0'
          logger.warn('IPv6 is not available; HTTP listens on 0.0.0.0 only')
          await listenHttp(server, host, spec.port, false).catch((e: unknown) => { throw bindError('tcp', host, spec.port, e) })
        } else {
          throw bindError('tcp', host, spec.port, err)
        }
      }
      servers.push(server)
      server.on('error', onFatal)
      const a = server.address() as net.AddressInfo
      bound.http.push({ address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' })
    }
    for (const spec of options.udp) {
      let socket: dgram.Socket
      try {
        socket = await bindUdp(spec.host, spec.port, needsV6Only(spec, options.udp), udpHandler, counters, onFatal)
      } catch (err) {
        if (spec.host === '::' && isNoIPv6(err)) {
          logger.warn('IPv6 is not available; UDP listens on 0.0.0.0 only')
          socket = await bindUdp('0.0.0.0', spec.port, false, udpHandler, counters, onFatal)
            .catch((e: unknown) => { throw bindError('udp', '0.0.0.0', spec.port, e) })
        } else {
          throw bindError('udp', spec.host, spec.port, err)
        }
      }
      sockets.push(socket)
      bound.udp.push(udpAddress(socket))
    }
    return bound
  }

  function bindError (proto: string, host: string, port: number, err: unknown): OtdError {
    const e = err as NodeJS.ErrnoException
    return new OtdError(OT_ERR_BIND, `cannot bind ${proto} ${hostPort(host, port)}: ${e.code ?? e.message}`, { cause: err })
  }

  const tracker: Tracker = {
    options,
    store,
    counters,
    clock,
    logger,
    async listen () {
      clock.start()
      try {
        const bound = await bindAll()
        // Clean in one-second slices so a full pass over all torrents takes cleanPassSeconds.
        sweepTimer = setInterval(() => {
          store.sweepSlice(Math.ceil(store.torrentCount / options.cleanPassSeconds) + 1)
        }, 1000)
        sweepTimer.unref()
        return bound
      } catch (err) {
        await tracker.close()
        throw err
      }
    },
    async close () {
      if (closed) return
      closed = true
      if (sweepTimer !== null) clearInterval(sweepTimer)
      clock.stop()
      for (const s of connections) s.destroy()
      await Promise.all([
        ...servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
        ...sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
      ])
    },
    sweep () {
      store.sweepAll()
    }
  }
  return tracker
}

export { hostPort }
