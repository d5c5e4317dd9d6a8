/**
 * HTTP for otctl, on undici. undici is loaded on the first request, not at start-up, so
 * `otctl --help`, `--version` and input errors never pay for it.
 *
 * One timeout covers every wait: connecting, the response head, and each gap between body
 * bytes (so a large state download is not cut off while data keeps flowing). No answer within
 * it, a refused connection or a name that does not resolve is OT_ERR_UNREACHABLE (exit 3).
 */
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { OT_ERR_HTTP, OT_ERR_UNREACHABLE, OtctlError } from '../errors.js'

export interface HttpResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Readable & { arrayBuffer (): Promise<ArrayBuffer>, text (): Promise<string> }
}

export interface RequestOptions {
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: Buffer | string | Readable
}

/** Network-level error codes (node and undici) that mean "nobody answered". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'EADDRNOTAVAIL', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'
])

function errorCode (err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

const WHY: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed before a complete answer',
  UND_ERR_CLOSED: 'connection closed'
}

/** Turns a failed request into an {@link OtctlError} naming what was asked and why it failed. */
export function networkError (err: unknown, what: string, timeoutMs: number): OtctlError {
  if (err instanceof OtctlError) return err
  const code = errorCode(err)
  const message = err instanceof Error ? err.message : String(err)
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    const why = code.endsWith('TIMEOUT') || code === 'ETIMEDOUT' ? `no answer within ${timeoutMs} ms` : WHY[code] ?? code
    return new OtctlError(OT_ERR_UNREACHABLE, `cannot reach ${what}: ${why}`, { cause_code: code }, { cause: err })
  }
  return new OtctlError(OT_ERR_HTTP, `request to ${what} failed: ${message}`, code === undefined ? undefined : { cause_code: code }, { cause: err })
}

export class HttpClient {
  private dispatcher: Dispatcher | undefined
  private undici: typeof import('undici') | undefined

  constructor (readonly timeoutMs: number) {}

  private async load (): Promise<[typeof import('undici'), Dispatcher]> {
    if (this.undici === undefined || this.dispatcher === undefined) {
      this.undici = await import('undici')
      this.dispatcher = new this.undici.Agent({
        connect: { timeout: this.timeoutMs },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs
      })
    }
    return [this.undici, this.dispatcher]
  }

  /** Sends one request; the caller reads (or dumps) the body. Throws only for network failures. */
  async request (url: URL, opts: RequestOptions = {}): Promise<HttpResponse> {
    const [undici, dispatcher] = await this.load()
    try {
      const r = await undici.request(url, {
        dispatcher,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        body: opts.body
      })
      return { status: r.statusCode, headers: r.headers, body: r.body }
    } catch (err) {
      throw networkError(err, url.origin, this.timeoutMs)
    }
  }

  /** Reads a whole body, mapping a connection that breaks mid-body like one that never answered. */
  async readAll (res: HttpResponse, url: URL): Promise<Buffer> {
    try {
      return Buffer.from(await res.body.arrayBuffer())
    } catch (err) {
      throw networkError(err, url.origin, this.timeoutMs)
    }
  }

  async close (): Promise<void> {
    const d = this.dispatcher
    this.dispatcher = undefined
    if (d !== undefined) await d.destroy()
  }
}
