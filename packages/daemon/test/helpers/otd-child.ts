// Runs the real `otd` command (packages/daemon/bin/otd.js) as a child process for black-box tests
// of flags, config files, signals and privilege drop (access lists, admin, config, network edges).
// The child uses the test runner's node binary. otd logs JSON lines (pino) on stdout; the
// "listening" line carries the bound addresses, so tests always use port 0.
//
// Started as root, otd drops to `nobody` after binding: files and directories it must read or
// create have to be accessible to that user (see tempDir()).

import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Endpoint } from './http-raw.js'

/** packages/daemon/bin/otd.js, from dist/test/helpers. */
export const OTD_BIN = fileURLToPath(new URL('../../../bin/otd.js', import.meta.url))

export const START_TIMEOUT_MS = 8000

/** A temporary directory every user may use (otd may run as nobody). Remove it with `cleanup()`. */
export function tempDir(prefix = 'otd-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o777)
  return dir
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** Writes `text` to `dir/name`, readable and writable by everyone; returns the path. */
export function writeWorldFile(dir: string, name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  chmodSync(path, 0o666)
  return path
}

export interface LogLine {
  level: number
  msg: string
  [k: string]: unknown
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class OtdChild {
  stdout = ''
  stderr = ''
  readonly logs: LogLine[] = []
  exit: Exit | undefined
  readonly exited: Promise<Exit>
  private waiters = new Set<() => void>()
  private partial = ''

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8')
    child.stderr?.setEncoding('utf8')
    child.stdout?.on('data', (t: string) => {
      this.stdout += t
      const lines = (this.partial + t).split('\n')
      this.partial = lines.pop() ?? ''
      for (const l of lines) {
        if (l.trim() === '') continue
        try {
          this.logs.push(JSON.parse(l) as LogLine)
        } catch {
          this.logs.push({ level: 0, msg: l })
        }
      }
      this.wake()
    })
    child.stderr?.on('data', (t: string) => {
      this.stderr += t
      this.wake()
    })
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.exit = { code, signal }
        this.wake()
        resolve(this.exit)
      })
    })
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** Resolves when `pred()` holds; rejects after timeoutMs (with the output so far). */
  waitFor(pred: () => boolean, what: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
    if (pred()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred()) return
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; exit=${JSON.stringify(this.exit)}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`))
      }, timeoutMs)
      this.waiters.add(check)
    })
  }

  /** Waits for a log line whose msg matches `re`, looking only at lines from index `from` on. */
  async waitLog(re: RegExp, from = 0, timeoutMs = START_TIMEOUT_MS): Promise<LogLine> {
    let found: LogLine | undefined
    await this.waitFor(() => {
      found = this.logs.slice(from).find((l) => re.test(l.msg))
      return found !== undefined || this.exit !== undefined
    }, `a log line matching ${re}`, timeoutMs)
    if (found === undefined) throw new Error(`otd exited (${JSON.stringify(this.exit)}) before logging ${re}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)
    return found
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig)
  }

  /** SIGTERM, then waits for the exit (SIGKILL if it takes too long). */
  async stop(): Promise<Exit> {
    if (this.exit !== undefined) return this.exit
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 6000)
    const e = await this.exited
    clearTimeout(timer)
    return e
  }
}

export function spawnOtd(args: string[], opts: { cwd?: string } = {}): OtdChild {
  const child = spawn(process.execPath, [OTD_BIN, ...args], {
    cwd: opts.cwd ?? tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new OtdChild(child)
}

export interface RunningOtd {
  proc: OtdChild
  http: Endpoint[]
  udp: Endpoint[]
}

/** Starts otd and waits for its "listening" log line; fails if it exits instead. */
export async function startOtd(args: string[], opts: { cwd?: string } = {}): Promise<RunningOtd> {
  const proc = spawnOtd(args, opts)
  try {
    const line = await proc.waitLog(/ listening: /)
    const conv = (list: unknown): Endpoint[] =>
      (list as Array<{ address: string; port: number; family: string }>).map((a) => ({ address: a.address, port: a.port, family: a.family }))
    return { proc, http: conv(line.http), udp: conv(line.udp) }
  } catch (err) {
    await proc.stop()
    throw err
  }
}

/** Runs otd to completion (for commands that exit on their own: -h, -v, errors). */
export async function runOtd(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Exit & { stdout: string; stderr: string }> {
  const proc = spawnOtd(args, opts)
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), opts.timeoutMs ?? START_TIMEOUT_MS)
  const e = await proc.exited
  clearTimeout(timer)
  return { ...e, stdout: proc.stdout, stderr: proc.stderr }
}
