/**
 * Reports: the environment a run happened in, the figures it produced, and their text and JSON
 * forms. Every report carries enough context (Node, CPU, commit, configuration) to be compared
 * with another one later by `otbench compare`.
 */
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import type { PreloadResult } from './preload.js'
import { round, type RunResult } from './runner.js'
import { median } from './stats.js'
import { formatCount, formatMs } from './units.js'

export const REPORT_SCHEMA = 1

export interface Environment {
  node: string
  v8: string
  platform: string
  kernel: string
  arch: string
  cpuModel: string
  cpus: number
  totalMemoryBytes: number
  /** Commit of the working tree otbench ran in (short hash, "+dirty" when modified); null outside git. */
  commit: string | null
  /** CPUs otbench itself may run on (from taskset), when known. */
  loadCpus?: string
  /** CPUs the tracker may run on, when pinned. */
  trackerCpus?: string
}

export interface Figure {
  /** Stable name, compared across reports: "udp.announce.rps". */
  name: string
  /** The median over runs. */
  value: number
  unit: string
  better: 'higher' | 'lower'
  /** Every run's value, for ranges. */
  runs: number[]
  /** Informational only: compare shows it but never fails on it (latencies are too noisy to gate). */
  info?: boolean
}

export interface Check {
  name: string
  ok: boolean
  value: number
  limit: number
  text: string
}

export interface Report {
  tool: 'otbench'
  schema: number
  command: string
  date: string
  environment: Environment
  config: Record<string, unknown>
  tracker?: { command?: string, pid?: number, process?: string }
  /** Each workload's runs, by workload name. */
  workloads: Record<string, RunResult[]>
  preload?: PreloadResult
  figures: Figure[]
  checks: Check[]
  /** Observations worth reading with the figures: which side was saturated, errors seen. */
  notes: string[]
}

function gitCommit (): string | null {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
    return dirty ? `${hash}+dirty` : hash
  } catch {
    return null
  }
}

export function environment (): Environment {
  const cpus = os.cpus()
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    kernel: os.release(),
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: os.cpus().length,
    totalMemoryBytes: os.totalmem(),
    commit: gitCommit()
  }
}

/** Figures of one workload's runs: replies/s, latency, tracker CPU per 1k replies. */
export function workloadFigures (name: string, runs: readonly RunResult[]): Figure[] {
  const f: Figure[] = []
  const add = (suffix: string, values: number[], unit: string, better: 'higher' | 'lower', info = false): void => {
    const vs = values.filter((x) => Number.isFinite(x))
    if (vs.length === 0) return
    const fig: Figure = { name: `${name}.${suffix}`, value: round(median(vs), 3), unit, better, runs: vs }
    if (info) fig.info = true
    f.push(fig)
  }
  add('rps', runs.map((r) => r.okPerS), 'replies/s', 'higher')
  add('p50', runs.map((r) => r.latencyMs.p50), 'ms', 'lower', true)
  add('p99', runs.map((r) => r.latencyMs.p99), 'ms', 'lower', true)
  const cpu = runs.map((r) => r.trackerCpuMsPer1k).filter((x): x is number => x !== undefined)
  if (cpu.length > 0) add('cpu_ms_per_1k', cpu, 'ms', 'lower')
  return f
}

export function preloadFigures (p: PreloadResult): Figure[] {
  const f: Figure[] = [{ name: 'preload.rps', value: p.announcesPerS, unit: 'announces/s', better: 'higher', runs: [p.announcesPerS], info: true }]
  if (p.rssPerPeerBytes !== undefined) f.push({ name: 'preload.rss_per_peer', value: p.rssPerPeerBytes, unit: 'B', better: 'lower', runs: [p.rssPerPeerBytes] })
  return f
}

/** Notes on saturation and failures, so a figure is never quoted without saying what limited it. */
export function workloadNotes (name: string, runs: readonly RunResult[]): string[] {
  const notes: string[] = []
  const load = median(runs.map((r) => r.loadCpuPct))
  const trackerVals = runs.map((r) => r.trackerCpuPct).filter((x): x is number => x !== undefined)
  const tracker = trackerVals.length > 0 ? median(trackerVals) : undefined
  const limits: string[] = []
  if (tracker !== undefined && tracker >= 90) limits.push(`tracker saturated (${tracker.toFixed(0)}% CPU)`)
  if (load >= 90) limits.push(`otbench saturated (${load.toFixed(0)}% CPU): the figure is a floor`)
  if (limits.length > 0) notes.push(`${name}: ${limits.join('; ')}`)
  const sent = runs.reduce((a, r) => a + r.sent, 0)
  const ok = runs.reduce((a, r) => a + r.ok, 0)
  const connects = runs.reduce((a, r) => a + (r.connects ?? 0), 0)
  if (name.includes('keepalive') && ok > 0 && connects > ok / 2) {
    notes.push(`${name}: the target closed connections after (nearly) every reply, so this measured a new connection per request, not keep-alive`)
  }
  const bad = runs.reduce((a, r) => a + r.errors + r.timeouts + r.socketErrors, 0)
  if (sent > 0 && bad / sent > 0.001) {
    const e = runs.reduce((a, r) => a + r.errors, 0)
    const t = runs.reduce((a, r) => a + r.timeouts, 0)
    const s = runs.reduce((a, r) => a + r.socketErrors, 0)
    notes.push(`${name}: ${((bad / sent) * 100).toFixed(2)}% of requests failed (errors ${e}, timeouts ${t}, connection failures ${s})`)
  }
  return notes
}

function range (vs: readonly number[], fmt: (n: number) => string): string {
  if (vs.length < 2) return ''
  return ` (${fmt(Math.min(...vs))}–${fmt(Math.max(...vs))})`
}

function formatValue (f: Figure, n: number): string {
  if (f.unit === 'ms') return formatMs(n)
  if (f.unit === 'B') return `${n.toFixed(1)} B`
  return formatCount(n)
}

/** The human-readable report. */
export function formatReport (r: Report): string {
  const e = r.environment
  const lines: string[] = []
  lines.push(`otbench ${r.command}  ${r.date}`)
  lines.push(`node ${e.node}, ${e.cpuModel} x${e.cpus}, ${(e.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB, commit ${e.commit ?? '-'}` +
    (e.trackerCpus !== undefined ? `, tracker on CPU ${e.trackerCpus}` : '') + (e.loadCpus !== undefined ? `, otbench on CPU ${e.loadCpus}` : ''))
  if (r.tracker?.command !== undefined) lines.push(`tracker: ${r.tracker.command}${r.tracker.pid !== undefined ? ` (pid ${r.tracker.pid}${r.tracker.process !== undefined ? `, ${r.tracker.process}` : ''})` : ''}`)
  if (r.preload !== undefined) {
    const p = r.preload
    lines.push(`preload: ${formatCount(p.acked)} peers in ${formatCount(p.torrents)} torrents (${p.peersPerTorrent} each) in ${p.seconds.toFixed(1)} s, ` +
      `${formatCount(p.announcesPerS)} announces/s, rejected ${p.rejected}, re-sent ${p.resent}` +
      (p.rssPerPeerBytes !== undefined ? `; RSS ${(p.rssBeforeBytes! / 2 ** 20).toFixed(1)} -> ${(p.rssAfterBytes! / 2 ** 20).toFixed(1)} MiB, ${p.rssPerPeerBytes.toFixed(1)} B per peer` : '') +
      (p.verified !== undefined ? `; scrape check: ${p.verified.exact}/${p.verified.sampled} sampled torrents hold exactly ${p.peersPerTorrent}` : ''))
  }
  for (const [name, runs] of Object.entries(r.workloads)) {
    for (const run of runs) {
      lines.push(`${name}: ${formatCount(run.okPerS)} replies/s over ${run.durationS.toFixed(1)} s (sent ${formatCount(run.sentPerS)}/s), ` +
        `errors ${run.errors}, timeouts ${run.timeouts}, late ${run.late}, connection failures ${run.socketErrors}, ` +
        ((run.retried ?? 0) > 0 ? `re-sent after a server close ${run.retried}, ` : '') +
        `p50 ${formatMs(run.latencyMs.p50)} p99 ${formatMs(run.latencyMs.p99)} max ${formatMs(run.latencyMs.max)}, ` +
        `otbench CPU ${run.loadCpuPct.toFixed(0)}%` + (run.trackerCpuPct !== undefined ? `, tracker CPU ${run.trackerCpuPct.toFixed(0)}% (${run.trackerCpuMsPer1k ?? '-'} ms per 1k)` : ''))
    }
  }
  if (r.figures.length > 0) {
    lines.push('')
    const w = Math.max(...r.figures.map((f) => f.name.length))
    for (const f of r.figures) {
      lines.push(`  ${f.name.padEnd(w)}  ${formatValue(f, f.value).padStart(9)}${f.unit === 'ms' || f.unit === 'B' ? '' : ' ' + f.unit}${range(f.runs, (n) => formatValue(f, n))}${f.runs.length > 1 ? `  median of ${f.runs.length}` : ''}`)
    }
  }
  if (r.checks.length > 0) {
    lines.push('')
    for (const c of r.checks) lines.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.text}`)
  }
  for (const n of r.notes) lines.push(`note: ${n}`)
  return lines.join('\n') + '\n'
}
