/**
 * `otctl reload` by signal: SIGHUP to an otd on this host, for when the admin endpoint is closed.
 *
 * SIGHUP's default action is to terminate a process, so sending it to the wrong pid (a stale
 * pidfile after a reboot) could kill something else. On Linux otctl therefore reads
 * /proc/PID/cmdline first and refuses unless it looks like otd (a command word ending in `otd`
 * or `otd.js`); `--force` skips the check. Where /proc is missing the check is skipped.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { OT_ERR_FORBIDDEN, OT_ERR_SIGNAL, OtctlError, badInput } from '../errors.js'

export async function readPidfile (path: string): Promise<number> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw badInput(`cannot read --pidfile ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  return parsePid(text.trim(), `--pidfile ${path}`)
}

export function parsePid (text: string, where: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 2 || Number(text) > 0x3fffffff) throw badInput(`${where}: ${JSON.stringify(text.slice(0, 40))} is not a process id`)
  return Number(text)
}

/** The command line of `pid`, or null where /proc is not available (not Linux). */
async function commandLine (pid: number): Promise<string[] | null> {
  if (!existsSync('/proc/self/cmdline')) return null
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'latin1')).split('\0').filter((w) => w !== '')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new OtctlError(OT_ERR_SIGNAL, `no process ${pid}`)
    return null
  }
}

export function looksLikeOtd (argv: string[]): boolean {
  return argv.slice(0, 3).some((w) => /(^|\/)otd(\.js)?$/.test(w))
}

export async function sighup (pid: number, force: boolean): Promise<{ pid: number, command: string | null }> {
  const argv = await commandLine(pid)
  if (argv !== null && !force && !looksLikeOtd(argv)) {
    throw badInput(`process ${pid} is not otd (${argv.join(' ').slice(0, 80)}); refusing to send SIGHUP (--force to send anyway)`)
  }
  try {
    process.kill(pid, 'SIGHUP')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EPERM') throw new OtctlError(OT_ERR_FORBIDDEN, `not allowed to signal process ${pid} (run as its user or root)`)
    if (code === 'ESRCH') throw new OtctlError(OT_ERR_SIGNAL, `no process ${pid}`)
    throw new OtctlError(OT_ERR_SIGNAL, `cannot signal process ${pid}: ${code ?? String(err)}`)
  }
  return { pid, command: argv === null ? null : argv.join(' ') }
}
