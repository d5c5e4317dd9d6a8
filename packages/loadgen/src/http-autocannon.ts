/**
 * The keep-alive HTTP flood through autocannon, as a cross-check of the built-in net client
 * (`--engine autocannon`). Loaded only when asked for. autocannon reports status codes, not
 * bodies, so a 200 with a bencoded failure reason counts as a good reply here.
 */
import type { Instance } from 'autocannon'
import type { HttpSource } from './http-source.js'
import { Counters } from './stats.js'
import { hostPort } from './target.js'

export interface AutocannonOptions {
  host: string
  port: number
  connections: number
  pipelining: number
  timeoutMs: number
}

export class AutocannonFlood {
  readonly counters = new Counters()
  private instance: Instance | null = null
  private done: Promise<void> = Promise.resolve()

  constructor (private readonly opts: AutocannonOptions, private readonly source: HttpSource) {}

  async start (): Promise<void> {
    const { default: autocannon } = await import('autocannon')
    const c = this.counters
    const src = this.source
    let finish: () => void = () => {}
    this.done = new Promise((resolve) => { finish = resolve })
    const inst = autocannon({
      url: `http://${hostPort(this.opts.host, this.opts.port)}`,
      connections: this.opts.connections,
      pipelining: this.opts.pipelining,
      duration: 24 * 3600,
      timeout: Math.max(1, Math.round(this.opts.timeoutMs / 1000)),
      requests: [{ method: 'GET', setupRequest: (req) => { req.path = src.nextPath(); return req } }]
    }, (_err, result) => {
      if (result !== undefined) c.timeouts += result.timeouts
      finish()
    })
    inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      c.sent++
      c.latency.recordMs(ms)
      if (status >= 200 && status < 300) { c.ok++; c.okAnnounce++ } else c.errors++
    })
    inst.on('reqError', () => { c.sent++; c.socketErrors++ })
    this.instance = inst
  }

  async stop (): Promise<void> {
    this.instance?.stop()
    this.instance = null
    await this.done
  }
}
