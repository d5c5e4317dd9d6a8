// Steady announce load from the test process for the fault tests (faults-*.integration.test.ts):
// a few UDP workers (one connection id each, one request in flight) and a few HTTP workers (a new
// HTTP/1.0 connection per announce), each announcing as fast as replies come back. Every reply is
// validated (a BEP 15 announce reply; a 200 bencoded announce without `failure reason`), so an
// error reply, a timeout or a refused connection is counted, with the first few messages kept.
// Plus the state-file helpers those tests share: an independent writer of the documented layout
// (docs/state.md) and readers of a state file and of `/stats?mode=statedump`.

import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import zlib from 'node:zlib'
import { decodeState } from '../../src/state/statefile.js'
import { exchange, type Endpoint } from './http-raw.js'
import { request } from './ops-http.js'
import { announceTarget, parseAnnounce } from './tracker-client.js'
import { EVENT_COMPLETED, EVENT_NONE, announcePacket, connectPacket, freshTxid, parseAnnounceReply, parseConnectReply } from './udp-raw.js'

export interface AnnounceSpec {
  infoHash: Buffer
  port: number
  /** left=0 with event=completed: each new ip:port adds one to the torrent's downloaded count. */
  completed: boolean
}

export interface LoadResult {
  udpOk: number
  httpOk: number
  udpFailed: number
  httpFailed: number
  /** The first few failure messages. */
  failures: string[]
}

export class AnnounceLoad {
  readonly result: LoadResult = { udpOk: 0, httpOk: 0, udpFailed: 0, httpFailed: 0, failures: [] }
  private running = true
  private readonly workers: Array<Promise<void>> = []
  private readonly sockets: dgram.Socket[] = []
  private readonly waiters = new Set<() => void>()

  /**
   * Starts `udp` + `http` workers against a tracker; `next()` says what each announce sends.
   * A request without a reply within `timeoutMs` (default 3 s) is a failure.
   */
  constructor (udpTarget: Endpoint, httpTarget: Endpoint, o: { udp: number, http: number, next: () => AnnounceSpec, timeoutMs?: number }) {
    const timeoutMs = o.timeoutMs ?? 3000
    for (let i = 0; i < o.udp; i++) this.workers.push(this.udpWorker(udpTarget, o.next, timeoutMs))
    for (let i = 0; i < o.http; i++) this.workers.push(this.httpWorker(httpTarget, o.next, timeoutMs))
  }

  get ok (): number { return this.result.udpOk + this.result.httpOk }
  get failed (): number { return this.result.udpFailed + this.result.httpFailed }

  private succeed (proto: 'udp' | 'http'): void {
    if (proto === 'udp') this.result.udpOk++
    else this.result.httpOk++
    for (const w of [...this.waiters]) w()
  }

  private fail (proto: 'udp' | 'http', err: unknown): void {
    if (!this.running) return // the test stopped (or killed) the tracker: not a failure
    if (proto === 'udp') this.result.udpFailed++
    else this.result.httpFailed++
    if (this.result.failures.length < 10) this.result.failures.push(`${proto}: ${(err as Error).message ?? String(err)}`)
  }

  private async udpWorker (target: Endpoint, next: () => AnnounceSpec, timeoutMs: number): Promise<void> {
    const socket = dgram.createSocket(target.family === 'IPv6' ? 'udp6' : 'udp4')
    this.sockets.push(socket)
    await new Promise<void>((resolve) => socket.bind(0, target.family === 'IPv6' ? '::1' : '127.0.0.1', resolve))
    socket.on('error', () => {})
    // One request in flight: the reply with its transaction id, or null after timeoutMs / stop().
    const exchange = (packet: Buffer): Promise<Buffer | null> => new Promise((resolve) => {
      const txid = packet.readUInt32BE(12)
      const done = (b: Buffer | null): void => { clearTimeout(timer); socket.off('message', onMessage); socket.off('close', onClose); resolve(b) }
      const onMessage = (b: Buffer): void => { if (b.length >= 8 && b.readUInt32BE(4) === txid) done(b) }
      const onClose = (): void => done(null)
      const timer = setTimeout(() => done(null), timeoutMs)
      socket.on('message', onMessage)
      socket.once('close', onClose)
      socket.send(packet, target.port, target.address)
    })
    let connId: Buffer | null = null
    while (this.running) {
      try {
        if (connId === null) {
          const txid = freshTxid()
          const reply = await exchange(connectPacket(txid))
          if (reply === null) throw new Error('no reply to connect')
          connId = parseConnectReply(reply).connId
        }
        const s = next()
        const reply = await exchange(announcePacket({
          connId, txid: freshTxid(), infoHash: s.infoHash, port: s.port, numWant: 10,
          left: s.completed ? 0n : 1000n, event: s.completed ? EVENT_COMPLETED : EVENT_NONE
        }))
        if (reply === null) throw new Error('no reply to announce')
        parseAnnounceReply(reply, target.family === 'IPv6' ? 'IPv6' : 'IPv4')
        this.succeed('udp')
      } catch (err) {
        this.fail('udp', err)
        connId = null
      }
    }
    try { socket.close() } catch { /* closed by stop() */ }
  }

  private async httpWorker (target: Endpoint, next: () => AnnounceSpec, timeoutMs: number): Promise<void> {
    while (this.running) {
      const s = next()
      try {
        const res = await exchange(target, `GET ${announceTarget({ infoHash: s.infoHash, port: s.port, left: s.completed ? 0 : 1000, numwant: 10, ...(s.completed ? { event: 'completed' } : {}) })} HTTP/1.0\r\n\r\n`, { timeoutMs })
        parseAnnounce(res)
        this.succeed('http')
      } catch (err) {
        this.fail('http', err)
      }
    }
  }

  /** Resolves once `n` announces in total have succeeded. */
  until (n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => { if (this.ok >= n || !this.running) { this.waiters.delete(check); resolve() } }
      this.waiters.add(check)
      check()
    })
  }

  /**
   * Stops the load. From this call on failures no longer count (call it before killing the
   * tracker); UDP requests in flight are abandoned, HTTP ones finish or fail.
   */
  async stop (): Promise<LoadResult> {
    this.running = false
    for (const w of [...this.waiters]) w()
    for (const s of this.sockets) { try { s.close() } catch { /* already closed */ } }
    await Promise.all(this.workers)
    return this.result
  }
}

// ---- state files ----

/** hex info_hash → downloaded, for comparing a state file with a statedump. */
export type Counts = Map<string, number>

export interface StateSnapshot { savedAt: number, torrents: number, peers: number, counts: Counts }

/** Reads and verifies a state file (throws if it is not whole); the torrents with their counts. */
export function readState (path: string): StateSnapshot {
  const s = decodeState(readFileSync(path))
  const counts: Counts = new Map()
  for (const r of s.records) counts.set(Buffer.from(r.key, 'latin1').toString('hex'), r.downloaded)
  return { savedAt: s.savedAt, torrents: s.torrents, peers: s.peers, counts }
}

/**
 * A state file per docs/state.md written independently of the daemon's encoder: torrents with
 * counts and no peers (restored as such; kept for the torrent timeout since downloaded > 0).
 */
export function encodeCountsOnly (torrents: Array<{ hash: Buffer, downloaded: number, lastActive: number }>, savedAt: number): Buffer {
  const head = Buffer.alloc(16)
  head.write('OTDSTATE', 0, 'latin1')
  head.writeUInt32LE(1, 8)
  head.writeUInt32LE(savedAt, 12)
  const records = Buffer.alloc(36 * torrents.length)
  torrents.forEach((t, i) => {
    t.hash.copy(records, i * 36)
    records.writeUInt32LE(t.downloaded, i * 36 + 20)
    records.writeUInt32LE(t.lastActive, i * 36 + 24)
  })
  const tail = Buffer.alloc(28)
  tail.writeUInt32LE(torrents.length, 0)
  tail.writeBigUInt64LE(BigInt(records.length), 8)
  tail.writeUInt32LE(zlib.crc32(records, zlib.crc32(head)), 16)
  tail.write('OTDEND\0\0', 20, 'latin1')
  return Buffer.concat([head, records, tail])
}

/** `/stats?mode=statedump` of a running tracker as hex → downloaded; throws on a malformed reply. */
export async function fetchStatedump (ep: Endpoint, timeoutMs = 20_000): Promise<Counts> {
  const r = await request(ep, '/stats?mode=statedump', { timeoutMs })
  if (r.status !== 200) throw new Error(`statedump: status ${r.status}`)
  const text = r.body.toString('latin1')
  if (text !== '' && !text.endsWith('\n')) throw new Error('statedump: the last line is cut off')
  const counts: Counts = new Map()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const m = /^([0-9A-F]{40}):(\d+):(\d+)$/.exec(line)
    if (m === null) throw new Error(`statedump: malformed line ${JSON.stringify(line)}`)
    counts.set(m[1]!.toLowerCase(), Number(m[3]))
  }
  return counts
}
