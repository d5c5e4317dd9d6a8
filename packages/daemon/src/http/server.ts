/**
 * A small HTTP/1.x server over node:net, about twice as fast as node:http for a tracker's
 * GET-with-query workload (../shared/design/performance.md). It frames requests (head terminator,
 * size limit, pipelining), keeps connections alive for HTTP/1.1 (unlike opentracker, which closes
 * after every reply) and applies back-pressure when a client does not read. Connection caps and
 * deadlines (first byte, request head, idle keep-alive) are {@link ConnectionGuard}'s; this file
 * only tells it what state each connection is in. Everything a request means is decided by
 * {@link HttpHandler}.
 */
import net from 'node:net'
import { FAMILY_INVALID, REPLY_500, findHeadEnd, parseAddress } from '@otd/proto'
import type { TrackerOptions } from '../config.js'
import type { Counters } from '../counters.js'
import { ReplySlab } from '../reply-slab.js'
import { CONN_CLOSING, CONN_HEAD, CONN_IDLE, CONN_TAKEN, ConnectionGuard } from './connection-guard.js'
import type { HttpHandler } from './handler.js'

/** Pause reading from a client whose unread replies exceed this. */
const MAX_BUFFERED_REPLY_BYTES = 256 * 1024

/**
 * One HTTP listener. Listeners of one tracker share `guard`, so its caps count all of them
 * (without one, this listener gets its own).
 */
export function createHttpServer (handler: HttpHandler, options: TrackerOptions, counters: Counters,
  onTakeover: (socket: net.Socket) => void = () => {}, guard = new ConnectionGuard(options, counters),
  /** With `--workers`: called for each chunk of requests (workers/mesh.ts: this worker is busy). */
  onDataHook: (() => void) | null = null): net.Server {
  const slab = new ReplySlab()
  const ip = new Uint32Array(4)
  const maxHead = options.httpMaxRequestBytes
  const idleMs = options.httpIdleTimeoutSeconds * 1000

  // allowHalfOpen: a client that half-closes after its request (shutdown(SHUT_WR)) still gets
  // every reply. Node would otherwise end the socket on the client's FIN, cutting off a reply a
  // slow route is still streaming; here the FIN ends the socket only when no route took it over.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    const conn = guard.admit(socket)
    socket.on('error', () => { /* resets and aborts are normal for a public tracker */ })
    if (conn === null) return
    counters.tcpAccepts++
    let pending: Buffer | null = null
    /** A reply is being produced by another worker (handler.later): nothing else is read until it is written. */
    let waiting = false
    /** Reading is paused until the client drains our replies. */
    let draining = false
    /** Reading is paused until the reply another worker produces is written. */
    let heldBack = false
    /** The client half-closed while a reply was still to come from another worker: end after it. */
    let endAfterReply = false
    socket.on('end', () => {
      if (waiting) { endAfterReply = true; return }
      if (conn.state !== CONN_TAKEN && !socket.writableEnded) socket.end()
    })

    const onData = (chunk: Buffer): void => {
      if (conn.state >= CONN_CLOSING) return
      conn.lastTick = guard.tick
      if (waiting) {
        // Requests pipelined behind one answered by another worker wait here; a client that
        // keeps sending meanwhile is paused (not every time: pause and resume are system calls).
        pending = pending === null ? chunk : Buffer.concat([pending, chunk])
        if (pending.length > maxHead && !heldBack) { heldBack = true; socket.pause() }
        return
      }
      let buf = chunk
      // Where the first head's terminator may start: a pending head was already scanned up to
      // its end, so only its last two bytes (\n of \n\r\n) can begin one; no rescans per trickled byte.
      let scanFrom = 0
      if (pending !== null) {
        if (guard.headExpired(conn)) { counters.httpClosedRequestTimeout++; socket.destroy(); return }
        scanFrom = pending.length - 2
        buf = Buffer.concat([pending, chunk])
        pending = null
      }
      let start = 0
      const end = buf.length
      while (start < end) {
        const headEnd = findHeadEnd(buf, start > scanFrom ? start : scanFrom, end)
        if (headEnd < 0) {
          if (end - start > maxHead) {
            counters.httpHeadTooLarge++
            handler.tooLarge()
          } else {
            // A new head starts here (not the continuation of the pending one): its deadline starts now.
            if (start !== 0 || buf === chunk) conn.headTick = guard.tick
            conn.state = CONN_HEAD
            pending = buf.subarray(start, end)
            break
          }
        } else if (headEnd - start > maxHead) {
          counters.httpHeadTooLarge++
          handler.tooLarge()
        } else {
          const family = parseAddress(socket.remoteAddress ?? '', ip)
          if (family === FAMILY_INVALID) { socket.destroy(); return }
          handler.handle(buf, start, headEnd, family, ip, slab)
          if (handler.deferred !== null) {
            // A slow route (full scrape, admin) takes the connection over for good, with a plain
            // socket idle timeout instead of the sweep's deadlines.
            const take = handler.deferred
            handler.deferred = null
            guard.takeOver(conn)
            socket.off('data', listener)
            socket.setTimeout(idleMs, () => socket.destroy())
            onTakeover(socket)
            take(socket, buf.subarray(headEnd, end))
            return
          }
          if (handler.later !== null) {
            // Another worker owns the torrent (--workers): its reply comes back in a moment. Until
            // then the connection counts as idle, so a reply that never comes ends in the idle deadline.
            const job = handler.later
            handler.later = null
            let rest: Buffer | null = headEnd < end ? buf.subarray(headEnd, end) : null
            waiting = true
            conn.state = CONN_IDLE
            job((reply, close) => {
              waiting = false
              if (socket.destroyed) return
              if (reply.length === 0) { reply = REPLY_500; close = true; counters.httpError(500) }
              counters.httpBytesOut += reply.length
              if (close) { conn.state = CONN_CLOSING; socket.end(reply); return }
              socket.write(reply)
              if (pending !== null) { rest = rest === null ? pending : Buffer.concat([rest, pending]); pending = null }
              if (heldBack) { heldBack = false; if (!draining) socket.resume() }
              if (rest !== null) onData(rest)
              if (endAfterReply && !waiting && conn.state !== CONN_TAKEN && !socket.writableEnded) socket.end()
            })
            return
          }
        }
        const reply = handler.reply.subarray(handler.replyStart, handler.replyEnd)
        counters.httpBytesOut += reply.length
        if (handler.close) {
          conn.state = CONN_CLOSING
          socket.end(reply)
          return
        }
        socket.write(reply)
        start = headEnd
        scanFrom = 0
      }
      if (pending === null) conn.state = CONN_IDLE
      if (socket.writableLength > MAX_BUFFERED_REPLY_BYTES && !draining) {
        draining = true
        socket.pause()
        socket.once('drain', () => { draining = false; if (!heldBack) socket.resume() })
      }
    }
    const listener = onDataHook === null ? onData : (chunk: Buffer): void => { onDataHook(); onData(chunk) }
    socket.on('data', listener)
  })
  // The overall cap, enforced by Node before a Socket exists; the guard checks it again over all listeners.
  server.maxConnections = options.httpMaxConnections
  server.on('drop', () => { counters.tcpRefusedMaxConnections++ })
  return server
}

/** `reusePort`: with `--workers`, every worker listens on the same port (the kernel spreads connections). */
export function listenHttp (server: net.Server, host: string, port: number, ipv6Only: boolean, reusePort = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { reject(err) }
    server.once('error', onError)
    server.listen({ host, port, ipv6Only: host.includes(':') && ipv6Only, exclusive: true, ...(reusePort ? { reusePort: true } : {}) }, () => {
      server.off('error', onError)
      resolve()
    })
  })
}
