/**
 * A typed client for one running otd: the admin endpoint (`/otd/...`, docs/admin.md), `/stats`
 * (docs/stats.md) and `/metrics`. HTTP statuses become {@link OtctlError}s with the daemon's own
 * message: 400 is bad input (exit 2), 403 not authorised (exit 4), anything else non-2xx exit 1.
 */
import type { Readable } from 'node:stream'
import { OT_ERR_BAD_INPUT, OT_ERR_FORBIDDEN, OT_ERR_HTTP, OtctlError, badInput } from '../errors.js'
import { HttpClient, type HttpResponse, type RequestOptions } from './http.js'

export type ListName = 'white' | 'black'

export interface Listener { protocol: 'http' | 'udp', address: string, port: number }

export interface ListSummary { list: ListName, file: string | null, entries: number }

/** `GET /otd/status`. */
export interface Status {
  name: string
  version: string
  pid: number
  uptime: number
  listeners: Listener[]
  torrents: number
  peers: number
  peers_ipv4: number
  peers_ipv6: number
  seeders: number
  leechers: number
  completed: number
  requests: Record<string, number>
  http_errors: Record<string, number>
  access: ListSummary[]
  memory: Record<string, number>
  event_loop: { utilization: number, delay_p99_ms: number }
}

export interface AccessSummary { lists: ListSummary[], dynamic: ListName | null }

/** `POST /otd/access/{list}/{add|remove}`; `persisted: false` means the list file was not written. */
export interface ChangeReport { list: ListName, changed: number, unchanged: number, entries: number, persisted: boolean, error?: string }

export interface CheckResult {
  info_hash: string
  allowed: boolean
  whitelisted: boolean | null
  blacklisted: boolean | null
  in_memory: boolean
}

export interface ReloadReport { list: ListName, file: string, ok: boolean, entries: number, error?: string }

/** Normalises `--url`: a bare `host:port` gets `http://`; the path is kept as a prefix (a reverse proxy). */
export function parseBaseUrl (text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw badInput(`--url ${JSON.stringify(text)} is not a URL (expected e.g. http://127.0.0.1:6969)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput(`--url must be http:// or https://, not ${url.protocol}//`)
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  url.search = ''
  url.hash = ''
  return url
}

/** The daemon's `{"error": ...}` text, or `null` when the body is not otd's JSON error. */
async function errorMessage (client: HttpClient, res: HttpResponse, url: URL): Promise<{ text: string, json: boolean }> {
  const body = (await client.readAll(res, url)).toString('utf8').trim()
  try {
    const parsed = JSON.parse(body) as { error?: unknown }
    if (typeof parsed.error === 'string') return { text: parsed.error, json: true }
  } catch {}
  return { text: body.length > 300 ? body.slice(0, 300) + '...' : body, json: false }
}

export class OtdClient {
  readonly http: HttpClient

  constructor (readonly base: URL, timeoutMs: number, readonly statsPath = 'stats') {
    this.http = new HttpClient(timeoutMs)
  }

  url (path: string, query?: Record<string, string | string[]>): URL {
    const u = new URL(path.replace(/^\/+/, ''), this.base)
    if (query !== undefined) {
      for (const [k, v] of Object.entries(query)) {
        for (const one of Array.isArray(v) ? v : [v]) u.searchParams.append(k, one)
      }
    }
    return u
  }

  /**
   * Sends a request and returns the response when its status is in `accept` (2xx by default);
   * otherwise throws with the daemon's message.
   */
  async send (url: URL, opts: RequestOptions = {}, accept: (status: number) => boolean = (s) => s >= 200 && s < 300): Promise<HttpResponse> {
    const res = await this.http.request(url, opts)
    if (accept(res.status)) return res
    const { text: message, json } = await errorMessage(this.http, res, url)
    const where = `${opts.method ?? 'GET'} ${url.pathname}`
    if (res.status === 403) {
      const why = json
        ? message
        : url.pathname.includes('/otd/')
          ? 'this address is not blessed for the admin endpoint (start otd with -A ADDRESS or set access.admin)'
          : 'stats are restricted to blessed addresses (access.stats)'
      throw new OtctlError(OT_ERR_FORBIDDEN, `not authorised: ${where} answered 403: ${why}`, { status: 403 })
    }
    if (res.status === 400) throw new OtctlError(OT_ERR_BAD_INPUT, `${where} refused the request: ${message}`, { status: 400 })
    throw new OtctlError(OT_ERR_HTTP, `${where} answered ${res.status}: ${message}`, { status: res.status })
  }

  async json<T> (url: URL, opts: RequestOptions = {}, accept?: (status: number) => boolean): Promise<T> {
    const res = await this.send(url, opts, accept)
    const text = (await this.http.readAll(res, url)).toString('utf8')
    try {
      return JSON.parse(text) as T
    } catch {
      throw new OtctlError(OT_ERR_HTTP, `${url.pathname} did not answer JSON (is ${this.base.origin} an otd?): ${text.slice(0, 120)}`)
    }
  }

  status (): Promise<Status> {
    return this.json<Status>(this.url('otd/status'))
  }

  access (): Promise<AccessSummary> {
    return this.json<AccessSummary>(this.url('otd/access'))
  }

  entries (list: ListName): Promise<{ list: ListName, file: string, entries: string[] }> {
    return this.json(this.url(`otd/access/${list}`))
  }

  /** Adds or removes hashes (lowercase hex); a 500 carrying a report means "changed in memory only". */
  change (list: ListName, add: boolean, hashes: string[]): Promise<ChangeReport> {
    return this.json<ChangeReport>(this.url(`otd/access/${list}/${add ? 'add' : 'remove'}`),
      { method: 'POST', body: hashes.join('\n') + '\n', headers: { 'content-type': 'text/plain' } },
      (s) => s === 200 || s === 500)
      .then((r) => {
        if (typeof r.persisted !== 'boolean') throw new OtctlError(OT_ERR_HTTP, `access ${add ? 'add' : 'remove'} failed: ${(r as { error?: string }).error ?? 'unexpected reply'}`)
        return r
      })
  }

  async check (hashes: string[]): Promise<CheckResult[]> {
    const r = await this.json<{ results: CheckResult[] }>(this.url('otd/access/check'),
      { method: 'POST', body: hashes.join('\n') + '\n', headers: { 'content-type': 'text/plain' } })
    return r.results
  }

  async reload (): Promise<ReloadReport[]> {
    const r = await this.json<{ reloaded: ReloadReport[] }>(this.url('otd/reload'), { method: 'POST', body: '' })
    return r.reloaded
  }

  /** `/stats?mode=MODE[&format=F]` as a response to stream or read. */
  stats (mode: string, format?: string, headers?: Record<string, string>): Promise<HttpResponse> {
    const query: Record<string, string> = { mode }
    if (format !== undefined) query['format'] = format
    return this.send(this.url(this.statsPath, query), { headers })
  }

  async statsText (mode: string, format?: string): Promise<string> {
    const res = await this.stats(mode, format)
    return (await this.http.readAll(res, this.url(this.statsPath))).toString('utf8')
  }

  async statsJson<T = Record<string, unknown>> (mode: string): Promise<T> {
    return this.json<T>(this.url(this.statsPath, { mode, format: 'json' }))
  }

  async metrics (): Promise<string> {
    const url = this.url('metrics')
    return (await this.http.readAll(await this.send(url), url)).toString('utf8')
  }

  stateDownload (): Promise<HttpResponse> {
    return this.send(this.url('otd/state'))
  }

  stateUpload (body: Buffer | Readable, length: number): Promise<Record<string, unknown>> {
    return this.json<{ restored: Record<string, unknown> }>(this.url('otd/state'),
      { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) } })
      .then((r) => r.restored)
  }

  close (): Promise<void> {
    return this.http.close()
  }
}
