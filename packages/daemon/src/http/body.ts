/**
 * Request bodies for the routes that take one (admin, /sync), read from a connection the HTTP
 * server handed over. The limit on `length` is the caller's.
 */
import type net from 'node:net'

/** An HTTP error with its status, for the slow routes' replies. */
export class HttpStatusError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

/** Reads `length` bytes: `rest` (already received after the head) and then from `socket`. */
export function readBody (socket: net.Socket, rest: Buffer, length: number): Promise<Buffer> {
  if (length <= rest.length) return Promise.resolve(rest.subarray(0, length))
  return new Promise((resolve, reject) => {
    const parts = [rest]
    let have = rest.length
    const onData = (chunk: Buffer): void => {
      parts.push(chunk)
      have += chunk.length
      if (have >= length) { cleanup(); resolve(Buffer.concat(parts).subarray(0, length)) }
    }
    const onEnd = (): void => { cleanup(); reject(new HttpStatusError(400, `request body ended after ${have} of ${length} bytes`)) }
    const cleanup = (): void => { socket.off('data', onData); socket.off('end', onEnd); socket.off('close', onEnd) }
    socket.on('data', onData)
    socket.on('end', onEnd)
    socket.on('close', onEnd)
    socket.resume()
  })
}
