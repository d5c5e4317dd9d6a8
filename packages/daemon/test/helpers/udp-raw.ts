// Raw BEP 15 UDP for black-box tests: packet builders, reply parsers and a small
// client socket wrapper with bounded waits.

import dgram from 'node:dgram'
import type { Endpoint } from './http-raw.js'

export const PROTOCOL_ID = 0x41727101980n
export const ACTION_CONNECT = 0
export const ACTION_ANNOUNCE = 1
export const ACTION_SCRAPE = 2
export const ACTION_ERROR = 3

export const EVENT_NONE = 0
export const EVENT_COMPLETED = 1
export const EVENT_STARTED = 2
export const EVENT_STOPPED = 3

/** Quiet period for "no reply" assertions. */
export const SILENCE_MS = 300
export const REPLY_TIMEOUT_MS = 3000

export function connectPacket(txid: number, protocolId: bigint = PROTOCOL_ID): Buffer {
  const b = Buffer.alloc(16)
  b.writeBigUInt64BE(protocolId, 0)
  b.writeUInt32BE(ACTION_CONNECT, 8)
  b.writeUInt32BE(txid >>> 0, 12)
  return b
}

export interface AnnounceFields {
  connId: Buffer
  txid: number
  infoHash: Buffer
  peerId?: Buffer
  downloaded?: bigint
  left?: bigint
  uploaded?: bigint
  event?: number
  ip?: number
  key?: number
  numWant?: number
  port: number
}

/** A 98-byte BEP 15 announce request. */
export function announcePacket(f: AnnounceFields): Buffer {
  const b = Buffer.alloc(98)
  f.connId.copy(b, 0, 0, 8)
  b.writeUInt32BE(ACTION_ANNOUNCE, 8)
  b.writeUInt32BE(f.txid >>> 0, 12)
  f.infoHash.copy(b, 16, 0, 20)
  ;(f.peerId ?? Buffer.from('-TS0001-000000000000', 'latin1')).copy(b, 36, 0, 20)
  b.writeBigUInt64BE(f.downloaded ?? 0n, 56)
  b.writeBigUInt64BE(f.left ?? 1000n, 64)
  b.writeBigUInt64BE(f.uploaded ?? 0n, 72)
  b.writeUInt32BE(f.event ?? EVENT_NONE, 80)
  b.writeUInt32BE(f.ip ?? 0, 84)
  b.writeUInt32BE(f.key ?? 0x12345678, 88)
  b.writeUInt32BE((f.numWant ?? 50) >>> 0, 92)
  b.writeUInt16BE(f.port & 0xffff, 96)
  return b
}

export function scrapePacket(connId: Buffer, txid: number, hashes: Buffer[]): Buffer {
  const b = Buffer.alloc(16 + 20 * hashes.length)
  connId.copy(b, 0, 0, 8)
  b.writeUInt32BE(ACTION_SCRAPE, 8)
  b.writeUInt32BE(txid >>> 0, 12)
  hashes.forEach((h, i) => h.copy(b, 16 + 20 * i, 0, 20))
  return b
}

export interface UdpPeer {
  ip: string
  port: number
}

export interface AnnounceReply {
  txid: number
  interval: number
  leechers: number
  seeders: number
  peers: UdpPeer[]
}

export interface ScrapeEntry {
  seeders: number
  completed: number
  leechers: number
}

function u32(b: Buffer, off: number): number {
  return b.readUInt32BE(off)
}

export function parseConnectReply(b: Buffer): { txid: number; connId: Buffer } {
  if (b.length !== 16) throw new Error(`connect reply: expected 16 bytes, got ${b.length} (${b.toString('hex')})`)
  if (u32(b, 0) !== ACTION_CONNECT) throw new Error(`connect reply: action ${u32(b, 0)}`)
  return { txid: u32(b, 4), connId: Buffer.from(b.subarray(8, 16)) }
}

export function parseAnnounceReply(b: Buffer, family: 'IPv4' | 'IPv6'): AnnounceReply {
  if (b.length < 20) throw new Error(`announce reply too short: ${b.length} bytes (${b.toString('hex')})`)
  if (u32(b, 0) !== ACTION_ANNOUNCE) {
    throw new Error(`announce reply: action ${u32(b, 0)} (${b.toString('hex')}) ${JSON.stringify(b.subarray(8).toString('latin1'))}`)
  }
  const size = family === 'IPv4' ? 6 : 18
  const rest = b.length - 20
  if (rest % size !== 0) throw new Error(`announce reply: ${rest} peer bytes is not a multiple of ${size}`)
  return {
    txid: u32(b, 4),
    interval: u32(b, 8),
    leechers: u32(b, 12),
    seeders: u32(b, 16),
    peers: parseCompactPeers(b.subarray(20), family),
  }
}

export function parseScrapeReply(b: Buffer): { txid: number; entries: ScrapeEntry[] } {
  if (b.length < 8 || (b.length - 8) % 12 !== 0) throw new Error(`scrape reply: bad length ${b.length}`)
  if (u32(b, 0) !== ACTION_SCRAPE) throw new Error(`scrape reply: action ${u32(b, 0)}`)
  const entries: ScrapeEntry[] = []
  for (let off = 8; off < b.length; off += 12) {
    entries.push({ seeders: u32(b, off), completed: u32(b, off + 4), leechers: u32(b, off + 8) })
  }
  return { txid: u32(b, 4), entries }
}

/** The exact 33-byte opentracker error for a wrong connection ID. */
export function mismatchErrorPacket(txid: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeUInt32BE(ACTION_ERROR, 0)
  b.writeUInt32BE(txid >>> 0, 4)
  return Buffer.concat([b, Buffer.from('Connection ID missmatch.\0', 'latin1')])
}

export function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16))
  // canonical compression of the longest run of zero groups (RFC 5952)
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLen && j - i > 1) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  if (bestStart < 0) return groups.join(':')
  const left = groups.slice(0, bestStart).join(':')
  const right = groups.slice(bestStart + bestLen).join(':')
  return `${left}::${right}`
}

export function parseCompactPeers(b: Buffer, family: 'IPv4' | 'IPv6'): UdpPeer[] {
  const ipLen = family === 'IPv4' ? 4 : 16
  const size = ipLen + 2
  if (b.length % size !== 0) throw new Error(`compact ${family} peers: ${b.length} bytes is not a multiple of ${size}`)
  const peers: UdpPeer[] = []
  for (let off = 0; off < b.length; off += size) {
    peers.push({ ip: formatIp(Buffer.from(b.subarray(off, off + ipLen))), port: b.readUInt16BE(off + ipLen) })
  }
  return peers
}

export function peerKey(p: UdpPeer): string {
  return p.ip.includes(':') ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`
}

let nextTxid = 0x1000

export function freshTxid(): number {
  nextTxid = (nextTxid + 0x9e37) >>> 0
  return nextTxid
}

/** A client UDP socket bound to the loopback of one family, with a receive queue. */
export class UdpClient {
  readonly family: 'IPv4' | 'IPv6'
  private queue: Buffer[] = []
  private waiters = new Set<() => void>()

  private constructor(readonly socket: dgram.Socket, readonly target: Endpoint) {
    this.family = target.family === 'IPv6' ? 'IPv6' : 'IPv4'
    socket.on('message', (msg) => {
      this.queue.push(msg)
      for (const w of [...this.waiters]) w()
    })
  }

  /** `localAddress`: the source address (default the loopback; 127.0.0.2 etc. also reach it). */
  static async open(target: Endpoint, localAddress?: string): Promise<UdpClient> {
    const v6 = target.family === 'IPv6'
    const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4' })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, localAddress ?? (v6 ? '::1' : '127.0.0.1'), () => {
        socket.removeListener('error', reject)
        resolve()
      })
    })
    return new UdpClient(socket, target)
  }

  get localPort(): number {
    return this.socket.address().port
  }

  send(packet: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(packet, this.target.port, this.target.address, (err) => (err ? reject(err) : resolve()))
    })
  }

  /** Drops anything received so far. */
  drain(): void {
    this.queue = []
  }

  /** Next datagram matching `match` (others stay queued); fails after timeoutMs. */
  recv(timeoutMs = REPLY_TIMEOUT_MS, match: (b: Buffer) => boolean = () => true, what = 'a UDP reply'): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const i = this.queue.findIndex(match)
        if (i < 0) return false
        const [msg] = this.queue.splice(i, 1)
        clearTimeout(timer)
        this.waiters.delete(onMsg)
        resolve(msg as Buffer)
        return true
      }
      const onMsg = (): void => {
        check()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(onMsg)
        reject(new Error(`no reply: timed out after ${timeoutMs} ms waiting for ${what} from ${this.target.address}:${this.target.port}`))
      }, timeoutMs)
      if (check()) return
      this.waiters.add(onMsg)
    })
  }

  /** Reply whose transaction ID (offset 4) equals txid. */
  recvTx(txid: number, timeoutMs = REPLY_TIMEOUT_MS): Promise<Buffer> {
    return this.recv(timeoutMs, (b) => b.length >= 8 && b.readUInt32BE(4) === txid >>> 0, `the reply to txid 0x${txid.toString(16)}`)
  }

  /** Sends and waits for the reply carrying the packet's transaction ID. */
  async request(packet: Buffer, timeoutMs = REPLY_TIMEOUT_MS): Promise<Buffer> {
    const txid = packet.length >= 16 ? packet.readUInt32BE(12) : 0
    await this.send(packet)
    return this.recvTx(txid, timeoutMs)
  }

  /**
   * Sends and asserts silence: resolves to the list of datagrams received within
   * `ms` (the caller asserts it is empty).
   */
  async sendExpectNothing(packet: Buffer, ms = SILENCE_MS): Promise<Buffer[]> {
    this.drain()
    await this.send(packet)
    await new Promise((r) => setTimeout(r, ms))
    const got = this.queue
    this.queue = []
    return got
  }

  async connect(): Promise<Buffer> {
    const txid = freshTxid()
    const reply = await this.request(connectPacket(txid))
    const parsed = parseConnectReply(reply)
    if (parsed.txid !== txid) throw new Error('connect reply: txid mismatch')
    return parsed.connId
  }

  async announce(fields: Omit<AnnounceFields, 'connId' | 'txid'> & { connId?: Buffer }): Promise<AnnounceReply> {
    const connId = fields.connId ?? (await this.connect())
    const txid = freshTxid()
    const reply = await this.request(announcePacket({ ...fields, connId, txid }))
    const parsed = parseAnnounceReply(reply, this.family)
    if (parsed.txid !== txid) throw new Error('announce reply: txid mismatch')
    return parsed
  }

  async scrape(hashes: Buffer[], connId?: Buffer): Promise<ScrapeEntry[]> {
    const id = connId ?? (await this.connect())
    const txid = freshTxid()
    const reply = await this.request(scrapePacket(id, txid, hashes))
    const parsed = parseScrapeReply(reply)
    if (parsed.txid !== txid) throw new Error('scrape reply: txid mismatch')
    return parsed.entries
  }

  close(): void {
    try {
      this.socket.close()
    } catch {
      // already closed
    }
  }
}
