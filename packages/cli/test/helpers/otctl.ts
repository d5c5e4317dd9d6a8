// Runs the real `otctl` command (packages/cli/bin/otctl.js) as a child process with the same
// node binary as the test runner, and collects its exit code and output.

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** packages/cli/bin/otctl.js, from dist/test/helpers. */
export const OTCTL_BIN = fileURLToPath(new URL('../../../bin/otctl.js', import.meta.url))

export interface OtctlRun {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON (for --json runs); undefined when it is not JSON. */
  json: any
  /** stderr with oclif's error decoration and line wrapping undone: one line per message. */
  err: string
}

export interface RunOptions {
  /** Sets OTCTL_URL; otherwise the variable is removed from the environment. */
  url?: string
  stdin?: string
  env?: Record<string, string>
  nodeArgs?: string[]
  timeoutMs?: number
}

export function otctl (args: string[], opts: RunOptions = {}): Promise<OtctlRun> {
  // No colours: lerna and CI force them (FORCE_COLOR), and the assertions read plain text.
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', OTCTL_URL: opts.url, ...opts.env }
  delete env['FORCE_COLOR']
  if (opts.url === undefined && opts.env?.['OTCTL_URL'] === undefined) delete env['OTCTL_URL']
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), OTCTL_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t })
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t })
  child.stdin.end(opts.stdin ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000)
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer)
      let json: any
      try { json = JSON.parse(stdout) } catch { json = undefined }
      resolve({ code, stdout, stderr, json, err: unwrap(stderr) })
    })
  })
}

/** oclif prints errors as ` ›   Error: ...` wrapped at the terminal width (80 without one). */
function unwrap (stderr: string): string {
  return stderr.replace(/ ?\n ›\s+(?!Error:|Code:)/g, ' ').replace(/^ ›\s+/gm, '')
}

/** A readable failure message for assertions: the whole run. */
export function show (r: OtctlRun): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
}
