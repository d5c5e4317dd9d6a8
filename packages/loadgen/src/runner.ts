/**
 * Runs a flood for a warm-up and a measured duration, samples it once a second (the progress line
 * and the per-second series), and turns its counters into a {@link RunResult}.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { readCpuMs, readRssBytes } from './proc.js'
import type { Counters } from './stats.js'
import { formatCount, formatMs } from './units.js'

export interface Measurable {
  readonly counters: Counters
  start (): Promise<void>
  stop (): Promise<void>
}

export interface RunOptions {
  label: string
  durationMs: number
  warmupMs: number
  /** Draw a live progress line (only ever on a terminal). */
  progress: boolean
  /** The tracker's pid, for its CPU time and RSS. */
  trackerPid?: number | undefined
}

export interface LatencySummary {
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

export interface RunResult {
  label: string
  durationS: number
  sent: number
  ok: number
  okAnnounce: number
  okScrape: number
  errors: number
  timeouts: number
  late: number
  socketErrors: number
  /** TCP connections opened (HTTP). */
  connects: number
  /** HTTP requests re-sent after the server closed a persistent connection between responses. */
  retried: number
  /** Good replies per second over the measured duration. */
  okPerS: number
  sentPerS: number
  latencyMs: LatencySummary
  /** Good replies in each whole second of the measured duration. */
  perSecond: number[]
  /** CPU used by otbench itself, % of one core. */
  loadCpuPct: number
  /** CPU used by the tracker, % of one core (with its pid). */
  trackerCpuPct?: number
  /** Tracker CPU milliseconds per 1,000 good replies. */
  trackerCpuMsPer1k?: number
  /** Tracker RSS at the end of the run. */
  trackerRssBytes?: number
}

/** A progress line: requests/s, replies/s, errors, timeouts, p50/p99. */
export function progressLine (label: string, elapsedS: number, sentPerS: number, okPerS: number, c: Counters): string {
  return `${label} ${elapsedS.toFixed(0)}s  req/s ${formatCount(sentPerS)}  resp/s ${formatCount(okPerS)}  ` +
    `errors ${formatCount(c.errors + c.socketErrors)}  timeouts ${formatCount(c.timeouts)}  ` +
    `p50 ${formatMs(c.latency.percentileMs(50))}  p99 ${formatMs(c.latency.percentileMs(99))}`
}

export async function runMeasured (m: Measurable, o: RunOptions): Promise<RunResult> {
  const tty = o.progress && process.stderr.isTTY === true
  const c = m.counters
  await m.start()
  if (o.warmupMs > 0) await sleep(o.warmupMs)
  c.reset()
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const tcpu0 = o.trackerPid === undefined ? undefined : readCpuMs(o.trackerPid)
  const perSecond: number[] = []
  let lastOk = 0
  let lastSent = 0
  let lastAt = t0
  const end = t0 + o.durationMs
  let next = t0 + 1000
  for (;;) {
    const until = Math.min(next, end)
    let now = performance.now()
    if (now < until) {
      await sleep(until - now)
      now = performance.now()
      if (now < until) continue // timers may fire a fraction of a millisecond early
    }
    if (now >= next) {
      perSecond.push(c.ok - lastOk)
      if (tty) {
        const dt = (now - lastAt) / 1000
        process.stderr.write('\r\x1b[K' + progressLine(o.label, (now - t0) / 1000, (c.sent - lastSent) / dt, (c.ok - lastOk) / dt, c))
      }
      lastOk = c.ok
      lastSent = c.sent
      lastAt = now
      next += 1000
    }
    if (now >= end) break
  }
  const elapsedMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const tcpu1 = o.trackerPid === undefined ? undefined : readCpuMs(o.trackerPid)
  const snapshot = { ...c, latency: c.latency }
  const latency: LatencySummary = {
    p50: c.latency.percentileMs(50),
    p90: c.latency.percentileMs(90),
    p99: c.latency.percentileMs(99),
    p999: c.latency.percentileMs(99.9),
    max: c.latency.max
  }
  await m.stop()
  if (tty) process.stderr.write('\r\x1b[K')
  const s = elapsedMs / 1000
  const r: RunResult = {
    label: o.label,
    durationS: round(s, 3),
    sent: snapshot.sent,
    ok: snapshot.ok,
    okAnnounce: snapshot.okAnnounce,
    okScrape: snapshot.okScrape,
    errors: snapshot.errors,
    timeouts: snapshot.timeouts,
    late: snapshot.late,
    socketErrors: snapshot.socketErrors,
    connects: snapshot.connects,
    retried: snapshot.retried,
    okPerS: round(snapshot.ok / s, 1),
    sentPerS: round(snapshot.sent / s, 1),
    latencyMs: { p50: round(latency.p50, 4), p90: round(latency.p90, 4), p99: round(latency.p99, 4), p999: round(latency.p999, 4), max: round(latency.max, 4) },
    perSecond,
    loadCpuPct: round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100, 1)
  }
  if (tcpu0 !== undefined && tcpu1 !== undefined) {
    r.trackerCpuPct = round(((tcpu1 - tcpu0) / elapsedMs) * 100, 1)
    if (snapshot.ok > 0) r.trackerCpuMsPer1k = round(((tcpu1 - tcpu0) / snapshot.ok) * 1000, 2)
  }
  if (o.trackerPid !== undefined) {
    const rss = readRssBytes(o.trackerPid)
    if (rss !== undefined) r.trackerRssBytes = rss
  }
  return r
}

export function round (n: number, digits: number): number {
  if (!Number.isFinite(n)) return n
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** Share of seconds (0..1) whose rate reached `rate`; 0 for an empty series. */
export function shareOfSecondsAtLeast (perSecond: readonly number[], rate: number): number {
  if (perSecond.length === 0) return 0
  let n = 0
  for (const v of perSecond) if (v >= rate) n++
  return n / perSecond.length
}
