/**
 * `--spawn 'CMD'`: start a tracker, learn where it listens, wait until it answers, stop it after.
 *
 * Where it listens: an explicit `--target` wins; otherwise otd's start-up log line (JSON with
 * `http` and `udp` arrays of bound addresses) is read from its stdout, which also makes `-p 0 -P 0`
 * work. Readiness is a probe, not a sleep: a BEP 15 connect for UDP, a GET for HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import dgram from 'node:dgram'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { writeConnectRequest } from '@otd/proto'
import { leafPid } from './proc.js'

export interface Listening {
  http: Array<{ address: string, port: number }>
  udp: Array<{ address: string, port: number }>
}

/** Reads otd's "listening" log line: `{"http":[{"address","port"}],"udp":[...]}`; null if it is not one. */
export function parseListeningLine (line: string): Listening | null {
  if (!line.startsWith('{')) return null
  let v: unknown
  try { v = JSON.parse(line) } catch { return null }
  if (typeof v !== 'object' || v === null) return null
  const o = v as Record<string, unknown>
  const list = (x: unknown): Array<{ address: string, port: number }> | null => {
    if (!Array.isArray(x)) return null
    const out: Array<{ address: string, port: number }> = []
    for (const a of x) {
      if (typeof a !== 'object' || a === null) return null
      const { address, port } = a as Record<string, unknown>
      if (typeof address !== 'string' || typeof port !== 'number') return null
      out.push({ address, port })
    }
    return out
  }
  const http = list(o.http)
  const udp = list(o.udp)
  if (http === null || udp === null) return null
  return { http, udp }
}

export interface SpawnedTracker {
  readonly command: string
  readonly child: ChildProcess
  /** The process that is the tracker (the leaf of sh → sudo → taskset → …), known once ready. */
  pid: number
  /** otd's listening line, when it printed one. */
  listening: Listening | null
  /** Output kept for error messages (last ~4 KB of stderr and stdout). */
  tail (): string
  stop (): Promise<void>
}

export interface SpawnOptions {
  /** Pin the tracker to this CPU with taskset. */
  cpu?: number | undefined
  /** How long to wait for the listening line (when none is expected, pass 0). */
  listeningTimeoutMs: number
}

export async function spawnTracker (command: string, o: SpawnOptions): Promise<SpawnedTracker> {
  const full = o.cpu === undefined ? command : `taskset -c ${o.cpu} ${command}`
  const child = spawn('/bin/sh', ['-c', full], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let tailText = ''
  let listening: Listening | null = null
  let resolveListening: ((l: Listening | null) => void) | null = null
  const keep = (s: string): void => { tailText = (tailText + s).slice(-4096) }
  let partial = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (s: string) => {
    keep(s)
    if (listening !== null) return
    partial += s
    let nl: number
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl)
      partial = partial.slice(nl + 1)
      const l = parseListeningLine(line)
      if (l !== null) { listening = l; resolveListening?.(l); partial = ''; break }
    }
    if (partial.length > 65536) partial = ''
  })
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', keep)
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolveListening?.(null); resolve() }))
  if (o.listeningTimeoutMs > 0) {
    await Promise.race([
      new Promise<Listening | null>((resolve) => { resolveListening = resolve }),
      sleep(o.listeningTimeoutMs)
    ])
  }
  if (exited) throw new Error(`spawned tracker exited at start: ${command}\n${tailText}`)
  const t: SpawnedTracker = {
    command,
    child,
    pid: child.pid ?? 0,
    get listening () { return listening },
    tail: () => tailText,
    async stop () {
      if (exited) return
      try { process.kill(-child.pid!, 'SIGTERM') } catch { /* gone */ }
      const done = await Promise.race([exit.then(() => true), sleep(5000).then(() => false)])
      if (!done) {
        try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ }
        await exit
      }
    }
  }
  return t
}

/** Resolves the tracker's own pid under a spawned shell (call once it answers). */
export function trackerPidOf (t: SpawnedTracker): number {
  t.pid = leafPid(t.child.pid ?? 0)
  return t.pid
}

/** Sends BEP 15 connects until one is answered. */
export async function waitForUdp (host: string, port: number, timeoutMs: number): Promise<void> {
  const family = net.isIPv6(host) ? 'udp6' : 'udp4'
  const s = dgram.createSocket(family)
  const req = Buffer.alloc(16)
  writeConnectRequest(req, 0, 0x0b0b0b0b)
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs
      const timer = setInterval(() => {
        if (Date.now() > deadline) { clearInterval(timer); reject(new Error(`no UDP answer from ${host}:${port} within ${timeoutMs} ms`)); return }
        s.send(req, port, host)
      }, 100)
      s.on('message', (m) => { if (m.length >= 16 && m.readUInt32BE(0) === 0) { clearInterval(timer); resolve() } })
      s.on('error', () => {})
      s.send(req, port, host)
    })
  } finally {
    s.close()
  }
}

/** Connects and sends a GET until any HTTP reply comes back. */
export async function waitForHttp (host: string, port: number, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const answered = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port })
      s.setTimeout(1000, () => { s.destroy(); resolve(false) })
      s.on('error', () => resolve(false))
      s.on('connect', () => s.write(`GET ${path} HTTP/1.0\r\n\r\n`))
      s.on('data', (d: Buffer) => { s.destroy(); resolve(d.subarray(0, 5).toString('latin1') === 'HTTP/') })
      s.on('close', () => resolve(false))
    })
    if (answered) return
    if (Date.now() > deadline) throw new Error(`no HTTP answer from ${host}:${port} within ${timeoutMs} ms`)
    await sleep(100)
  }
}
