/**
 * Reading another process's memory and CPU from /proc (Linux). Every reader returns undefined
 * when the figure cannot be read (no /proc, process gone), so reports degrade instead of failing.
 */
import { readFileSync } from 'node:fs'

/** Kernel clock ticks per second for /proc/PID/stat times (USER_HZ, 100 on every Linux ABI in use). */
const USER_HZ = 100

/** VmRSS of `pid` in bytes. */
export function readRssBytes (pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
    return m === null ? undefined : Number(m[1]) * 1024
  } catch {
    return undefined
  }
}

/** User plus system CPU time of `pid` (all its threads) in milliseconds. */
export function readCpuMs (pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // Fields after the command name (which may contain spaces) start at the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(f[11])
    const stime = Number(f[12])
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined
    return ((utime + stime) * 1000) / USER_HZ
  } catch {
    return undefined
  }
}

function childrenOf (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter((s) => s !== '').map(Number)
  } catch {
    return []
  }
}

/**
 * Follows single-child chains from `pid` (sh -c → sudo → taskset → the tracker; npx → node) and
 * returns the last process: the one whose memory and CPU are the tracker's.
 */
export function leafPid (pid: number): number {
  let p = pid
  for (let depth = 0; depth < 8; depth++) {
    const c = childrenOf(p)
    if (c.length !== 1) break
    p = c[0]!
  }
  return p
}

/** The command line of `pid` (/proc/PID/cmdline, at most 200 characters), for reports. */
export function readCommandLine (pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((x) => x !== '').join(' ')
    return s.length > 200 ? s.slice(0, 197) + '...' : s
  } catch {
    return undefined
  }
}
