/**
 * HTTP to one tracker node's `/sync`, with undici: a timeout on every request, a few retries with
 * exponential backoff and jitter, and one clear log line per failed attempt.
 */
import type { Logger } from 'pino'
import { Agent, request } from 'undici'

export interface RetryPolicy {
  /** Per attempt, connect to last body byte. */
  timeoutMs: number
  /** Attempts after the first. */
  retries: number
  /** First backoff; doubled per retry, with ±50 % jitter. */
  backoffMs: number
}

export class SyncHttpError extends Error {
  constructor (message: string, readonly status?: number) { super(message) }
}

/** `http://host:port` or `http://host:port/prefix` → the `/sync` URL. */
export function syncUrl (base: string): URL {
  const u = new URL(base)
  if (!u.pathname.endsWith('/sync')) u.pathname = u.pathname.replace(/\/+$/, '') + '/sync'
  u.search = ''
  u.hash = ''
  return u
}

function describe (err: unknown): string {
  const e = err as { code?: string, message?: string, name?: string }
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'timed out'
  if (err instanceof SyncHttpError) return err.message
  return e.code ?? e.message ?? String(err)
}

export class NodeClient {
  readonly url: URL
  private readonly agent: Agent

  constructor (readonly base: string, private readonly policy: RetryPolicy, private readonly logger: Logger) {
    this.url = syncUrl(base)
    this.agent = new Agent({ keepAliveTimeout: 1000, connections: 2, connectTimeout: policy.timeoutMs })
  }

  /** `GET /sync[?since=]`: the node's export and its tracker id. */
  async fetchExport (sinceSeconds: number | null): Promise<{ body: Buffer, trackerId: string | null }> {
    const u = new URL(this.url)
    if (sinceSeconds !== null) u.searchParams.set('since', String(sinceSeconds))
    return await this.attempt('GET', u, null)
  }

  /** `POST /sync` with one body of changesets; returns the node's outcome header. */
  async push (body: Buffer): Promise<{ result: string | null, trackerId: string | null }> {
    const r = await this.attempt('POST', this.url, body)
    return { result: r.result, trackerId: r.trackerId }
  }

  private async attempt (method: 'GET' | 'POST', u: URL, body: Buffer | null): Promise<{ body: Buffer, trackerId: string | null, result: string | null }> {
    const p = this.policy
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, u, body)
      } catch (err) {
        const last = attempt >= p.retries
        // A 4xx is the node saying no (not blessed, malformed): retrying will not change it.
        const final = last || (err instanceof SyncHttpError && err.status !== undefined && err.status >= 400 && err.status < 500)
        this.logger.warn({ node: this.base, method, attempt: attempt + 1, of: p.retries + 1, err: describe(err) },
          `${method} ${u.href} failed: ${describe(err)} (attempt ${attempt + 1} of ${p.retries + 1}${final ? '' : ', retrying'})`)
        if (final) throw new SyncHttpError(`${method} ${u.href}: ${describe(err)}`, err instanceof SyncHttpError ? err.status : undefined)
        const backoff = p.backoffMs * 2 ** attempt * (0.5 + Math.random())
        await new Promise((resolve) => setTimeout(resolve, backoff))
      }
    }
  }

  private async once (method: 'GET' | 'POST', u: URL, body: Buffer | null): Promise<{ body: Buffer, trackerId: string | null, result: string | null }> {
    const p = this.policy
    const res = await request(u, {
      method,
      dispatcher: this.agent,
      headersTimeout: p.timeoutMs,
      bodyTimeout: p.timeoutMs,
      signal: AbortSignal.timeout(p.timeoutMs),
      ...(body === null ? {} : { body, headers: { 'content-type': 'application/x-bittorrent' } })
    })
    const data = Buffer.from(await res.body.arrayBuffer())
    const header = (name: string): string | null => {
      const v = res.headers[name]
      return typeof v === 'string' ? v : null
    }
    if (res.statusCode !== 200) {
      const text = data.toString('utf8', 0, Math.min(data.length, 300)).trim()
      throw new SyncHttpError(`HTTP ${res.statusCode}${text === '' ? '' : `: ${text}`}`, res.statusCode)
    }
    return { body: data, trackerId: header('x-otd-tracker-id'), result: header('x-otd-sync-result') }
  }

  async close (): Promise<void> {
    await this.agent.close()
  }
}
