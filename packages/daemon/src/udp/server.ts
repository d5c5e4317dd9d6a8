/**
 * UDP sockets: receive, hand the packet to the {@link UdpHandler}, send its reply from a slab.
 * One socket per configured address; `::` is dual stack (IPv4 clients arrive v4-mapped and are
 * stored as IPv4), unless the same port is also bound on 0.0.0.0.
 */
import dgram from 'node:dgram'
import { FAMILY_INVALID, parseAddress } from '@otd/proto'
import type { Counters } from '../counters.js'
import { ReplySlab } from '../reply-slab.js'
import type { ShardRouter } from '../workers/router.js'
import { directSend, type DirectSend } from './direct-send.js'
import { UDP_REPLY_BOUND, type UdpHandler } from './handler.js'

export interface BoundAddress {
  address: string
  port: number
  family: 'IPv4' | 'IPv6'
}

/** Receive buffer asked of the kernel (capped by net.core.rmem_max); the default holds only ~170 requests. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024

/** With `--workers`: this socket's router and its index among the configured UDP listeners. */
export interface UdpShard {
  router: ShardRouter
  index: number
}

export function bindUdp (host: string, port: number, ipv6Only: boolean, handler: UdpHandler, counters: Counters,
  onFatal: (err: Error) => void, shard: UdpShard | null = null): Promise<dgram.Socket> {
  const v6 = host.includes(':')
  // Workers share the port (SO_REUSEPORT: the kernel spreads clients over their sockets by hash of
  // the address pair); they all bind before privileges are dropped, so only this process can join.
  const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 && ipv6Only, ...(shard !== null ? { reusePort: true } : {}) })
  const slab = new ReplySlab()
  const ip = new Uint32Array(4)
  const send: DirectSend = directSend(socket) ?? ((buf, off, n, port, address) => {
    try {
      socket.send(buf, off, n, port, address)
      return true
    } catch { return false } // closed meanwhile (shutdown)
  })

  /** Answers one request from `address`:`port`; a scrape spanning shards goes to the router. */
  const answer = (msg: Buffer, length: number, address: string, port: number): void => {
    const family = parseAddress(address, ip)
    if (family === FAMILY_INVALID) return
    const out = slab.reserve(UDP_REPLY_BOUND)
    const n = handler.handle(msg, length, family, ip, out, slab.off)
    if (n <= 0) {
      if (n < 0 && shard !== null) shard.router.gatherUdp(socket, msg, length, address, port)
      return
    }
    if (!send(out, slab.off, n, port, address)) { counters.udpSendErrors++; return }
    counters.udpBytesOut += n
    slab.commit(slab.off + n)
  }

  if (shard === null) {
    socket.on('message', (msg, rinfo) => { answer(msg, msg.length, rinfo.address, rinfo.port) })
  } else {
    const router = shard.router
    router.udp[shard.index] = answer
    const mesh = router.mesh
    socket.on('message', (msg, rinfo) => {
      // Awake anyway: what other workers hand us is read at the end of this turn, unwoken (mesh.ts).
      mesh.busy()
      const owner = router.udpOwner(msg, msg.length)
      if (owner >= 0) router.forwardUdp(owner, shard.index, msg, rinfo.address, rinfo.port)
      else answer(msg, msg.length, rinfo.address, rinfo.port)
    })
  }

  return new Promise((resolve, reject) => {
    const onStartError = (err: Error): void => { socket.close(); reject(err) }
    socket.once('error', onStartError)
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onStartError)
      socket.on('error', (err: NodeJS.ErrnoException) => {
        // Send failures (ENOBUFS, EPERM from a firewall, unreachable peers) affect one reply, not the tracker.
        if (err.syscall === 'send' || err.code === 'ENOBUFS' || err.code === 'EPERM' || err.code === 'EHOSTUNREACH' ||
            err.code === 'ENETUNREACH' || err.code === 'EINVAL') {
          counters.udpSendErrors++
          return
        }
        onFatal(err)
      })
      try {
        socket.setRecvBufferSize(SOCKET_BUFFER_BYTES)
        socket.setSendBufferSize(SOCKET_BUFFER_BYTES)
      } catch { /* best effort: the kernel may refuse */ }
      resolve(socket)
    })
  })
}

export function udpAddress (socket: dgram.Socket): BoundAddress {
  const a = socket.address()
  return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' }
}
