// Real processes for otsync's integration tests: otd nodes (packages/daemon/bin/otd.js) on
// 127.0.0.x with port 0, and the otsync command itself. Each otd logs JSON lines on stdout; the
// "listening" line carries its bound addresses. Started as root, otd drops to nobody after
// binding; these tests give it no files.

import { type ChildProcess, spawn } from 'node:child_process'
import { after } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeBencode } from '@otd/proto'
import { request } from 'undici'

export const OTD_BIN = fileURLToPath(new URL('../../../../daemon/bin/otd.js', import.meta.url))
export const OTSYNC_BIN = fileURLToPath(new URL('../../../bin/otsync.js', import.meta.url))

export interface LogLine { level: number, msg: string, [k: string]: unknown }

/** A child process whose stdout is JSON log lines (or reports). */
export class Proc {
  stdout = ''
  stderr = ''
  readonly lines: LogLine[] = []
  readonly exited: Promise<number | null>
  private waiters = new Set<() => void>()
  private exitCode: number | null | undefined

  constructor (readonly child: ChildProcess) {
    let partial = ''
    child.stdout!.setEncoding('utf8')
    child.stderr!.setEncoding('utf8')
    child.stdout!.on('data', (t: string) => {
      this.stdout += t
      const parts = (partial + t).split('\n')
      partial = parts.pop() ?? ''
      for (const l of parts) { try { this.lines.push(JSON.parse(l) as LogLine) } catch { /* not JSON */ } }
      this.wake()
    })
    child.stderr!.on('data', (t: string) => { this.stderr += t; this.wake() })
    this.exited = new Promise((resolve) => child.on('close', (code) => { this.exitCode = code; this.wake(); resolve(code) }))
  }

  private wake (): void { for (const w of [...this.waiters]) w() }

  /** The first stdout JSON line matching `pred`; fails if the process exits first or after `ms`. */
  waitLine (pred: (l: LogLine) => boolean, what: string, ms = 10_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.lines.find(pred)
        if (hit !== undefined) { done(); resolve(hit); return }
        if (this.exitCode !== undefined) { done(); reject(new Error(`exited (${String(this.exitCode)}) before ${what}\n${this.stdout}\n${this.stderr}`)) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}\n${this.stdout}\n${this.stderr}`)) }, ms)
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check) }
      this.waiters.add(check)
      check()
    })
  }

  async stop (): Promise<void> {
    if (this.exitCode !== undefined) return
    this.child.kill('SIGTERM')
    const t = setTimeout(() => this.child.kill('SIGKILL'), 8000)
    await this.exited
    clearTimeout(t)
  }
}

const running = new Set<Proc>()
after(async () => { await Promise.all([...running].map((p) => p.stop())) })

export interface Node { proc: Proc, ip: string, port: number, url: string }

/** Starts otd on `ip` (HTTP port `port`, 0 for any), blessing 127.0.0.1-3 (the other nodes and otsync's host). */
export async function startNode (ip: string, port = 0, extra: string[] = []): Promise<Node> {
  const child = spawn(process.execPath, [OTD_BIN, '-i', ip, '-p', String(port), '-P', '0', '-A', '127.0.0.1', '-A', '127.0.0.2', '-A', '127.0.0.3', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  const proc = new Proc(child)
  running.add(proc)
  const line = await proc.waitLine((l) => / listening: /.test(l.msg), `otd on ${ip} to listen`)
  const http = (line.http as Array<{ address: string, port: number }>)[0]!
  return { proc, ip, port: http.port, url: `http://${ip}:${http.port}` }
}

/** Runs `otsync args...` to completion. */
export async function runOtsync (args: string[], ms = 20_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const proc = startOtsync(args)
  const t = setTimeout(() => proc.child.kill('SIGKILL'), ms)
  const code = await proc.exited
  clearTimeout(t)
  return { code, stdout: proc.stdout, stderr: proc.stderr }
}

export function startOtsync (args: string[]): Proc {
  const proc = new Proc(spawn(process.execPath, [OTSYNC_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }))
  running.add(proc)
  return proc
}

function pct (b: Buffer): string {
  return [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join('')
}

/** HTTP announce to `node` (from 127.0.0.1); returns the compact IPv4 peers as `ip:port`. */
export async function announce (node: Node, hash: Buffer, port: number, opts: { left?: number, event?: string } = {}): Promise<string[]> {
  const q = `info_hash=${pct(hash)}&port=${port}&uploaded=0&downloaded=0&left=${opts.left ?? 100}&compact=1&numwant=200` +
    (opts.event === undefined ? '' : `&event=${opts.event}`)
  const res = await request(`${node.url}/announce?${q}`)
  const body = Buffer.from(await res.body.arrayBuffer())
  if (res.statusCode !== 200) throw new Error(`announce: HTTP ${res.statusCode}`)
  const d = decodeBencode(body)
  if (!d.ok) throw new Error(`announce: ${d.error}`)
  const peers = (d.value as Record<string, unknown>).peers as Uint8Array | undefined
  const out: string[] = []
  if (peers === undefined) return out
  const b = Buffer.from(peers)
  for (let i = 0; i + 6 <= b.length; i += 6) out.push(`${b[i]!}.${b[i + 1]!}.${b[i + 2]!}.${b[i + 3]!}:${b.readUInt16BE(i + 4)}`)
  return out.sort()
}
