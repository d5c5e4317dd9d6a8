// Raw HTTP exchanges from a chosen local source address (127.0.0.2, 127.0.0.3, ... all reach the
// loopback), for tests of per-address permissions: blessed admin/stats/proxy addresses.

import net from 'node:net'
import { DEFAULT_TIMEOUT_MS, RawConnection } from './http-raw.js'
import type { Endpoint, RawResponse } from './http-raw.js'

export function connectFrom(ep: Endpoint, localAddress: string | undefined, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ep.address, port: ep.port, noDelay: true, ...(localAddress === undefined ? {} : { localAddress }) })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`connect to ${ep.address}:${ep.port} from ${localAddress ?? 'any'} timed out`))
    }, timeoutMs)
    const onError = (err: Error): void => {
      clearTimeout(timer)
      reject(err)
    }
    socket.once('error', onError)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeListener('error', onError)
      resolve(new RawConnection(socket))
    })
  })
}

/** Sends `request` from `localAddress`, reads one response and waits for the server to close. */
export async function exchangeFrom(ep: Endpoint, localAddress: string | undefined, request: string | Buffer, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RawResponse> {
  const conn = await connectFrom(ep, localAddress, timeoutMs)
  try {
    await conn.write(request)
    const res = await conn.readResponse(timeoutMs)
    await conn.waitClosed(timeoutMs)
    return res
  } finally {
    conn.destroy()
  }
}

/** A request with optional body (Content-Length set) and extra header lines. */
export function httpRequest(method: string, target: string, body?: string, headers: string[] = []): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: otd.test', 'Connection: close', ...headers]
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`)
  return lines.join('\r\n') + '\r\n\r\n' + (body ?? '')
}

/** Parses a JSON reply body (asserting the content type). */
export function jsonBody(res: RawResponse): Record<string, unknown> {
  const ct = res.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? ''
  if (!ct.startsWith('application/json')) throw new Error(`expected a JSON reply, got ${res.status} ${ct}: ${res.body.toString('latin1').slice(0, 300)}`)
  return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>
}
