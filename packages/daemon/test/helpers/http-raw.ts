// Raw HTTP over node:net for black-box tests: we write exact request bytes and
// parse exact reply bytes ourselves (status line, headers, Content-Length body),
// so framing quirks of the server are visible instead of being smoothed over by
// an HTTP client library.

import net from 'node:net'

export interface Endpoint {
  address: string
  port: number
  family: string
}

export interface RawResponse {
  /** All bytes of this response (head + body). */
  raw: Buffer
  /** Head as latin1 text, without the final CRLFCRLF. */
  head: string
  statusLine: string
  httpVersion: string
  status: number
  reason: string
  /** Header lines in wire order, names as sent. */
  headers: Array<[string, string]>
  body: Buffer
}

export const DEFAULT_TIMEOUT_MS = 5000

function describeBytes(b: Buffer, max = 300): string {
  const s = JSON.stringify(b.subarray(0, max).toString('latin1'))
  return b.length > max ? `${s}… (${b.length} bytes)` : s
}

/**
 * One client TCP connection. Incoming bytes are accumulated in `buffer`;
 * responses are parsed off its front with `readResponse()`.
 */
export class RawConnection {
  buffer: Buffer = Buffer.alloc(0)
  /** Every byte ever received (never consumed). */
  received: Buffer = Buffer.alloc(0)
  /** The server ended or reset the connection (or we destroyed it). */
  closed = false
  ended = false
  error: Error | undefined
  private waiters = new Set<() => void>()

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.received = Buffer.concat([this.received, chunk])
      this.wake()
    })
    socket.on('end', () => {
      this.ended = true
      this.wake()
    })
    socket.on('error', (err) => {
      this.error = err
      this.wake()
    })
    socket.on('close', () => {
      this.closed = true
      this.wake()
    })
  }

  static connect(ep: Endpoint, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: ep.address, port: ep.port, noDelay: true })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Error(`connect to ${ep.address}:${ep.port} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeListener('error', onError)
        resolve(new RawConnection(socket))
      })
      const onError = (err: Error): void => {
        clearTimeout(timer)
        reject(err)
      }
      socket.once('error', onError)
    })
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** Resolves once `pred()` is true; rejects with `what` after timeoutMs. */
  waitFor(pred: () => boolean, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (pred()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred()) {
          clearTimeout(timer)
          this.waiters.delete(check)
          resolve()
        }
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; received so far: ${describeBytes(this.received)}` +
              `; closed=${this.closed}`,
          ),
        )
      }, timeoutMs)
      this.waiters.add(check)
    })
  }

  /** Writes bytes and resolves once they have been handed to the kernel. */
  write(data: Buffer | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data
    return new Promise((resolve) => {
      if (this.socket.destroyed || this.socket.writableEnded) return resolve()
      // A server that closes on us mid-write produces EPIPE/ECONNRESET; that is
      // recorded in `error` and is not a failure of the write helper itself.
      this.socket.write(buf, () => resolve())
    })
  }

  /**
   * Parses one complete response off the front of the buffer, waiting for it if
   * necessary. Without Content-Length the body extends to connection close.
   */
  async readResponse(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RawResponse> {
    let parsed: RawResponse | undefined
    let parseError: Error | undefined
    let consumed = 0
    const tryParse = (): boolean => {
      try {
        const r = tryParseResponse(this.buffer, this.closed || this.ended)
        if (r === undefined) return false
        parsed = r.response
        consumed = r.consumed
      } catch (err) {
        parseError = err as Error
      }
      return true
    }
    await this.waitFor(() => tryParse() || this.closed, 'a complete HTTP response', timeoutMs)
    if (parseError !== undefined) throw parseError
    if (parsed === undefined) {
      throw new Error(
        `connection closed without a complete HTTP response; received: ${describeBytes(this.received)}` +
          (this.error ? ` (error: ${this.error.message})` : ''),
      )
    }
    this.buffer = this.buffer.subarray(consumed)
    return parsed
  }

  /** Waits until the server has closed the connection. */
  async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.waitFor(() => this.closed || this.ended, 'the server to close the connection', timeoutMs)
  }

  /** True if nothing arrived and the connection stayed open for `ms` (a bounded "no reply" check). */
  async quietFor(ms: number): Promise<boolean> {
    const before = this.received.length
    try {
      await this.waitFor(() => this.received.length !== before || this.closed || this.ended, 'activity', ms)
      return false
    } catch {
      return true
    }
  }

  destroy(): void {
    this.socket.destroy()
  }
}

/** Parses a response at the front of `buf`. Returns undefined if incomplete. */
export function tryParseResponse(
  buf: Buffer,
  atEof: boolean,
): { response: RawResponse; consumed: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n')
  if (headEnd < 0) return undefined
  const head = buf.toString('latin1', 0, headEnd)
  const lines = head.split('\r\n')
  const statusLine = lines[0] ?? ''
  const m = /^(HTTP\/\d\.\d) (\d{3}) (.*)$/.exec(statusLine)
  if (!m) throw new Error(`malformed status line ${JSON.stringify(statusLine)} in ${describeBytes(buf)}`)
  const headers: Array<[string, string]> = []
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`)
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()])
  }
  const bodyStart = headEnd + 4
  const cl = headers.filter(([n]) => n.toLowerCase() === 'content-length')
  let bodyEnd: number
  if (cl.length > 0) {
    const value = cl[0]?.[1] ?? ''
    if (!/^\d+$/.test(value)) throw new Error(`bad Content-Length ${JSON.stringify(value)}`)
    bodyEnd = bodyStart + Number(value)
    if (buf.length < bodyEnd) return undefined
  } else {
    if (!atEof) return undefined
    bodyEnd = buf.length
  }
  return {
    consumed: bodyEnd,
    response: {
      raw: Buffer.from(buf.subarray(0, bodyEnd)),
      head,
      statusLine,
      httpVersion: m[1] ?? '',
      status: Number(m[2]),
      reason: m[3] ?? '',
      headers,
      body: Buffer.from(buf.subarray(bodyStart, bodyEnd)),
    },
  }
}

export function header(res: RawResponse, name: string): string | undefined {
  return res.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1]
}

/**
 * Sends `request` on a fresh connection, reads exactly one response and then
 * waits for the server to close (unless `expectClose` is false).
 */
export async function exchange(
  ep: Endpoint,
  request: Buffer | string,
  opts: { expectClose?: boolean; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const conn = await RawConnection.connect(ep, opts.timeoutMs)
  try {
    await conn.write(request)
    const res = await conn.readResponse(opts.timeoutMs)
    if (opts.expectClose !== false) {
      await conn.waitClosed(opts.timeoutMs)
      if (conn.buffer.length !== 0) {
        throw new Error(`unexpected bytes after the response: ${describeBytes(conn.buffer)}`)
      }
    }
    return res
  } finally {
    conn.destroy()
  }
}

/** `GET <target> HTTP/1.0\r\n\r\n` on a fresh connection; returns the single reply. */
export function get(ep: Endpoint, target: string, timeoutMs?: number): Promise<RawResponse> {
  return exchange(ep, `GET ${target} HTTP/1.0\r\n\r\n`, timeoutMs === undefined ? {} : { timeoutMs })
}

// ---- exact error replies (reference §3.7) ----

export function errorReply(code: number, reason: string): string {
  const body = `<title>${reason}</title>\n`
  return `HTTP/1.0 ${code} ${reason}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\n\r\n${body}`
}

export const REPLY_400 = errorReply(400, 'Invalid Request')
export const REPLY_404 = errorReply(404, 'Not Found')
export const REPLY_500 = errorReply(500, 'Internal Server Error')

// ---- URL building ----

/** Percent-encodes every byte (`%xx`, lowercase), like many clients do for info_hash. */
export function pctAll(bytes: Buffer): string {
  let s = ''
  for (const b of bytes) s += '%' + b.toString(16).padStart(2, '0')
  return s
}

export type QueryValue = string | number | bigint | Buffer

/**
 * Builds a query string. Buffers are fully percent-encoded, strings are inserted
 * raw (so tests can send deliberately odd bytes), numbers in decimal.
 */
export function query(params: Array<[string, QueryValue | null]>): string {
  return params
    .map(([k, v]) => {
      if (v === null) return k
      if (Buffer.isBuffer(v)) return `${k}=${pctAll(v)}`
      return `${k}=${String(v)}`
    })
    .join('&')
}
