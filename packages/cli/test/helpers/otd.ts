// Starts the real `otd` (packages/daemon/bin/otd.js, through the file system: otctl must not
// import the daemon) on port 0 and reads the bound ports from its "listening" log line.
//
// The tests run as root and otd drops to `nobody` after binding, so every file and directory
// otd must read or write is made world-accessible (tempDir, worldFile).

import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** packages/daemon/bin/otd.js, from packages/cli/dist/test/helpers. */
export const OTD_BIN = fileURLToPath(new URL('../../../../daemon/bin/otd.js', import.meta.url))
const START_TIMEOUT_MS = 10_000

export function tempDir (prefix = 'otctl-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o777)
  return dir
}

export function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** Writes `text` to `dir/name`, readable and writable by everyone; returns the path. */
export function worldFile (dir: string, name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  chmodSync(path, 0o666)
  return path
}

export interface LogLine { level: number, msg: string, [k: string]: unknown }

export class RunningOtd {
  readonly logs: LogLine[] = []
  httpPort = 0
  udpPort = 0
  private partial = ''
  private readonly waiters = new Set<() => void>()
  readonly exited: Promise<number | null>

  constructor (readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (t: string) => {
      const lines = (this.partial + t).split('\n')
      this.partial = lines.pop() ?? ''
      for (const l of lines) {
        if (l.trim() === '') continue
        try { this.logs.push(JSON.parse(l) as LogLine) } catch { this.logs.push({ level: 0, msg: l }) }
      }
      for (const w of [...this.waiters]) w()
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (t: string) => this.logs.push({ level: 0, msg: `stderr: ${t}` }))
    this.exited = new Promise((resolve) => child.once('exit', (code) => { for (const w of [...this.waiters]) w(); resolve(code) }))
  }

  get pid (): number { return this.child.pid ?? -1 }
  get url (): string { return `http://127.0.0.1:${this.httpPort}` }
  get udpUrl (): string { return `udp://127.0.0.1:${this.udpPort}` }

  /** Resolves with the first log line (from index `from`) whose msg matches `re`. */
  waitLog (re: RegExp, from = 0): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.logs.slice(from).find((l) => re.test(l.msg))
        if (found !== undefined) { done(); resolve(found); return }
        if (this.child.exitCode !== null) { done(); reject(new Error(`otd exited (${this.child.exitCode}) before logging ${re}:\n${this.logs.map((l) => l.msg).join('\n')}`)) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`no log line matching ${re} within ${START_TIMEOUT_MS} ms:\n${this.logs.map((l) => l.msg).join('\n')}`)) }, START_TIMEOUT_MS)
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check) }
      this.waiters.add(check)
      check()
    })
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await this.exited
    clearTimeout(timer)
  }
}

/**
 * Starts otd on 127.0.0.1, HTTP and UDP on port 0, with `extra` flags (`-A 127.0.0.1` to open
 * the admin endpoint, `-w FILE` for a closed tracker, ...), and waits until it listens.
 */
export async function startOtd (extra: string[], cwd = tmpdir()): Promise<RunningOtd> {
  const child = spawn(process.execPath, [OTD_BIN, '-i', '127.0.0.1', '-p', '0', '-P', '0', ...extra], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' }
  })
  const otd = new RunningOtd(child)
  const line = await otd.waitLog(/ listening: /)
  const m = /listening: http 127\.0\.0\.1:(\d+), udp 127\.0\.0\.1:(\d+)/.exec(line.msg)
  if (m === null) throw new Error(`unexpected listening line: ${line.msg}`)
  otd.httpPort = Number(m[1])
  otd.udpPort = Number(m[2])
  return otd
}
