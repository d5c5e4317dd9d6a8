/**
 * A small HTTP/1.x server over node:net, about twice as fast as node:http for a tracker's
 * GET-with-query workload (../shared/design/performance.md). It frames requests (head terminator,
 * size limit, pipelining), keeps connections alive for HTTP/1.1 (unlike opentracker, which closes
 * after every reply), applies back-pressure when a client does not read, and closes idle
 * connections. Everything a request means is decided by {@link HttpHandler}.
 */
import net from 'node:net'
import { FAMILY_INVALID, REPLY_500, findHeadEnd, parseAddress } from '@otd/proto'
import type { Clock } from '../clock.js'
import type { TrackerOptions } from '../config.js'
import type { Counters } from '../counters.js'
import { ReplySlab } from '../reply-slab.js'
import type { HttpHandler } from './handler.js'

/** Pause reading from a client whose unread replies exceed this. */
const MAX_BUFFERED_REPLY_BYTES = 256 * 1024

export function createHttpServer (handler: HttpHandler, options: TrackerOptions, counters: Counters, clock: Clock,
  onTakeover: (socket: net.Socket) => void = () => {},
  /** With `--workers`: called for each chunk of requests (workers/mesh.ts: this worker is busy). */
  onDataHook: (() => void) | null = null): net.Server {
  const slab = new ReplySlab()
  const ip = new Uint32Array(4)
  const maxHead = options.httpMaxRequestBytes
  const idleSeconds = options.httpIdleTimeoutSeconds
  const idleMs = idleSeconds * 1000

  return net.createServer({ noDelay: true }, (socket) => {
    counters.tcpAccepts++
    let pending: Buffer | null = null
    // When the first byte of the pending request head arrived: the idle timer restarts on every
    // byte, so a client trickling a head byte by byte (slowloris) is cut off by this deadline.
    let pendingSince = 0
    let closing = false
    /** A reply is being produced by other workers (handler.later): nothing else is read until it is written. */
    let waiting = false
    /** Reading is paused until the client drains our replies. */
    let draining = false
    /** Reading is paused until the reply another worker produces is written. */
    let heldBack = false
    socket.setTimeout(idleMs, () => socket.destroy())
    socket.on('error', () => { /* resets and aborts are normal for a public tracker */ })

    const onData = (chunk: Buffer): void => {
      if (closing) return
      if (waiting) {
        // Requests pipelined behind one answered by another worker wait here; a client that
        // keeps sending meanwhile is paused (not every time: pause and resume are system calls).
        pending = pending === null ? chunk : Buffer.concat([pending, chunk])
        if (pending.length > maxHead && !heldBack) { heldBack = true; socket.pause() }
        return
      }
      let buf = chunk
      if (pending !== null) {
        if (clock.seconds - pendingSince > idleSeconds) { socket.destroy(); return }
        buf = Buffer.concat([pending, chunk])
        pending = null
      }
      let start = 0
      const end = buf.length
      while (start < end) {
        const headEnd = findHeadEnd(buf, start, end)
        if (headEnd < 0) {
          if (end - start > maxHead) {
            handler.tooLarge()
          } else {
            if (start !== 0 || buf === chunk) pendingSince = clock.seconds
            pending = buf.subarray(start, end)
            break
          }
        } else if (headEnd - start > maxHead) {
          handler.tooLarge()
        } else {
          const family = parseAddress(socket.remoteAddress ?? '', ip)
          if (family === FAMILY_INVALID) { socket.destroy(); return }
          handler.handle(buf, start, headEnd, family, ip, slab)
          if (handler.deferred !== null) {
            // A slow route (full scrape, admin) takes the connection over for good.
            const take = handler.deferred
            handler.deferred = null
            closing = true
            socket.off('data', onData)
            onTakeover(socket)
            take(socket, buf.subarray(headEnd, end))
            return
          }
          if (handler.later !== null) {
            const job = handler.later
            handler.later = null
            let rest: Buffer | null = headEnd < end ? buf.subarray(headEnd, end) : null
            waiting = true
            job((reply, close) => {
              waiting = false
              if (socket.destroyed) return
              if (reply.length === 0) { reply = REPLY_500; close = true; counters.httpError(500) }
              counters.httpBytesOut += reply.length
              if (close) { closing = true; socket.end(reply); return }
              socket.write(reply)
              if (pending !== null) { rest = rest === null ? pending : Buffer.concat([rest, pending]); pending = null }
              if (heldBack) { heldBack = false; if (!draining) socket.resume() }
              if (rest !== null) onData(rest)
            })
            return
          }
        }
        const reply = handler.reply.subarray(handler.replyStart, handler.replyEnd)
        counters.httpBytesOut += reply.length
        if (handler.close) {
          closing = true
          socket.end(reply)
          return
        }
        socket.write(reply)
        start = headEnd
      }
      if (socket.writableLength > MAX_BUFFERED_REPLY_BYTES && !draining) {
        draining = true
        socket.pause()
        socket.once('drain', () => { draining = false; if (!heldBack) socket.resume() })
      }
    }
    socket.on('data', onDataHook === null ? onData : (chunk: Buffer) => { onDataHook(); onData(chunk) })
  })
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
