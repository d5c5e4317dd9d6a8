/**
 * A BEP 15 client for one exchange with a UDP tracker: connect, then announce or scrape, with
 * packets built by @otd/proto's client-side encoders.
 *
 * BEP 15 retransmits after 15 · 2^n seconds, which suits a client that announces for hours, not
 * an operator waiting at a prompt: otctl retransmits after 0.5 s, 1 s, 2 s, ... within `--timeout`.
 * The socket is connected, so an ICMP "port unreachable" ends the wait at once (ECONNREFUSED)
 * instead of after the timeout.
 */
import type { Socket } from 'node:dgram'
import { randomInt } from 'node:crypto'
import { OT_ERR_TRACKER, OT_ERR_UNREACHABLE, OtctlError } from '../../errors.js'
import type { AnnounceRequest, AnnounceResult, Peer, ScrapeEntry, ScrapeResult } from './types.js'

const ACTION_CONNECT = 0
const ACTION_ANNOUNCE = 1
const ACTION_SCRAPE = 2
const ACTION_ERROR = 3
/** BEP 15: "up to about 74 torrents can be scraped at once" (one reply fits a 1500-byte MTU). */
const SCRAPE_HASHES_PER_PACKET = 74
const FIRST_RETRY_MS = 500
const EVENT_CODE: Record<AnnounceRequest['event'], number> = { none: 0, completed: 1, started: 2, stopped: 3 }

type Proto = typeof import('@otd/proto')

export class UdpTracker {
  private socket: Socket | undefined
  private proto: Proto | undefined
  private family = 4
  private connectionId: [number, number] | undefined
  private readonly deadline: number
  readonly text: string

  constructor (readonly host: string, readonly port: number, readonly timeoutMs: number) {
    this.deadline = Date.now() + timeoutMs
    this.text = `udp://${host.includes(':') ? `[${host}]` : host}:${port}`
  }

  private unreachable (why: string, cause?: unknown): OtctlError {
    return new OtctlError(OT_ERR_UNREACHABLE, `cannot reach ${this.text}: ${why}`, undefined, cause === undefined ? undefined : { cause })
  }

  private async open (): Promise<Socket> {
    if (this.socket !== undefined) return this.socket
    const [dgram, dns, proto] = await Promise.all([import('node:dgram'), import('node:dns/promises'), import('@otd/proto')])
    this.proto = proto
    let address: string
    try {
      const r = await dns.lookup(this.host)
      address = r.address
      this.family = r.family
    } catch (err) {
      throw this.unreachable((err as NodeJS.ErrnoException).code ?? String(err), err)
    }
    const socket = dgram.createSocket(this.family === 6 ? 'udp6' : 'udp4')
    this.socket = socket
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.connect(this.port, address, () => { socket.off('error', reject); resolve() })
    }).catch((err: unknown) => { throw this.unreachable((err as NodeJS.ErrnoException).code ?? String(err), err) })
    return socket
  }

  /** Sends `packet` until a reply with its transaction id arrives, or the deadline passes. */
  private async exchange (packet: Buffer, transactionId: number, expect: number): Promise<Buffer> {
    const socket = await this.open()
    const reply = await new Promise<Buffer>((resolve, reject) => {
      let wait = FIRST_RETRY_MS
      let timer: NodeJS.Timeout | undefined
      const done = (): void => {
        clearTimeout(timer)
        socket.off('message', onMessage)
        socket.off('error', onError)
      }
      const onMessage = (msg: Buffer): void => {
        if (msg.length < 8 || msg.readUInt32BE(4) !== transactionId) return
        done()
        resolve(msg)
      }
      const onError = (err: NodeJS.ErrnoException): void => {
        done()
        reject(this.unreachable(err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens on that UDP port)' : (err.code ?? err.message), err))
      }
      const send = (): void => {
        const left = this.deadline - Date.now()
        if (left <= 0) {
          done()
          reject(this.unreachable(`no answer within ${this.timeoutMs} ms`))
          return
        }
        socket.send(packet, (err) => { if (err) onError(err) })
        timer = setTimeout(send, Math.min(wait, left))
        wait *= 2
      }
      socket.on('message', onMessage)
      socket.on('error', onError)
      send()
    })
    const action = reply.readUInt32BE(0)
    if (action === ACTION_ERROR) {
      const message = reply.toString('utf8', 8).replace(/\0+$/, '')
      throw new OtctlError(OT_ERR_TRACKER, `${this.text} refused: ${message}`, { failure_reason: message })
    }
    if (action !== expect) throw new OtctlError(OT_ERR_TRACKER, `${this.text} answered action ${action} to a request for action ${expect}`)
    return reply
  }

  private async connect (): Promise<[number, number]> {
    if (this.connectionId !== undefined) return this.connectionId
    await this.open()
    const txid = randomInt(0x100000000)
    const packet = Buffer.alloc(16)
    this.proto!.writeConnectRequest(packet, 0, txid)
    const reply = await this.exchange(packet, txid, ACTION_CONNECT)
    if (reply.length < 16) throw new OtctlError(OT_ERR_TRACKER, `${this.text}: short connect reply (${reply.length} bytes)`)
    this.connectionId = [reply.readUInt32BE(8), reply.readUInt32BE(12)]
    return this.connectionId
  }

  async announce (r: AnnounceRequest): Promise<AnnounceResult> {
    const [high, low] = await this.connect()
    const txid = randomInt(0x100000000)
    const packet = Buffer.alloc(98)
    this.proto!.writeAnnounceRequest(packet, 0, {
      connectionIdHigh: high,
      connectionIdLow: low,
      transactionId: txid,
      infoHash: r.infoHash,
      peerId: r.peerId,
      downloaded: r.downloaded,
      left: r.left,
      uploaded: r.uploaded,
      event: EVENT_CODE[r.event],
      key: r.key,
      numWant: r.numWant,
      port: r.port
    })
    const reply = await this.exchange(packet, txid, ACTION_ANNOUNCE)
    if (reply.length < 20) throw new OtctlError(OT_ERR_TRACKER, `${this.text}: short announce reply (${reply.length} bytes)`)
    const v6 = this.family === 6
    const size = v6 ? 18 : 6
    const peers: Peer[] = []
    for (let o = 20; o + size <= reply.length; o += size) {
      const ip = v6
        ? this.proto!.formatIPv6([reply.readUInt32BE(o), reply.readUInt32BE(o + 4), reply.readUInt32BE(o + 8), reply.readUInt32BE(o + 12)])
        : this.proto!.formatIPv4(reply.readUInt32BE(o))
      peers.push({ ip, port: reply.readUInt16BE(o + size - 2) })
    }
    return {
      tracker: this.text,
      protocol: 'udp',
      info_hash: r.infoHash.toString('hex'),
      interval: reply.readUInt32BE(8),
      leechers: reply.readUInt32BE(12),
      seeders: reply.readUInt32BE(16),
      peers
    }
  }

  async scrape (hashes: Buffer[]): Promise<ScrapeResult> {
    const [high, low] = await this.connect()
    const files: ScrapeEntry[] = []
    const missing: string[] = []
    for (let i = 0; i < hashes.length; i += SCRAPE_HASHES_PER_PACKET) {
      const batch = hashes.slice(i, i + SCRAPE_HASHES_PER_PACKET)
      const txid = randomInt(0x100000000)
      const packet = Buffer.alloc(16 + 20 * batch.length)
      this.proto!.writeScrapeRequest(packet, 0, high, low, txid, Buffer.concat(batch))
      const reply = await this.exchange(packet, txid, ACTION_SCRAPE)
      batch.forEach((h, k) => {
        const o = 8 + 12 * k
        if (o + 12 > reply.length) { missing.push(h.toString('hex')); return }
        files.push({ info_hash: h.toString('hex'), seeders: reply.readUInt32BE(o), completed: reply.readUInt32BE(o + 4), leechers: reply.readUInt32BE(o + 8) })
      })
    }
    return { tracker: this.text, protocol: 'udp', files, missing }
  }

  close (): void {
    this.socket?.close()
    this.socket = undefined
  }
}
