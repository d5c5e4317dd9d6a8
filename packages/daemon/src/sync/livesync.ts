/**
 * Live sync: tells the other nodes about this node's peers as they announce, in UDP packets
 * (proto sync/livesync.ts), two ways at once:
 *
 *  - multicast, opentracker's (reference §10.2): plain packets to the group (224.0.23.5) on the
 *    configured port, TTL 1; received on 0.0.0.0:port and accepted from MAY_LIVESYNC addresses
 *    (`livesync.cluster.node_ip`, `-A`). Unlike opentracker, multicast loopback is on, so nodes
 *    on one host see each other (our own packets come back and are dropped by tracker id), and
 *    packets go to the configured port, not always 9696 (opentracker bug).
 *  - unicast, otd's: the same records in authenticated packets to each configured node
 *    (`livesync.unicast.peer`), for clusters that multicast cannot reach (other subnets, data
 *    centres). See packet-auth.ts for the MAC and replay protection.
 *
 * What is sent (opentracker's rules, via the store's SyncTap): new peers, re-announces more than
 * 10 minutes after the previous one, newly completed downloads and every stop; never what was
 * learned from sync. Records are buffered per address family and go out when a packet is full
 * (1480 bytes with the trailer) or every `livesyncFlushMs`. Buffering writes into a preallocated
 * packet buffer: telling allocates nothing.
 *
 * Received packets pass decodeLivesync, the sender checks (own id, blessing or MAC) and are then
 * applied record by record (apply.ts), counted in `syncPeersReceived`.
 */
import dgram from 'node:dgram'
import {
  FAMILY_INVALID, LIVESYNC_HEADER_BYTES, LIVESYNC_MAX_ENTRY_BYTES, LIVESYNC_OK, LIVESYNC_TRAILER_BYTES, LivesyncPacket,
  decodeLivesync, livesyncEntryBytes, livesyncType, parseAddress, writeLivesyncEntry4, writeLivesyncEntry6, writeLivesyncHeader,
  writeLivesyncSequence
} from '@otd/proto'
import type { Logger } from 'pino'
import type { Blessings } from '../access/blessings.js'
import type { Clock } from '../clock.js'
import { MAY_LIVESYNC, type ListenSpec, type TrackerOptions } from '../config.js'
import type { Counters } from '../counters.js'
import { OT_ERR_BIND, OT_ERR_CONFIG, OtdError } from '../errors.js'
import { type RecordApplier, countOutcome } from './apply.js'
import { AUTH_FORGED, AUTH_OK, AUTH_STALE, PacketAuth } from './packet-auth.js'

export interface LiveSyncAddress { kind: 'multicast' | 'unicast', address: string, port: number, family: 'IPv4' | 'IPv6' }

export interface LiveSyncDeps {
  options: TrackerOptions
  counters: Counters
  blessings: Blessings
  clock: Clock
  logger: Logger
  trackerId: number
  applier: RecordApplier
  /** A socket failed after start-up: the tracker exits rather than run degraded. */
  onFatal: (err: Error) => void
}

/** Outgoing records of one address family. */
class Outbox {
  /** Entries at [LIVESYNC_HEADER_BYTES, used); the header is written at flush. */
  readonly buf = Buffer.alloc(LIVESYNC_HEADER_BYTES + LIVESYNC_MAX_ENTRY_BYTES)
  used = LIVESYNC_HEADER_BYTES
  readonly limit: number
  constructor (readonly family: 4 | 6) {
    const e = livesyncEntryBytes(family)
    this.limit = LIVESYNC_HEADER_BYTES + Math.floor(LIVESYNC_MAX_ENTRY_BYTES / e) * e
  }
}

function isWildcard (host: string): boolean {
  return host === '0.0.0.0' || host === '::'
}

function bindSocket (socket: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { reject(err) }
    socket.once('error', onError)
    socket.bind(port, host, () => { socket.off('error', onError); resolve() })
  })
}

function hostPort (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

export class LiveSync {
  private readonly out4 = new Outbox(4)
  private readonly out6 = new Outbox(6)
  private readonly packet = new LivesyncPacket()
  private readonly srcIp = new Uint32Array(4)
  private readonly auth: PacketAuth | null
  private peers: ListenSpec[]
  private mcastRecv: dgram.Socket | null = null
  private mcastSend: dgram.Socket | null = null
  private mcastPort = 0
  private unicast: dgram.Socket | null = null
  /** Send-only sockets for unicast peers of the family the unicast listener does not serve. */
  private readonly senders: Partial<Record<4 | 6, dgram.Socket>> = {}
  private counter = 0
  private flushTimer: NodeJS.Timeout | null = null
  private pruneTimer: NodeJS.Timeout | null = null
  private readonly bound: LiveSyncAddress[] = []
  private closed = false

  constructor (private readonly d: LiveSyncDeps) {
    const o = d.options
    this.auth = o.livesyncKey === '' ? null : new PacketAuth(o.livesyncKey)
    this.peers = [...o.livesyncPeers]
  }

  /** Whether anything is sent (multicast or unicast peers): only then does the store tell us. */
  get sending (): boolean {
    return this.d.options.livesyncListen !== null || this.peers.length > 0
  }

  /** The bound live-sync sockets (multicast receive port, unicast listener). */
  addresses (): LiveSyncAddress[] { return this.bound }

  /** Replaces the unicast peers (for tests and future reloads). */
  setPeers (peers: ListenSpec[]): void { this.peers = [...peers] }

  async bind (): Promise<void> {
    const o = this.d.options
    const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => { this.receive(msg, rinfo.address) }
    if (o.livesyncListen !== null) {
      const { host, port } = o.livesyncListen
      if (host.includes(':') && host !== '::') {
        throw new OtdError(OT_ERR_CONFIG, `live sync multicast needs an IPv4 interface address, not ${host} (IPv6 multicast is not supported; use livesync.unicast.*)`)
      }
      const iface = isWildcard(host) ? undefined : host
      const recv = dgram.createSocket({ type: 'udp4', reuseAddr: true })
      try {
        await bindSocket(recv, port, '0.0.0.0')
      } catch (err) {
        recv.close()
        throw new OtdError(OT_ERR_BIND, `cannot bind live sync 0.0.0.0:${port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
      }
      try {
        recv.addMembership(o.livesyncGroup, iface)
      } catch (err) {
        recv.close()
        throw new OtdError(OT_ERR_CONFIG, `cannot join live sync group ${o.livesyncGroup} on ${hostPort(host, port)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
      }
      this.mcastRecv = recv
      this.mcastPort = recv.address().port
      recv.on('message', onMessage)
      recv.on('error', this.d.onFatal)
      const send = dgram.createSocket({ type: 'udp4' })
      await bindSocket(send, 0, iface ?? '0.0.0.0')
      send.setMulticastTTL(1)
      send.setMulticastLoopback(true)
      if (iface !== undefined) send.setMulticastInterface(iface)
      send.on('error', this.d.onFatal)
      this.mcastSend = send
      this.bound.push({ kind: 'multicast', address: '0.0.0.0', port: this.mcastPort, family: 'IPv4' })
    }
    if (o.livesyncUnicastListen !== null) {
      const { host, port } = o.livesyncUnicastListen
      const v6 = host.includes(':')
      const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4' })
      try {
        await bindSocket(socket, port, host)
      } catch (err) {
        socket.close()
        throw new OtdError(OT_ERR_BIND, `cannot bind live sync ${hostPort(host, port)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
      }
      socket.on('message', onMessage)
      socket.on('error', this.d.onFatal)
      this.unicast = socket
      const a = socket.address()
      this.bound.push({ kind: 'unicast', address: a.address, port: a.port, family: v6 ? 'IPv6' : 'IPv4' })
    }
  }

  start (): void {
    if (this.flushTimer !== null) return
    this.flushTimer = setInterval(() => this.flush(), this.d.options.livesyncFlushMs)
    this.flushTimer.unref()
    if (this.auth !== null) {
      this.pruneTimer = setInterval(() => this.auth!.prune(Math.floor(Date.now() / 1000)), 60_000)
      this.pruneTimer.unref()
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.flushTimer !== null) clearInterval(this.flushTimer)
    if (this.pruneTimer !== null) clearInterval(this.pruneTimer)
    this.flushTimer = this.pruneTimer = null
    const sockets = [this.mcastRecv, this.mcastSend, this.unicast, this.senders[4], this.senders[6]]
    await Promise.all(sockets.map((s) => s === null || s === undefined
      ? undefined
      : new Promise<void>((resolve) => { try { s.close(() => resolve()) } catch { resolve() } })))
  }

  /** Buffers one record (called from the store's SyncTap); sends the packet when it is full. */
  tell (key: string, family: number, ip: Uint32Array, port: number, flags: number): void {
    const box = family === 4 ? this.out4 : this.out6
    box.used = family === 4
      ? writeLivesyncEntry4(box.buf, box.used, key, ip[0]!, port, flags, 0)
      : writeLivesyncEntry6(box.buf, box.used, key, ip, port, flags, 0)
    if (box.used >= box.limit) this.send(box)
  }

  /** Sends whatever is buffered. */
  flush (): void {
    if (this.out4.used > LIVESYNC_HEADER_BYTES) this.send(this.out4)
    if (this.out6.used > LIVESYNC_HEADER_BYTES) this.send(this.out6)
  }

  private send (box: Outbox): void {
    const entries = box.used - LIVESYNC_HEADER_BYTES
    box.used = LIVESYNC_HEADER_BYTES
    if (this.closed) return
    const c = this.d.counters
    c.syncLiveRecordsOut += entries / livesyncEntryBytes(box.family)
    const done = (err: Error | null): void => { if (err !== null) c.syncLiveSendErrors++ }
    if (this.mcastSend !== null) {
      // dgram.send is asynchronous: every packet gets its own buffer (one per ~50 records).
      const pkt = Buffer.allocUnsafe(LIVESYNC_HEADER_BYTES + entries)
      writeLivesyncHeader(pkt, 0, this.d.trackerId, livesyncType(box.family, false))
      box.buf.copy(pkt, LIVESYNC_HEADER_BYTES, LIVESYNC_HEADER_BYTES, LIVESYNC_HEADER_BYTES + entries)
      c.syncLivePacketsOut++
      this.mcastSend.send(pkt, this.mcastPort, this.d.options.livesyncGroup, done)
    }
    if (this.peers.length > 0 && this.auth !== null) {
      const pkt = Buffer.allocUnsafe(LIVESYNC_HEADER_BYTES + entries + LIVESYNC_TRAILER_BYTES)
      writeLivesyncHeader(pkt, 0, this.d.trackerId, livesyncType(box.family, true))
      box.buf.copy(pkt, LIVESYNC_HEADER_BYTES, LIVESYNC_HEADER_BYTES, LIVESYNC_HEADER_BYTES + entries)
      this.counter = (this.counter + 1) >>> 0
      const macAt = writeLivesyncSequence(pkt, LIVESYNC_HEADER_BYTES + entries, Math.floor(Date.now() / 1000), this.counter)
      this.auth.sign(pkt, macAt)
      for (const p of this.peers) {
        const s = this.senderFor(p.host.includes(':') ? 6 : 4)
        if (s === null) { c.syncLiveSendErrors++; continue }
        c.syncLivePacketsOut++
        s.send(pkt, p.port, p.host, done)
      }
    }
  }

  /** The socket that sends to peers of `family`: the unicast listener when it can, else a send-only one. */
  private senderFor (family: 4 | 6): dgram.Socket | null {
    const u = this.unicast
    if (u !== null) {
      const a = u.address()
      if ((a.family === 'IPv4') === (family === 4)) return u
    }
    let s = this.senders[family]
    if (s === undefined) {
      s = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6' })
      s.on('error', (err) => { this.d.logger.warn({ err }, 'live sync send socket failed'); this.d.counters.syncLiveSendErrors++ })
      s.unref()
      this.senders[family] = s
    }
    return s
  }

  /** Handles one received datagram from `from` (the source address text). */
  receive (msg: Buffer, from: string): void {
    const c = this.d.counters
    c.syncLivePacketsIn++
    const p = this.packet
    const r = decodeLivesync(msg, msg.length, p)
    if (r !== LIVESYNC_OK) { c.syncLiveMalformed++; return }
    if (p.trackerId === this.d.trackerId) { c.syncLiveOwn++; return }
    if (p.authenticated) {
      if (this.auth === null) { c.syncLiveUnauthorized++; return }
      const a = this.auth.check(msg, p.macOffset, p.trackerId, p.seconds, p.counter, Math.floor(Date.now() / 1000))
      if (a !== AUTH_OK) {
        if (a === AUTH_FORGED) c.syncLiveForged++
        else c.syncLiveReplayed++
        if (a === AUTH_FORGED || a === AUTH_STALE) this.d.logger.debug({ from, reason: a === AUTH_FORGED ? 'forged' : 'stale' }, 'live sync packet dropped')
        return
      }
    } else {
      const family = parseAddress(from, this.srcIp)
      if (family === FAMILY_INVALID || !this.d.blessings.may(family, this.srcIp, MAY_LIVESYNC)) { c.syncLiveUnauthorized++; return }
    }
    const entry = livesyncEntryBytes(p.family)
    const now = this.d.clock.seconds
    const applier = this.d.applier
    for (let i = 0, at = p.entriesOffset; i < p.count; i++, at += entry) {
      const outcome = applier.apply(msg.toString('latin1', at, at + 20), p.family, msg, at + 20, now)
      countOutcome(c, outcome)
    }
    c.syncPeersReceived += p.count
  }
}
