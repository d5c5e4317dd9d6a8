/**
 * otsync's options: one typed object with one source of defaults, from flags and an optional
 * config file (`key value` lines, `#` comments, as otd's). Flags win over the file for single
 * values; nodes from both are used (file first, duplicates dropped).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

export interface OtsyncOptions {
  /** Base URLs of the nodes (`http://host:port`); `/sync` is appended. At least two. */
  nodes: string[]
  /** Seconds between rounds. Default 30. */
  intervalSeconds: number
  /** Per HTTP attempt. Default 5. */
  timeoutSeconds: number
  /** Attempts after the first, per request. Default 2. */
  retries: number
  /** First retry backoff in milliseconds (doubled per retry). Default 250. */
  backoffMs: number
  /** `since` of ordinary rounds; null: the node's default (300 s, opentracker's 5 minutes). */
  windowSeconds: number | null
  /** `since` of catch-up rounds (start-up, a node back or restarted). Default 2700 (otd's peer timeout). */
  fullWindowSeconds: number
  /** Do not push the same peer with the same flags to a node again within this many seconds. Default 300. */
  dedupeSeconds: number
  /** One round, then exit (for cron). */
  once: boolean
  /** With --once: a catch-up round (full window) instead of an ordinary one. */
  full: boolean
  /** Print each round's report as JSON on stdout (logs go to stderr). */
  json: boolean
  /** `host:port` of the /metrics and /status server, or null. Port 0 picks one (logged). */
  metrics: { host: string, port: number } | null
  logLevel: string
}

export function defaultOptions (): OtsyncOptions {
  return {
    nodes: [],
    intervalSeconds: 30,
    timeoutSeconds: 5,
    retries: 2,
    backoffMs: 250,
    windowSeconds: null,
    fullWindowSeconds: 2700,
    dedupeSeconds: 300,
    once: false,
    full: false,
    json: false,
    metrics: null,
    logLevel: 'info'
  }
}

export const USAGE = `Usage: otsync --node URL --node URL [...] [options]

Bridges /sync changesets between otd (or opentracker-style) nodes: every interval it fetches
GET /sync from each node, merges the peers and POSTs to each node the ones it lacks.
The nodes must bless this host for /sync (-A or batchsync.cluster.admin_ip).

  -n, --node URL          a node, e.g. http://10.0.0.1:6969 (repeatable; at least two in all)
  -c, --config FILE       read options from FILE (keys: node, interval, timeout, retries, window,
                          full_window, dedupe, metrics, log_level)
  -i, --interval SECONDS  time between rounds (default 30)
      --timeout SECONDS   per HTTP attempt (default 5)
      --retries N         retries per request, with exponential backoff (default 2)
      --window SECONDS    export window asked of the nodes (default: theirs, 300)
      --full-window SECS  window of catch-up rounds: start-up, a node back or restarted (default 2700)
      --dedupe SECONDS    do not push the same peer to a node again within this time (default 300)
      --once              run one round and exit: 0 all nodes synced, 2 some node failed
      --full              with --once: a catch-up round (full window)
      --json              print each round's report as JSON on stdout (logs go to stderr)
  -m, --metrics HOST:PORT serve /metrics (Prometheus) and /status (JSON) here
      --log-level LEVEL   fatal, error, warn, info (default), debug, trace, silent
  -h, --help              this text
  -v, --version           print the version
`

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

function whole (name: string, v: string, min: number): number {
  if (!/^\d{1,9}$/.test(v) || Number(v) < min) throw new Error(`${name}: a whole number >= ${min} is required, not ${JSON.stringify(v)}`)
  return Number(v)
}

function hostPort (name: string, v: string): { host: string, port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v)
  if (m === null || Number(m[3]) > 65535) throw new Error(`${name}: host:port is required, not ${JSON.stringify(v)}`)
  return { host: m[1] ?? m[2]!, port: Number(m[3]) }
}

function nodeUrl (v: string): string {
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new Error(`node: not a URL: ${JSON.stringify(v)} (e.g. http://10.0.0.1:6969)`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`node: ${v}: http or https is required`)
  return u.href.replace(/\/$/, '')
}

/** Applies one `key value` (file key names; flags map onto them). */
function apply (o: OtsyncOptions, key: string, v: string): void {
  switch (key) {
    case 'node': { const u = nodeUrl(v); if (!o.nodes.includes(u)) o.nodes.push(u); return }
    case 'interval': o.intervalSeconds = whole(key, v, 1); return
    case 'timeout': o.timeoutSeconds = whole(key, v, 1); return
    case 'retries': o.retries = whole(key, v, 0); return
    case 'window': o.windowSeconds = whole(key, v, 1); return
    case 'full_window': o.fullWindowSeconds = whole(key, v, 1); return
    case 'dedupe': o.dedupeSeconds = whole(key, v, 0); return
    case 'metrics': o.metrics = hostPort(key, v); return
    case 'log_level': if (!LEVELS.includes(v)) throw new Error(`log_level: one of ${LEVELS.join(', ')}`); o.logLevel = v; return
    default: throw new Error(`unknown key ${JSON.stringify(key)}`)
  }
}

/** Applies a config file's text; errors name `file:line`. */
export function applyConfigText (o: OtsyncOptions, text: string, file: string): void {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^(\S+)\s+(.+)$/.exec(line)
    if (m === null) throw new Error(`${file}:${i + 1}: a value is missing: ${JSON.stringify(line)}`)
    try {
      apply(o, m[1]!, m[2]!.trim())
    } catch (err) {
      throw new Error(`${file}:${i + 1}: ${(err as Error).message}`)
    }
  }
}

export type ParsedArgs = { kind: 'run', options: OtsyncOptions } | { kind: 'help' } | { kind: 'version' } | { kind: 'error', message: string }

/** Parses otsync's command line (and the config file it names). Never throws. */
export function parseOtsyncArgs (argv: string[]): ParsedArgs {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        node: { type: 'string', short: 'n', multiple: true },
        config: { type: 'string', short: 'c' },
        interval: { type: 'string', short: 'i' },
        timeout: { type: 'string' },
        retries: { type: 'string' },
        window: { type: 'string' },
        'full-window': { type: 'string' },
        dedupe: { type: 'string' },
        once: { type: 'boolean' },
        full: { type: 'boolean' },
        json: { type: 'boolean' },
        metrics: { type: 'string', short: 'm' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' }
      }
    })
    if (values.help === true) return { kind: 'help' }
    if (values.version === true) return { kind: 'version' }
    const o = defaultOptions()
    if (values.config !== undefined) {
      let text: string
      try {
        text = readFileSync(values.config, 'utf8')
      } catch (err) {
        throw new Error(`${values.config}: cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      }
      applyConfigText(o, text, values.config)
    }
    for (const n of values.node ?? []) apply(o, 'node', n)
    const single: Array<[string | undefined, string]> = [[values.interval, 'interval'], [values.timeout, 'timeout'], [values.retries, 'retries'],
      [values.window, 'window'], [values['full-window'], 'full_window'], [values.dedupe, 'dedupe'], [values.metrics, 'metrics'], [values['log-level'], 'log_level']]
    for (const [v, key] of single) if (v !== undefined) apply(o, key, v)
    o.once = values.once === true
    o.full = values.full === true
    o.json = values.json === true
    if (o.full && !o.once) throw new Error('--full goes with --once (a running otsync catches up by itself)')
    if (o.nodes.length < 2) throw new Error(`at least two nodes are needed (got ${o.nodes.length}); give them with --node or node lines in --config`)
    return { kind: 'run', options: o }
  } catch (err) {
    return { kind: 'error', message: err instanceof Error ? err.message : String(err) }
  }
}
