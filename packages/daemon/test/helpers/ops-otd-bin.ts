// Runs the real `otd` command (packages/daemon/bin/otd.js) as a child process on 127.0.0.1 with
// port 0, reads its JSON log lines from stdout and exposes the bound endpoints, the logs and the
// exit. Started as root, otd drops to nobody after binding: files it must read or write have to be
// accessible to nobody (see tempDir()).

import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Endpoint } from './http-raw.js'

export const OTD_BIN = fileURLToPath(new URL('../../../bin/otd.js', import.meta.url))

export interface LogLine { level: number, msg: string, [k: string]: unknown }

/** A fresh directory that the dropped-privilege daemon (nobody) can read and write. */
export function tempDir (prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(d, 0o777)
  return d
}

export class OtdProcess {
  readonly logs: LogLine[] = []
  output = ''
  http!: Endpoint
  udp!: Endpoint
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private waiters = new Set<() => void>()
  private exitInfo: { code: number | null, signal: NodeJS.Signals | null } | null = null

  private constructor (readonly child: ChildProcess) {
    let pending = ''
    child.stdout!.on('data', (c: Buffer) => {
      const s = c.toString('utf8')
      this.output += s
      pending += s
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        try { this.logs.push(JSON.parse(line) as LogLine) } catch { /* not a log line */ }
      }
      this.wake()
    })
    child.stderr!.on('data', (c: Buffer) => { this.output += c.toString('utf8'); this.wake() })
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => { this.exitInfo = { code, signal }; this.wake(); resolve(this.exitInfo) })
    })
  }

  get pid (): number { return this.child.pid! }

  /** Spawns otd with `-i 127.0.0.1 -p 0 -P 0` plus `args` and waits for its "listening" line. */
  static async start (args: string[], o: { cwd?: string, timeoutMs?: number } = {}): Promise<OtdProcess> {
    const child = spawn(process.execPath, [OTD_BIN, '-i', '127.0.0.1', '-p', '0', '-P', '0', ...args], {
      cwd: o.cwd ?? tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const p = new OtdProcess(child)
    const line = await p.waitForLog((l) => / listening: /.test(l.msg), 'the listening log line', o.timeoutMs ?? 15_000)
    const http = (line.http as Endpoint[])[0]
    const udp = (line.udp as Endpoint[])[0]
    if (http === undefined || udp === undefined) throw new Error(`listening line without endpoints: ${JSON.stringify(line)}`)
    p.http = { address: http.address, port: http.port, family: 'IPv4' }
    p.udp = { address: udp.address, port: udp.port, family: 'IPv4' }
    return p
  }

  private wake (): void {
    for (const w of [...this.waiters]) w()
  }

  /** Resolves with the first log line (past or future) matching `pred`. */
  waitForLog (pred: (l: LogLine) => boolean, what: string, timeoutMs = 10_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.logs.find(pred)
        if (hit !== undefined) { done(); resolve(hit); return }
        if (this.exitInfo !== null) { done(); reject(new Error(`otd exited (${JSON.stringify(this.exitInfo)}) before ${what}; output:\n${this.output.slice(-4000)}`)) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output:\n${this.output.slice(-4000)}`)) }, timeoutMs)
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check) }
      this.waiters.add(check)
      check()
    })
  }

  /** Sends `signal` and resolves with the exit, rejecting if it takes longer than `timeoutMs`. */
  async stop (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<{ code: number | null, signal: NodeJS.Signals | null, ms: number }> {
    if (this.exitInfo === null) this.child.kill(signal)
    return await this.waitExit(timeoutMs, signal)
  }

  /** Resolves with the exit (without signalling), rejecting if it takes longer than `timeoutMs`. */
  async waitExit (timeoutMs = 10_000, signal = 'the signal'): Promise<{ code: number | null, signal: NodeJS.Signals | null, ms: number }> {
    const started = Date.now()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`otd did not exit within ${timeoutMs} ms of ${signal}; output:\n${this.output.slice(-4000)}`)), timeoutMs)
    })
    try {
      const r = await Promise.race([this.exited, timeout])
      return { ...r, ms: Date.now() - started }
    } finally {
      clearTimeout(timer)
    }
  }

  /** Kills the process if it still runs (test cleanup). */
  async kill (): Promise<void> {
    if (this.exitInfo !== null) return
    this.child.kill('SIGKILL')
    await this.exited
  }
}
