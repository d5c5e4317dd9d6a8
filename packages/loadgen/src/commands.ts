/**
 * The commands behind `otbench <command>`. Each returns its report (or text) and an exit code;
 * printing and exiting stay in bin/otbench.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import type { Options } from './cli.js'
import { compareReports, formatComparison, formatComparisons } from './compare.js'
import { comparisonChartSvg, reportChartSvg } from './chart.js'
import { AutocannonFlood } from './http-autocannon.js'
import { HttpFlood } from './http-flood.js'
import { ReproHttpSource, WorkloadHttpSource, reproHashes } from './http-source.js'
import { PeerPool, TorrentPool, Workload } from './pool.js'
import { preload, type PreloadResult } from './preload.js'
import {
  type Check, type Report, REPORT_SCHEMA, environment, formatReport, preloadFigures, workloadFigures, workloadNotes
} from './report.js'
import { type Measurable, type RunResult, round, runMeasured, shareOfSecondsAtLeast } from './runner.js'
import { median } from './stats.js'
import { type Session, openSession, sessionEnvironment } from './session.js'
import { hostPort } from './target.js'
import { formatCount } from './units.js'
import { UdpFlood, WorkloadUdpSource } from './udp-flood.js'

export const EXIT_OK = 0
/** A gate, a comparison or repro-10k failed: the measurement worked, the figures did not pass. */
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
/** The run itself failed: target unreachable, spawn failed, unreadable report. */
export const EXIT_ERROR = 3

export interface Outcome {
  /** Text for stdout (the report, or the JSON when --json). */
  stdout: string
  code: number
}

const RECV_BUFFER_BYTES = 4 << 20

function configOf (o: Options): Record<string, unknown> {
  const { targets, files, ...rest } = o
  return { ...rest, targets: targets.map((t) => t.url) }
}

function newReport (o: Options, s: Session | null): Report {
  const r: Report = {
    tool: 'otbench',
    schema: REPORT_SCHEMA,
    command: o.command,
    date: new Date().toISOString(),
    environment: s === null ? environment() : sessionEnvironment(s, environment()),
    config: configOf(o),
    workloads: {},
    figures: [],
    checks: [],
    notes: []
  }
  if (s !== null && (s.tracker !== undefined || s.pid !== undefined)) {
    r.tracker = {}
    if (s.tracker !== undefined) r.tracker.command = s.tracker.command
    if (s.pid !== undefined) r.tracker.pid = s.pid
    if (s.trackerProcess !== undefined) r.tracker.process = s.trackerProcess
  }
  if (s !== null) r.notes.push(...s.notes)
  if (s?.udp !== undefined) r.config.udpTarget = s.udp.url
  if (s?.http !== undefined) r.config.httpTarget = s.http.url
  return r
}

function workload (o: Options, scrapeShare: number): Workload {
  const torrents = new TorrentPool(o.torrents, o.seed, o.skew)
  const peers = new PeerPool(o.peers, o.seed, o.seederShare)
  return new Workload(torrents, peers, { scrapeShare, events: o.events, numwant: o.numwant, scrapeHashes: o.scrapeHashes }, o.seed)
}

function udpFlood (o: Options, s: Session, w: Workload): UdpFlood {
  const a = s.udpAddress!
  return new UdpFlood({
    host: a.address,
    port: s.udp!.port,
    family: a.family,
    sockets: o.connections,
    window: o.window,
    timeoutMs: o.timeoutMs,
    connectRefreshMs: o.connectRefreshMs,
    recvBufferBytes: RECV_BUFFER_BYTES
  }, new WorkloadUdpSource(w))
}

function httpFlood (o: Options, s: Session, w: Workload, newConnection: boolean, connections: number): Measurable {
  const a = s.httpAddress!
  const t = s.http!
  const source = new WorkloadHttpSource(w, t, { version: newConnection ? '1.0' : o.httpVersion, host: hostPort(t.host, t.port) })
  const base = { host: a.address, port: t.port, connections, pipelining: o.pipelining, timeoutMs: o.timeoutMs }
  if (o.engine === 'autocannon' && !newConnection) return new AutocannonFlood(base, source)
  return new HttpFlood({ ...base, newConnection }, source)
}

function mixName (share: number): string {
  return share === 0 ? 'announce' : share === 1 ? 'scrape' : 'mixed'
}

async function runSeries (name: string, o: Options, s: Session, make: () => Measurable, r: Report): Promise<RunResult[]> {
  const runs: RunResult[] = r.workloads[name] ?? []
  r.workloads[name] = runs
  const result = await runMeasured(make(), { label: name, durationMs: o.durationMs, warmupMs: o.warmupMs, progress: !o.json, trackerPid: s.pid })
  runs.push(result)
  return runs
}

function finishWorkloads (r: Report): void {
  for (const [name, runs] of Object.entries(r.workloads)) {
    r.figures.push(...workloadFigures(name, runs))
    r.notes.push(...workloadNotes(name, runs))
  }
}

/** Writes the JSON report and its chart when --out (or --chart) says so. */
export function writeOutputs (o: Options, r: Report): string[] {
  const written: string[] = []
  if (o.out !== undefined) {
    mkdirSync(dirname(o.out), { recursive: true })
    writeFileSync(o.out, JSON.stringify(r, null, 2) + '\n')
    written.push(o.out)
  }
  const chart = o.chart ?? (o.out === undefined ? undefined : join(dirname(o.out), basename(o.out, extname(o.out)) + '.svg'))
  if (chart !== undefined) {
    mkdirSync(dirname(chart), { recursive: true })
    writeFileSync(chart, reportChartSvg(r))
    written.push(chart)
  }
  return written
}

function output (o: Options, r: Report, code: number): Outcome {
  const written = writeOutputs(o, r)
  if (o.json) return { stdout: JSON.stringify(r, null, 2) + '\n', code }
  return { stdout: formatReport(r) + written.map((f) => `wrote ${f}\n`).join(''), code }
}

async function withSession (o: Options, need: { udp: boolean, http: boolean }, body: (s: Session, r: Report) => Promise<number>): Promise<Outcome> {
  const s = await openSession(o, need)
  try {
    const r = newReport(o, s)
    const code = await body(s, r)
    return output(o, r, code)
  } finally {
    await s.close()
  }
}

export async function cmdUdp (o: Options): Promise<Outcome> {
  return await withSession(o, { udp: true, http: false }, async (s, r) => {
    const w = workload(o, o.scrapeShare)
    const name = `udp.${mixName(o.scrapeShare)}`
    for (let i = 0; i < o.runs; i++) await runSeries(name, o, s, () => udpFlood(o, s, w), r)
    finishWorkloads(r)
    return EXIT_OK
  })
}

export async function cmdHttp (o: Options): Promise<Outcome> {
  return await withSession(o, { udp: false, http: true }, async (s, r) => {
    const w = workload(o, o.scrapeShare)
    const name = `http.${o.newConnection ? 'newconn' : 'keepalive'}.${mixName(o.scrapeShare)}`
    for (let i = 0; i < o.runs; i++) await runSeries(name, o, s, () => httpFlood(o, s, w, o.newConnection, o.connections), r)
    finishWorkloads(r)
    return EXIT_OK
  })
}

async function doPreload (o: Options, s: Session, torrents: number, peersPerTorrent: number, progress: boolean): Promise<PreloadResult> {
  const a = s.udpAddress!
  return await preload({
    host: a.address,
    port: s.udp!.port,
    family: a.family,
    sockets: 8,
    window: o.command === 'preload' ? o.window : 64,
    timeoutMs: Math.max(o.command === 'preload' ? o.timeoutMs : 1000, 500),
    connectRefreshMs: o.connectRefreshMs,
    recvBufferBytes: RECV_BUFFER_BYTES,
    torrents,
    peersPerTorrent,
    seed: o.seed,
    seederShare: o.seederShare,
    pid: s.pid,
    settleMs: o.settleMs,
    progress
  })
}

function preloadNotes (p: PreloadResult): string[] {
  const notes: string[] = []
  if (p.rejected > 0) notes.push(`preload: ${p.rejected} announces were refused (a whitelist without these hashes? see otbench hashes)`)
  if (p.verified !== undefined && p.verified.exact < p.verified.sampled) {
    notes.push(`preload: only ${p.verified.exact} of ${p.verified.sampled} sampled torrents hold ${p.peersPerTorrent} peers (${p.verified.seenPeers} of ${p.verified.expectedPeers} peers seen)`)
  }
  if (p.rssPerPeerBytes === undefined) notes.push('preload: no RSS figure (give --pid PID or --spawn)')
  return notes
}

export async function cmdPreload (o: Options): Promise<Outcome> {
  if (o.peersPerTorrent < 1) return { stdout: 'otbench: preload: --peers-per-torrent must be at least 1\n', code: EXIT_USAGE }
  return await withSession(o, { udp: true, http: false }, async (s, r) => {
    const p = await doPreload(o, s, o.torrents, o.peersPerTorrent, !o.json)
    r.preload = p
    r.figures.push(...preloadFigures(p))
    r.notes.push(...preloadNotes(p))
    return EXIT_OK
  })
}

/**
 * repro-10k verdict: sustained when the mean reaches the rate and at least 90% of whole seconds
 * do too (one slow second from a GC pause or a noisy neighbour does not fail it; a trend does).
 */
export function reproVerdict (run: RunResult, rate: number): Check {
  const share = shareOfSecondsAtLeast(run.perSecond, rate)
  const ok = run.okPerS >= rate && share >= 0.9
  return {
    name: 'repro10k.sustained',
    ok,
    value: run.okPerS,
    limit: rate,
    text: `${formatCount(run.okPerS)} good replies/s on average over ${run.durationS.toFixed(0)} s, ` +
      `${(share * 100).toFixed(0)}% of seconds at or above ${formatCount(rate)}: ` +
      (ok ? `sustains ${formatCount(rate)} requests/s` : `does not sustain ${formatCount(rate)} requests/s`)
  }
}

export async function cmdRepro (o: Options): Promise<Outcome> {
  return await withSession(o, { udp: false, http: true }, async (s, r) => {
    const a = s.httpAddress!
    const t = s.http!
    let last: RunResult | undefined
    for (let i = 0; i < o.runs; i++) {
      const runs = await runSeries('repro10k', o, s, () => new HttpFlood({
        host: a.address, port: t.port, connections: o.connections, pipelining: 1, newConnection: true, timeoutMs: o.timeoutMs
      }, new ReproHttpSource(t, o.seed + i, o.sendIp)), r)
      last = runs[runs.length - 1]
      r.checks.push(reproVerdict(last!, o.rate))
    }
    finishWorkloads(r)
    return r.checks.every((c) => c.ok) ? EXIT_OK : EXIT_FAILED
  })
}

/** The suite's workloads, run in turn within each round so noise spreads over all of them. */
export const SUITE_WORKLOADS = ['udp.announce', 'udp.scrape', 'http.keepalive.announce', 'http.newconn.announce'] as const

export function suiteChecks (r: Report, o: Options): Check[] {
  const fig = (name: string): number | undefined => r.figures.find((f) => f.name === name)?.value
  const checks: Check[] = []
  const floor = (name: string, figure: string, limit: number, what: string): void => {
    const v = fig(figure)
    checks.push({ name, ok: v !== undefined && v >= limit, value: v ?? NaN, limit, text: `${what}: ${v === undefined ? 'not measured' : formatCount(v)} replies/s (floor ${formatCount(limit)})` })
  }
  floor('udp.announce.floor', 'udp.announce.rps', o.gateUdp, 'UDP announces')
  floor('http.keepalive.announce.floor', 'http.keepalive.announce.rps', o.gateHttp, 'HTTP keep-alive announces')
  const rss = fig('preload.rss_per_peer')
  const peers = r.preload?.acked ?? 0
  checks.push({
    name: 'preload.rss_per_peer.ceiling',
    ok: rss !== undefined && rss <= o.gateRssPerPeer,
    value: rss ?? NaN,
    limit: o.gateRssPerPeer,
    text: `RSS per peer after a ${formatCount(peers)}-peer preload: ${rss === undefined ? 'not measured' : `${rss.toFixed(1)} B`} (ceiling ${o.gateRssPerPeer} B)`
  })
  return checks
}

export async function cmdSuite (o: Options): Promise<Outcome> {
  return await withSession(o, { udp: true, http: true }, async (s, r) => {
    if (o.peersPerTorrent > 0) {
      const p = await doPreload(o, s, o.torrents, o.peersPerTorrent, !o.json)
      r.preload = p
      r.notes.push(...preloadNotes(p))
    }
    const announce = workload(o, 0)
    const scrape = workload(o, 1)
    for (let i = 0; i < o.runs; i++) {
      await runSeries('udp.announce', o, s, () => udpFlood(o, s, announce), r)
      await runSeries('udp.scrape', o, s, () => udpFlood(o, s, scrape), r)
      await runSeries('http.keepalive.announce', o, s, () => httpFlood(o, s, announce, false, 50), r)
      await runSeries('http.newconn.announce', o, s, () => httpFlood(o, s, announce, true, 64), r)
    }
    finishWorkloads(r)
    if (r.preload !== undefined) r.figures.push(...preloadFigures(r.preload))
    if (o.gate) {
      r.checks = suiteChecks(r, o)
      return r.checks.every((c) => c.ok) ? EXIT_OK : EXIT_FAILED
    }
    return EXIT_OK
  })
}

function readReport (file: string): Report {
  const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<Report>
  if (v.tool !== 'otbench' || !Array.isArray(v.figures)) throw new Error(`${file}: not an otbench report`)
  return v as Report
}

export async function cmdCompare (o: Options): Promise<Outcome> {
  if (o.files.length > 2) return compareSeveral(o)
  const [baseFile, currentFile] = o.files as [string, string]
  const base = readReport(baseFile)
  const current = readReport(currentFile)
  const c = compareReports(base, current, o.maxRegression, o.only)
  const baseLabel = basename(baseFile, '.json')
  const currentLabel = basename(currentFile, '.json')
  const chart = o.chart ?? join(dirname(currentFile), `${currentLabel}.vs.${baseLabel}.svg`)
  writeFileSync(chart, comparisonChartSvg(c, baseLabel, currentLabel))
  const code = c.regressions.length > 0 ? EXIT_FAILED : EXIT_OK
  if (o.json) return { stdout: JSON.stringify({ base: baseFile, current: currentFile, ...c, chart }, null, 2) + '\n', code }
  return { stdout: formatComparison(c, baseLabel, currentLabel) + `wrote ${chart}\n`, code }
}

/**
 * `otbench compare BASE.json BASE2.json … NEW.json`: NEW against each base (a side-by-side run's
 * trackers), one table with a ratio column per base and one chart per base beside NEW.
 */
function compareSeveral (o: Options): Outcome {
  const currentFile = o.files[o.files.length - 1]!
  const baseFiles = o.files.slice(0, -1)
  const current = readReport(currentFile)
  const currentLabel = basename(currentFile, '.json')
  const baseLabels = baseFiles.map((f) => basename(f, '.json'))
  const cs = baseFiles.map((f) => compareReports(readReport(f), current, o.maxRegression, o.only))
  const charts = cs.map((c, i) => {
    const chart = join(dirname(currentFile), `${currentLabel}.vs.${baseLabels[i]!}.svg`)
    writeFileSync(chart, comparisonChartSvg(c, baseLabels[i]!, currentLabel))
    return chart
  })
  const code = cs.some((c) => c.regressions.length > 0) ? EXIT_FAILED : EXIT_OK
  if (o.json) {
    const comparisons = cs.map((c, i) => ({ base: baseFiles[i]!, ...c, chart: charts[i]! }))
    return { stdout: JSON.stringify({ current: currentFile, comparisons }, null, 2) + '\n', code }
  }
  return { stdout: formatComparisons(cs, baseLabels, currentLabel) + charts.map((f) => `wrote ${f}\n`).join(''), code }
}

/**
 * `otbench merge A.json B.json … --out M.json`: one report from several (rounds of a side-by-side
 * run), with every workload's runs pooled and the figures recomputed as medians over all of them.
 */
export async function cmdMerge (o: Options): Promise<Outcome> {
  const reports = o.files.map(readReport)
  const first = reports[0]!
  const r: Report = { ...newReport(o, null), command: `merge of ${reports.length}: ${[...new Set(reports.map((x) => x.command))].join(', ')}` }
  r.environment = first.environment
  if (first.tracker !== undefined) r.tracker = first.tracker
  r.config = { merged: o.files, ...first.config }
  const rss: number[] = []
  const preloadRate: number[] = []
  for (const rep of reports) {
    for (const [name, runs] of Object.entries(rep.workloads)) (r.workloads[name] ??= []).push(...runs)
    if (rep.preload !== undefined) {
      r.preload ??= rep.preload
      preloadRate.push(rep.preload.announcesPerS)
      if (rep.preload.rssPerPeerBytes !== undefined) rss.push(rep.preload.rssPerPeerBytes)
    }
    r.checks.push(...rep.checks)
  }
  finishWorkloads(r)
  if (preloadRate.length > 0) r.figures.push({ name: 'preload.rps', value: round(median(preloadRate), 1), unit: 'announces/s', better: 'higher', runs: preloadRate, info: true })
  if (rss.length > 0) r.figures.push({ name: 'preload.rss_per_peer', value: round(median(rss), 1), unit: 'B', better: 'lower', runs: rss })
  return output(o, r, EXIT_OK)
}

export async function cmdHashes (o: Options): Promise<Outcome> {
  const pool = new TorrentPool(o.torrents, o.seed, o.skew)
  const lines: string[] = []
  for (let i = 0; i < pool.count; i++) lines.push(pool.hexHash(i))
  if (o.repro) for (const h of reproHashes()) lines.push(h.toString('hex'))
  return { stdout: lines.join('\n') + '\n', code: EXIT_OK }
}

export async function runCommand (o: Options): Promise<Outcome> {
  switch (o.command) {
    case 'udp': return await cmdUdp(o)
    case 'http': return await cmdHttp(o)
    case 'preload': return await cmdPreload(o)
    case 'repro-10k': return await cmdRepro(o)
    case 'suite': return await cmdSuite(o)
    case 'compare': return await cmdCompare(o)
    case 'hashes': return await cmdHashes(o)
    case 'merge': return await cmdMerge(o)
  }
}

