/**
 * Sends UDP replies straight through the socket's libuv handle, the call `dgram`'s `send` ends
 * with, skipping the JavaScript in front of it.
 *
 * Why: `socket.send(buf, off, n, port, address)` does about 0.5 µs of JavaScript per datagram
 * before the syscall. It normalises its arguments, slices the buffer, builds a one-element list
 * and a closure, and defers an address "lookup" of the literal to the next tick. Then it creates
 * a `SendWrap` that is needed only if the kernel cannot take the datagram at once. At ~8.7 µs of
 * CPU per UDP announce that is ~5%: `otbench udp --pin`, 5 interleaved rounds, went 8.87 → 8.40 ms
 * per 1k announces and 111.8k → 118.6k announces/s (docs/decisions.md, "UDP replies").
 *
 * How: `handle.send(req, [view], 1, port, address, false)` (udp4; on a udp6 socket dgram has put
 * `send6` in its place) tries `sendmsg` at once. It returns the byte count + 1 when the datagram
 * is sent, a negative libuv error when it fails, and 0 when it is queued; only then is `req` used,
 * for the queued send. So one `req` is kept until a send is queued, and that `req` then holds the
 * reply's bytes (a view of the reply slab) until libuv has sent them.
 *
 * The handle and the `SendWrap` class are runtime internals. Node is pinned (package.json), so
 * they are what the tests check. Each one is looked up once per socket, and if any is missing
 * (another runtime) the caller keeps `socket.send`. The argument types are guaranteed here (a
 * uint16 port, an address string that came from the kernel); the binding aborts on others.
 */
import type dgram from 'node:dgram'
import process from 'node:process'

interface UdpHandle {
  send: (req: object, list: Uint8Array[], count: number, port: number, address: string, hasCallback: boolean) => number
}
type SendWrapClass = new () => { bytes?: Uint8Array }

/** Sends `buf[off, off + n)` to `address`:`port`; false when the send failed at once or the socket is closed. */
export type DirectSend = (buf: Buffer, off: number, n: number, port: number, address: string) => boolean

let sendWrap: SendWrapClass | null | undefined

function sendWrapClass (): SendWrapClass | null {
  if (sendWrap === undefined) {
    sendWrap = null
    try {
      const binding = (process as unknown as { binding: (name: string) => { SendWrap?: unknown } }).binding('udp_wrap')
      if (typeof binding.SendWrap === 'function') sendWrap = binding.SendWrap as SendWrapClass
    } catch { /* not exposed (or deprecations thrown): keep socket.send */ }
  }
  return sendWrap
}

/** The direct sender for `socket`, or null where this runtime does not expose what it needs. */
export function directSend (socket: dgram.Socket): DirectSend | null {
  const Wrap = sendWrapClass()
  if (Wrap === null) return null
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol')
  if (state === undefined) return null
  const st = (socket as unknown as Record<symbol, { handle?: UdpHandle | null } | undefined>)[state]
  const handle = st?.handle
  if (st == null || handle == null || typeof handle.send !== 'function') return null
  let req = new Wrap()
  const list: Uint8Array[] = [new Uint8Array(0)]
  return (buf, off, n, port, address) => {
    if (st.handle !== handle) return false // closed: dgram drops its handle in close()
    const bytes = buf.subarray(off, off + n)
    list[0] = bytes
    const r = handle.send(req, list, 1, port, address, false)
    if (r > 0) return true
    if (r < 0) return false
    // Queued: the kernel's send buffer was full. `req` now belongs to that send and keeps the
    // bytes alive until it completes; the next send gets a fresh one.
    req.bytes = bytes
    req = new Wrap()
    return true
  }
}
