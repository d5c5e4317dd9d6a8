/**
 * otbench's command line: `otbench <command> [flags]`. Pure: returns what to do, never exits or
 * prints, so every flag and default is unit-tested.
 */
import { parseArgs as parseNodeArgs } from 'node:util'
import { EVENT_MIX_NAMES, type Skew } from './pool.js'
import { parseTarget, type Target } from './target.js'
import { parseCount, parseDurationMs, parseMix, parsePercent } from './units.js'

export const COMMANDS = ['udp', 'http', 'preload', 'repro-10k', 'suite', 'compare', 'merge', 'hashes'] as const
export type CommandName = typeof COMMANDS[number]

export interface Options {
  command: CommandName
  /** Targets: one per protocol (suite takes a udp:// and an http:// one). */
  targets: Target[]
  /** Shell command that starts the tracker for the run. */
  spawn: string | undefined
  /** The tracker's pid (RSS and CPU figures); found by itself with --spawn. */
  pid: number | undefined
  /** Pin with taskset: the spawned tracker to the last CPU, otbench to CPU 0. */
  pin: boolean
  durationMs: number
  warmupMs: number
  runs: number
  /** UDP sockets, or HTTP connections (concurrent requests with --new-connection). */
  connections: number
  /** UDP requests in flight per socket. */
  window: number
  /** HTTP requests in flight per keep-alive connection. */
  pipelining: number
  newConnection: boolean
  engine: 'net' | 'autocannon'
  httpVersion: '1.0' | '1.1'
  /** Share of requests that are scrapes (from --mix). */
  scrapeShare: number
  /** started, none, completed, stopped weights (from --events). */
  events: number[]
  numwant: number
  scrapeHashes: number
  torrents: number
  peers: number
  seederShare: number
  seed: number
  skew: Skew
  timeoutMs: number
  connectRefreshMs: number
  /** Print the JSON report on stdout instead of text. */
  json: boolean
  /** Write the JSON report here, and the chart beside it. */
  out: string | undefined
  /** Chart path (default: beside --out, or beside NEW for compare). */
  chart: string | undefined
  /** Peers per torrent for preload (and the suite's preload; 0 skips it there). */
  peersPerTorrent: number
  settleMs: number
  /** repro-10k: the rate to sustain. */
  rate: number
  /** repro-10k: send ip= like testsuite.sh. */
  sendIp: boolean
  /** compare: BASE.json [BASE2.json …] NEW.json; merge: the reports to pool. */
  files: string[]
  maxRegression: number
  /** compare: only figures whose names start with one of these. */
  only: string[]
  /** suite: the CI version (fewer, shorter runs). */
  short: boolean
  /** suite: fail unless the floors below hold. */
  gate: boolean
  gateUdp: number
  gateHttp: number
  gateRssPerPeer: number
  /** hashes: also print the 16 hashes of repro-10k. */
  repro: boolean
}

export type CliResult =
  | { kind: 'run', options: Options }
  | { kind: 'help', text: string }
  | { kind: 'version' }
  | { kind: 'error', message: string }

export const USAGE = `Usage: otbench <command> [flags]

Load generator and benchmark reporter for BitTorrent trackers (UDP BEP 15 and HTTP).

Commands:
  udp         BEP 15 announces and scrapes from many sockets, a window in flight on each
  http        HTTP announces and scrapes, keep-alive or --new-connection per request
  preload     fill a tracker with N torrents x M peers; RSS growth per peer with --pid/--spawn
  repro-10k   opentracker's testsuite.sh load (16 torrents, ip=, a new connection per request);
              does the target sustain 10,000 requests/s for 30 s?
  suite       the standard set: preload, UDP announce and scrape, HTTP keep-alive and new
              connection; with --gate, fail below the CI floors
  compare     otbench compare BASE.json NEW.json [--max-regression 10%]; with several bases
              (BASE.json BASE2.json ... NEW.json), one table with NEW's ratio to each
  merge       otbench merge A.json B.json ... --out M.json: pool the runs of several reports
  hashes      print the pool's info_hashes in hex (a whitelist for opentracker's -w)

Target:
  --target URL          udp://host:port or http://host:port/announce (suite: one of each)
  --spawn 'CMD'         start the tracker, wait until it answers, stop it afterwards; without
                        --target, otd's listening log line says where (so -p 0 -P 0 works)
  --pid PID             the tracker's pid, for its CPU and RSS (found by itself with --spawn)
  --pin                 taskset: spawned tracker on the last CPU, otbench on CPU 0 (when
                        there are 2+ CPUs and taskset; the report says when it could not)

Run:
  -d, --duration TIME   measured time per run (default 10s; repro-10k 30s; suite --short 3s)
  --warmup TIME         load before measuring (default 1s)
  --runs N              repeat and report medians (default 1; suite 3)
  -c, --connections N   UDP sockets (default 8) or HTTP connections (default 50;
                        64 with --new-connection)
  -w, --window N        UDP requests in flight per socket (default 16, at most 255)
  -p, --pipelining N    HTTP requests in flight per keep-alive connection (default 1)
  --new-connection      HTTP: one connection per request (HTTP/1.0, as testsuite.sh)
  --engine net|autocannon  HTTP keep-alive client (default net)
  --http-version 1.0|1.1   default 1.1, or 1.0 with --new-connection
  --timeout TIME        a request without a reply counts as a timeout (udp 1s, http 5s)
  --connect-refresh TIME   new BEP 15 connection id this often (default 50s)

Workload (deterministic from --seed):
  --mix announce=N,scrape=N   request mix (default announce=100)
  --events started=N,none=N,completed=N,stopped=N   (default 5,90,3,2)
  --numwant N           peers asked for per announce (default 50)
  --scrape-hashes N     info_hashes per scrape (default 10)
  --torrents N          torrent pool, skewed like real trackers (default 100k)
  --peers N             peer pool (default 50k)
  --seeders PCT         share of peers that are seeders (default 30%)
  --skew aquatic|uniform   torrent popularity (default aquatic: 0.5 + e^(6.5 - 500 i/N))
  --seed N              (default 1)

Preload:
  --torrents N --peers-per-torrent M   (default 100k x 10 = 1M peers; M at most 64512)
  --settle TIME         wait before reading RSS after the last reply (default 2s)

repro-10k:
  --rate N              requests/s to sustain (default 10000)
  --no-ip               leave out ip= (for trackers that refuse it)

Output:
  --json                print the JSON report (environment, configuration, results) on stdout
  --out FILE            write the JSON report to FILE and a chart beside it (FILE.svg)
  --chart FILE          where to write the chart instead (compare: with one base only)

compare:
  --max-regression PCT  exit 1 when a figure is worse by more than this (default 10%)
  --only NAME,...       compare only figures whose names start with these

suite:
  --short               the CI version: 3 runs of 3 s, 1M-peer preload
  --gate                exit 1 unless UDP and HTTP keep-alive announces reach the floors and
                        RSS per peer stays under its ceiling:
  --gate-udp N  --gate-http N  --gate-rss-per-peer BYTES   (default 10000, 10000, 200)

Examples:
  otbench udp --target udp://127.0.0.1:6969 --duration 10s --runs 3
  otbench http --target http://127.0.0.1:6969/announce --new-connection
  otbench preload --spawn 'otd -i 127.0.0.1 -p 0 -P 0' --torrents 100k --peers-per-torrent 10
  otbench repro-10k --target http://127.0.0.1:6969/announce
  otbench suite --spawn 'otd -i 127.0.0.1 -p 0 -P 0' --out bench/results/today.json
  otbench compare base.json new.json --max-regression 10%
  otbench compare opentracker.json bittorrent-tracker.json otd.json --max-regression 100%
`

const FLAGS = {
  target: { type: 'string', multiple: true },
  spawn: { type: 'string' },
  pid: { type: 'string' },
  pin: { type: 'boolean' },
  duration: { type: 'string', short: 'd' },
  warmup: { type: 'string' },
  runs: { type: 'string' },
  connections: { type: 'string', short: 'c' },
  window: { type: 'string', short: 'w' },
  pipelining: { type: 'string', short: 'p' },
  'new-connection': { type: 'boolean' },
  engine: { type: 'string' },
  'http-version': { type: 'string' },
  timeout: { type: 'string' },
  'connect-refresh': { type: 'string' },
  mix: { type: 'string' },
  events: { type: 'string' },
  numwant: { type: 'string' },
  'scrape-hashes': { type: 'string' },
  torrents: { type: 'string' },
  peers: { type: 'string' },
  seeders: { type: 'string' },
  skew: { type: 'string' },
  seed: { type: 'string' },
  'peers-per-torrent': { type: 'string' },
  settle: { type: 'string' },
  rate: { type: 'string' },
  'no-ip': { type: 'boolean' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  chart: { type: 'string' },
  'max-regression': { type: 'string' },
  only: { type: 'string' },
  short: { type: 'boolean' },
  gate: { type: 'boolean' },
  'gate-udp': { type: 'string' },
  'gate-http': { type: 'string' },
  'gate-rss-per-peer': { type: 'string' },
  repro: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' }
} as const

class UsageError extends Error {}

function count (v: string | undefined, flag: string, dflt: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt
  const n = parseCount(v)
  if (n === undefined || n < min || n > max) throw new UsageError(`--${flag}: expected a whole number ${min}-${max}${max === Number.MAX_SAFE_INTEGER ? '' : ''} (k and M suffixes allowed): ${v}`)
  return n
}

function duration (v: string | undefined, flag: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt
  const ms = parseDurationMs(v)
  if (ms === undefined || ms < min) throw new UsageError(`--${flag}: expected a duration such as 500ms, 10s or 2m: ${v}`)
  return ms
}

function fraction (v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt
  const f = parsePercent(v)
  if (f === undefined || f > 1) throw new UsageError(`--${flag}: expected a percentage 0-100%: ${v}`)
  return f
}

function oneOf<T extends string> (v: string | undefined, flag: string, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${flag}: one of ${allowed.join(', ')}: ${v}`)
  return v as T
}

export function parseArgs (argv: readonly string[]): CliResult {
  const first = argv[0]
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { kind: 'help', text: USAGE }
  if (first === '-v' || first === '--version') return { kind: 'version' }
  if (!(COMMANDS as readonly string[]).includes(first)) return { kind: 'error', message: `unknown command: ${first} (one of ${COMMANDS.join(', ')})` }
  const command = first as CommandName
  let parsed
  try {
    parsed = parseNodeArgs({ args: argv.slice(1) as string[], options: FLAGS, allowPositionals: true, strict: true })
  } catch (err) {
    return { kind: 'error', message: err instanceof Error ? err.message.replace(/\. To specify.*$/s, '') : String(err) }
  }
  const v = parsed.values
  if (v.help === true) return { kind: 'help', text: USAGE }
  if (v.version === true) return { kind: 'version' }
  try {
    return { kind: 'run', options: build(command, v, parsed.positionals) }
  } catch (err) {
    if (err instanceof UsageError) return { kind: 'error', message: err.message }
    throw err
  }
}

type Values = ReturnType<typeof parseNodeArgs<{ args: string[], options: typeof FLAGS, allowPositionals: true, strict: true }>>['values']

function build (command: CommandName, v: Values, positionals: string[]): Options {
  if (command === 'compare') {
    if (positionals.length < 2) throw new UsageError('compare: expected BASE.json NEW.json (or BASE.json BASE2.json ... NEW.json)')
    if (positionals.length > 2 && v.chart !== undefined) throw new UsageError('compare: --chart takes one base; with several, each chart is written beside NEW')
  } else if (command === 'merge') {
    if (positionals.length < 1) throw new UsageError('merge: expected one or more report files')
  } else if (positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument ${positionals[0]!}`)
  }
  const targets: Target[] = []
  for (const t of v.target ?? []) {
    const r = parseTarget(t)
    if (!r.ok) throw new UsageError(`--target: ${r.error}`)
    if (targets.some((x) => x.protocol === r.target.protocol)) throw new UsageError(`--target: only one ${r.target.protocol} target`)
    targets.push(r.target)
  }
  const needsTarget = command === 'udp' || command === 'http' || command === 'preload' || command === 'repro-10k' || command === 'suite'
  if (needsTarget && targets.length === 0 && v.spawn === undefined) throw new UsageError(`${command}: --target URL or --spawn 'CMD' is required`)
  const wantProtocol = command === 'udp' || command === 'preload' ? 'udp' : command === 'http' || command === 'repro-10k' ? 'http' : null
  if (wantProtocol !== null && targets.length > 0 && !targets.some((t) => t.protocol === wantProtocol)) {
    throw new UsageError(`${command}: needs a ${wantProtocol}:// target`)
  }

  const newConnection = v['new-connection'] === true || command === 'repro-10k'
  const httpVersion = oneOf(v['http-version'], 'http-version', ['1.0', '1.1'] as const, newConnection ? '1.0' : '1.1')
  const engine = oneOf(v.engine, 'engine', ['net', 'autocannon'] as const, 'net')
  if (engine === 'autocannon' && newConnection) throw new UsageError('--engine autocannon keeps connections alive; use the net engine for --new-connection')
  const isHttp = command === 'http' || command === 'repro-10k'

  let scrapeShare = 0
  if (v.mix !== undefined) {
    const m = parseMix(v.mix, ['announce', 'scrape'])
    if (typeof m === 'string') throw new UsageError(`--mix: ${m}`)
    scrapeShare = m[1]!
  }
  let events = [5, 90, 3, 2].map((x) => x / 100)
  if (v.events !== undefined) {
    const m = parseMix(v.events, EVENT_MIX_NAMES)
    if (typeof m === 'string') throw new UsageError(`--events: ${m}`)
    events = m
  }
  const short = v.short === true
  const pid = v.pid === undefined ? undefined : count(v.pid, 'pid', 0)
  const defaultDuration = command === 'repro-10k' ? 30_000 : short ? 3000 : 10_000
  const files = command === 'compare' || command === 'merge' ? positionals : []
  const only = v.only === undefined ? [] : v.only.split(',').map((s) => s.trim()).filter((s) => s !== '')

  return {
    command,
    targets,
    spawn: v.spawn,
    pid,
    pin: v.pin === true,
    durationMs: duration(v.duration, 'duration', defaultDuration, 100),
    warmupMs: duration(v.warmup, 'warmup', 1000),
    runs: count(v.runs, 'runs', command === 'suite' ? 3 : 1, 1, 1000),
    connections: count(v.connections, 'connections', isHttp ? (newConnection ? 64 : 50) : 8, 1, 100_000),
    window: count(v.window, 'window', command === 'preload' ? 64 : 16, 1, 255),
    pipelining: count(v.pipelining, 'pipelining', 1, 1, 1024),
    newConnection,
    engine,
    httpVersion,
    scrapeShare,
    events,
    numwant: count(v.numwant, 'numwant', 50, 0, 0xffffffff),
    scrapeHashes: count(v['scrape-hashes'], 'scrape-hashes', 10, 1, 74),
    torrents: count(v.torrents, 'torrents', 100_000, 1, 100_000_000),
    peers: count(v.peers, 'peers', 50_000, 1, 10_000_000),
    seederShare: fraction(v.seeders, 'seeders', 0.3),
    seed: count(v.seed, 'seed', 1, 0, 0xffffffff),
    skew: oneOf(v.skew, 'skew', ['aquatic', 'uniform'] as const, 'aquatic'),
    timeoutMs: duration(v.timeout, 'timeout', isHttp ? 5000 : 1000, 1),
    connectRefreshMs: duration(v['connect-refresh'], 'connect-refresh', 50_000, 1000),
    json: v.json === true,
    out: v.out,
    chart: v.chart,
    peersPerTorrent: count(v['peers-per-torrent'], 'peers-per-torrent', 10, 0, 64_512),
    settleMs: duration(v.settle, 'settle', 2000),
    rate: count(v.rate, 'rate', 10_000),
    sendIp: v['no-ip'] !== true,
    files,
    maxRegression: fraction(v['max-regression'], 'max-regression', 0.1),
    only,
    short,
    gate: v.gate === true,
    gateUdp: count(v['gate-udp'], 'gate-udp', 10_000),
    gateHttp: count(v['gate-http'], 'gate-http', 10_000),
    gateRssPerPeer: count(v['gate-rss-per-peer'], 'gate-rss-per-peer', 200),
    repro: v.repro === true
  }
}
