/**
 * otd's settings: opentracker's config-file keys (reference §2.2) plus otd's own, in one table.
 * The command line (cli-args.ts) and the config file (`-f`) both go through {@link applySetting},
 * in order, so a flag and its key always mean the same thing and a later one overrides an
 * earlier one. Unlike opentracker, an unknown key or a bad value is an error naming the file and
 * line, never a silent skip. `--print-config` prints the result in the same `key value` format.
 */
import { readFileSync } from 'node:fs'
import { FAMILY_INVALID, FAMILY_V4, formatNet, parseAddress, parseNet } from '@otd/proto'
import {
  DEFAULT_PORT, MAY_ADMIN, MAY_ALL, MAY_FULLSCRAPE, MAY_LIVESYNC, MAY_PROXY, MAY_STAT, MAY_SYNC, defaultOptions,
  type Blessing, type ListenSpec, type TrackerOptions
} from './config.js'

/** Default live sync port (opentracker). */
export const LIVESYNC_PORT = 9696

export interface Settings {
  /** Tracker options; `http`/`udp` hold only what was asked for (see {@link finishSettings}). */
  tracker: TrackerOptions
  /** `-d`/`tracker.rootdir`: working directory after binding ('' for none). */
  rootdir: string
  /** `-u`/`tracker.user`: user to drop to when started as root. */
  user: string
  logLevel: string
  /** `-l`/`tracker.statedump_load`: opentracker state dumps to load after start-up. */
  loadStateDumps: string[]
  /** The config files read, in order (for --print-config and logs). */
  configFiles: string[]
  /** Current `-i` address for the following `-p`/`-P`/`-s`. */
  currentIp: string
  /** Keys that are accepted for compatibility but have no effect in otd, with why. */
  notes: string[]
  /** `livesync.unicast.key_file`: where the live sync key was read from ('' when given inline or not at all). */
  livesyncKeyFile: string
  /** `--workers`/`tracker.workers`: worker threads sharing the ports, each owning a shard of the torrents (docs/workers.md). */
  workers: number
}

export function newSettings (): Settings {
  const tracker = defaultOptions()
  tracker.http = []
  tracker.udp = []
  return { tracker, rootdir: '', user: 'nobody', logLevel: 'info', loadStateDumps: [], configFiles: [], currentIp: '::', notes: [], livesyncKeyFile: '', workers: 1 }
}

/** After all flags and files: with nothing bound, bind TCP and UDP 6969 on the current address (opentracker). */
export function finishSettings (s: Settings): Settings {
  if (s.tracker.http.length === 0 && s.tracker.udp.length === 0) {
    s.tracker.http.push({ host: s.currentIp, port: DEFAULT_PORT })
    s.tracker.udp.push({ host: s.currentIp, port: DEFAULT_PORT })
  }
  return s
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const scratch = new Uint32Array(4)

/** `1.2.3.4`, `1.2.3.4:80`, `[::1]`, `[::1]:80`, `::1` (reference §2.2). Null when invalid. */
export function parseHostPort (text: string, defaultPort: number): ListenSpec | null {
  let host = text
  let port = defaultPort
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0) return null
    host = text.slice(1, close)
    const rest = text.slice(close + 1)
    if (rest !== '') {
      if (!rest.startsWith(':')) return null
      port = parsePort(rest.slice(1))
    }
  } else {
    const colon = text.indexOf(':')
    if (colon >= 0 && colon === text.lastIndexOf(':')) {
      host = text.slice(0, colon)
      port = parsePort(text.slice(colon + 1))
    }
  }
  if (port < 0 || parseAddress(host, scratch) === FAMILY_INVALID || host.startsWith('::ffff:')) return null
  return { host, port }
}

export function parsePort (text: string | undefined): number {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return -1
  const n = Number(text)
  return n <= 65535 ? n : -1
}

function parseBool (v: string): boolean | null {
  const l = v.toLowerCase()
  if (['yes', 'true', 'on', '1'].includes(l)) return true
  if (['no', 'false', 'off', '0'].includes(l)) return false
  return null
}

type Apply = (s: Settings, value: string) => string | null

/** A whole number (at most `digits` digits, at least `min`) of `unit` for a numeric tracker option. */
function integer (field: keyof TrackerOptions, min: number, unit: string, digits = 9): Apply {
  const re = new RegExp(`^\\d{1,${digits}}$`)
  return (s, v) => {
    if (!re.test(v) || Number(v) < min) return `a whole number of ${unit} >= ${min} is required`
    ;(s.tracker as unknown as Record<string, number>)[field] = Number(v)
    return null
  }
}

const seconds = (field: keyof TrackerOptions, min: number): Apply => integer(field, min, 'seconds')

const SIZE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }

/** A size in bytes with an optional K, M, G or T suffix (powers of 1024), e.g. `512M`. */
function size (field: keyof TrackerOptions): Apply {
  return (s, v) => {
    const m = /^(\d{1,12})([kmgt]?)i?b?$/i.exec(v)
    if (m === null) return 'a size in bytes is required, optionally with K, M, G or T (e.g. 512M; 0 for no limit)'
    ;(s.tracker as unknown as Record<string, number>)[field] = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!
    return null
  }
}

/** Prints a byte count with the largest exact K/M/G/T suffix. */
export function formatSize (n: number): string {
  for (const [u, f] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (n >= f && n % f === 0) return `${n / f}${u}`
  }
  return String(n)
}

function bless (perms: number, restrictsStats = false): Apply {
  return (s, v) => {
    const net = parseNet(v)
    if (net === null) return 'an IPv4 or IPv6 address, optionally with /bits, is required'
    const text = formatNet(net)
    const existing = s.tracker.blessed.find((b) => b.net === text)
    if (existing !== undefined) existing.perms |= perms
    else s.tracker.blessed.push({ net: text, perms })
    if (restrictsStats) s.tracker.statsRestricted = true
    return null
  }
}

function listen (tcp: boolean, udp: boolean): Apply {
  return (s, v) => {
    const spec = parseHostPort(v, DEFAULT_PORT)
    if (spec === null) return 'ip[:port] is required (e.g. 0.0.0.0:6969, [::]:6969, ::1)'
    if (tcp) s.tracker.http.push({ ...spec })
    if (udp) s.tracker.udp.push({ ...spec })
    return null
  }
}

function path (set: (s: Settings, v: string) => void): Apply {
  return (s, v) => {
    if (v === '') return 'a path is required'
    set(s, v)
    return null
  }
}

/** Requests per second for a rate limit: a decimal number (`0.5`, `20`), 0 for no limit. */
function requestsPerSecond (field: 'announceRatePerSecond' | 'scrapeRatePerSecond'): Apply {
  return (s, v) => {
    if (!/^\d{1,7}(?:\.\d{1,6})?$/.test(v) || Number(v) > 1_000_000) return 'a number of requests per second (0 to 1000000, e.g. 20 or 0.5) is required'
    s.tracker[field] = Number(v)
    return null
  }
}

const flushSeconds: Apply = (s, v) => {
  if (!/^\d{1,6}$/.test(v) || Number(v) < 1) return 'a whole number of seconds >= 1 is required'
  s.tracker.livesyncFlushMs = Number(v) * 1000
  return null
}

/** Every key otd understands, in the order --print-config prints them. */
export const SETTING_KEYS: Record<string, { apply: Apply, help: string }> = {
  'listen.tcp_udp': { apply: listen(true, true), help: 'ip[:port]: serve HTTP and UDP (repeatable)' },
  'listen.tcp': { apply: listen(true, false), help: 'ip[:port]: serve HTTP (repeatable)' },
  'listen.udp': { apply: listen(false, true), help: 'ip[:port]: serve UDP (repeatable)' },
  'listen.udp.workers': {
    apply: (s, v) => {
      if (!/^\d{1,3}$/.test(v)) return 'a number of workers is required'
      s.notes.push('listen.udp.workers has no effect: use tracker.workers (--workers), which shares UDP and HTTP over worker threads')
      return null
    },
    help: 'N: accepted for compatibility; no effect (see tracker.workers)'
  },
  'tracker.workers': {
    apply: (s, v) => {
      if (!/^\d{1,2}$/.test(v) || Number(v) < 1 || Number(v) > 64) return 'a number of workers from 1 to 64 is required'
      s.workers = Number(v)
      return null
    },
    help: 'N: worker threads sharing the ports, each owning a shard of the torrents (--workers; default 1, see docs/workers.md)'
  },
  'tracker.rootdir': { apply: path((s, v) => { s.rootdir = v }), help: 'dir: working directory after binding (-d)' },
  'tracker.user': { apply: path((s, v) => { s.user = v }), help: 'name: user to run as when started as root (-u; default nobody)' },
  'tracker.redirect_url': {
    apply: (s, v) => {
      if (!/^[\x21-\x7e]+$/.test(v)) return 'a URL without spaces or control characters is required'
      s.tracker.redirectUrl = v
      return null
    },
    help: 'url: where GET / redirects (-r)'
  },
  'access.whitelist': { apply: path((s, v) => { s.tracker.whitelistFile = v }), help: 'file: allow-list of info_hashes (-w)' },
  'access.blacklist': { apply: path((s, v) => { s.tracker.blacklistFile = v }), help: 'file: deny-list of info_hashes (-b)' },
  'access.fifo_add': { apply: path((s, v) => { s.tracker.fifoAddPath = v }), help: 'fifo: hashes written here are added to the list' },
  'access.fifo_delete': { apply: path((s, v) => { s.tracker.fifoDeletePath = v }), help: 'fifo: hashes written here are removed from the list' },
  'access.stats': { apply: bless(MAY_STAT, true), help: 'ip[/bits]: may read /stats and /metrics (restricts them to such addresses)' },
  'access.stats_path': {
    apply: (s, v) => {
      const p = v.replace(/^\/+/, '')
      if (p === '' || Buffer.byteLength(p) > 64 || /[\s?%]/.test(p)) return 'a path of at most 64 bytes without spaces, ? or % is required'
      s.tracker.statsPath = p
      return null
    },
    help: 'path: serve stats at /path instead of /stats'
  },
  'access.proxy': { apply: bless(MAY_PROXY), help: 'ip[/bits]: trusted proxy, X-Forwarded-For honoured' },
  'access.stats_restricted': {
    apply: (s, v) => { const b = parseBool(v); if (b === null) return 'yes or no is required'; s.tracker.statsRestricted = b; return null },
    help: 'yes|no: stats only for blessed addresses (set by any access.stats line)'
  },
  'access.bless': { apply: bless(MAY_ALL), help: 'ip[/bits]: every permission, like -A' },
  'access.fullscrape': { apply: bless(MAY_FULLSCRAPE), help: 'ip[/bits]: exempt from access.fullscrape_interval' },
  'access.admin': { apply: bless(MAY_ADMIN | MAY_STAT), help: 'ip[/bits]: may use the admin endpoint (/otd/...)' },
  'access.fullscrape_interval': { apply: seconds('fullScrapeIntervalSeconds', 0), help: 'seconds: one full scrape per address per interval (0: unlimited)' },
  'limits.fullscrape_burst': { apply: integer('fullScrapeBurst', 1, 'full scrapes', 7), help: 'N: full scrapes an address may make at once before access.fullscrape_interval applies (default 1)' },
  'limits.announce_rate': { apply: requestsPerSecond('announceRatePerSecond'), help: 'N: announces per second per address, HTTP and UDP (0: unlimited, the default)' },
  'limits.announce_burst': { apply: integer('announceBurst', 1, 'announces', 9), help: 'N: announces an address may make at once (default 1000; at least the rate)' },
  'limits.scrape_rate': { apply: requestsPerSecond('scrapeRatePerSecond'), help: 'N: scrapes per second per address, HTTP and UDP (0: unlimited, the default)' },
  'limits.scrape_burst': { apply: integer('scrapeBurst', 1, 'scrapes', 9), help: 'N: scrapes an address may make at once (default 1000; at least the rate)' },
  'limits.table_size': { apply: integer('rateLimitTableSlots', 1024, 'addresses', 8), help: 'N: addresses the rate limiter remembers, 48 bytes each (default 65536)' },
  'limits.ipv6_prefix': {
    apply: (s, v) => {
      if (!/^\d{1,3}$/.test(v) || Number(v) < 16 || Number(v) > 128) return 'a prefix length of 16 to 128 bits is required'
      s.tracker.rateLimitIPv6PrefixBits = Number(v)
      return null
    },
    help: 'bits: IPv6 addresses are rate limited per prefix of this length (default 64)'
  },
  'livesync.cluster.listen': {
    apply: (s, v) => {
      if (s.tracker.livesyncListen !== null) return 'livesync.cluster.listen may be given only once'
      const spec = parseHostPort(v, LIVESYNC_PORT)
      if (spec === null) return 'ip[:port] is required'
      s.tracker.livesyncListen = spec
      return null
    },
    help: 'ip[:port]: live sync interface (default port 9696)'
  },
  'livesync.cluster.node_ip': { apply: bless(MAY_LIVESYNC), help: 'ip[/bits]: live sync packets accepted from here' },
  'livesync.cluster.group': {
    apply: (s, v) => {
      if (parseAddress(v, scratch) !== FAMILY_V4 || scratch[0]! >>> 28 !== 14) return 'an IPv4 multicast address (224.0.0.0/4) is required'
      s.tracker.livesyncGroup = v
      return null
    },
    help: 'ip: live sync multicast group (default 224.0.23.5)'
  },
  'livesync.unicast.listen': {
    apply: (s, v) => {
      if (s.tracker.livesyncUnicastListen !== null) return 'livesync.unicast.listen may be given only once'
      const spec = parseHostPort(v, LIVESYNC_PORT)
      if (spec === null) return 'ip[:port] is required'
      s.tracker.livesyncUnicastListen = spec
      return null
    },
    help: 'ip[:port]: receive authenticated live sync packets here (default port 9696)'
  },
  'livesync.unicast.peer': {
    apply: (s, v) => {
      const spec = parseHostPort(v, LIVESYNC_PORT)
      if (spec === null || spec.port === 0) return 'ip[:port] of another node is required'
      s.tracker.livesyncPeers.push(spec)
      return null
    },
    help: 'ip[:port]: send authenticated live sync packets to this node (repeatable)'
  },
  'livesync.unicast.key': {
    apply: (s, v) => {
      if (!/^(?:[0-9a-fA-F]{2}){16,64}$/.test(v)) return '32 to 128 hex digits (a 16 to 64-byte key) are required'
      s.tracker.livesyncKey = v.toLowerCase()
      s.livesyncKeyFile = ''
      return null
    },
    help: 'hex: shared key of authenticated live sync (prefer livesync.unicast.key_file)'
  },
  'livesync.unicast.key_file': {
    apply: (s, v) => {
      if (v === '') return 'a path is required'
      let text: string
      try {
        text = readFileSync(v, 'latin1').trim()
      } catch (err) {
        return `cannot read ${v}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`
      }
      if (!/^(?:[0-9a-fA-F]{2}){16,64}$/.test(text)) return `${v} must hold 32 to 128 hex digits (a 16 to 64-byte key)`
      s.tracker.livesyncKey = text.toLowerCase()
      s.livesyncKeyFile = v
      return null
    },
    help: 'file: read the live sync key (hex) from this file at start-up'
  },
  'livesync.flush_interval': { apply: flushSeconds, help: 'seconds: buffered live sync records go out at least this often (default 15)' },
  'batchsync.cluster.admin_ip': { apply: bless(MAY_SYNC), help: 'ip[/bits]: may use /sync' },
  'tracker.interval': { apply: seconds('announceIntervalSeconds', 1), help: 'seconds: base announce interval (default 1800)' },
  'tracker.interval_jitter': { apply: seconds('announceIntervalJitterSeconds', 0), help: 'seconds: spread of the interval (default 360)' },
  'tracker.numwant': {
    apply: integer('numwantDefault', 0, 'peers', 4),
    help: 'N: peers returned when the client does not say (default 50)'
  },
  'tracker.numwant_max': {
    apply: integer('numwantMax', 1, 'peers', 4),
    help: 'N: most peers in one HTTP reply (default 200)'
  },
  'tracker.scrape_max_hashes': {
    apply: integer('scrapeMaxHashes', 1, 'info_hashes', 4),
    help: 'N: most info_hashes in one HTTP scrape (default 64)'
  },
  'tracker.peer_timeout': { apply: seconds('peerTimeoutSeconds', 1), help: 'seconds: peers expire after this (default 2700)' },
  'tracker.torrent_timeout': { apply: seconds('torrentTimeoutSeconds', 1), help: 'seconds: empty torrents with downloads kept this long (default 86400)' },
  'tracker.clean_pass': { apply: seconds('cleanPassSeconds', 1), help: 'seconds: duration of one cleaning pass (default 120)' },
  'tracker.max_torrents': {
    apply: integer('maxTorrents', 0, 'torrents', 10),
    help: 'N: most torrents held; the least recently active make room (0: no limit, default)'
  },
  'tracker.max_peers_per_torrent': {
    apply: integer('maxPeersPerTorrent', 0, 'peers', 10),
    help: 'N: most peers per torrent and address family; a stale peer makes room (0: no limit, default)'
  },
  'tracker.memory_limit': {
    apply: size('memoryLimitBytes'),
    help: 'size: budget for torrents and peers, e.g. 2G; least recently active torrents are evicted (0: none; default half of RAM)'
  },
  'tracker.external_ip': {
    apply: (s, v) => { const b = parseBool(v); if (b === null) return 'yes or no is required'; s.tracker.externalIp = b; return null },
    help: 'yes|no: BEP 24 external ip in HTTP announce replies (default no)'
  },
  'tracker.statefile': { apply: path((s, v) => { s.tracker.stateFile = v }), help: 'file: warm-restart state (peers and counts), loaded at start, written on exit' },
  'tracker.statefile_interval': { apply: seconds('stateFileIntervalSeconds', 0), help: 'seconds: also write the state file this often (0: only on exit; default 300)' },
  'tracker.statedump_load': { apply: path((s, v) => { s.loadStateDumps.push(v) }), help: 'file: load an opentracker statedump after start (-l)' },
  'http.idle_timeout': { apply: seconds('httpIdleTimeoutSeconds', 1), help: 'seconds: idle connections closed after this (default 30)' },
  'http.max_request_bytes': { apply: integer('httpMaxRequestBytes', 256, 'bytes'), help: 'bytes: largest request head (default 8192)' },
  'http.first_byte_timeout': { apply: seconds('httpFirstByteTimeoutSeconds', 1), help: 'seconds: a new connection must send its first byte within this (default 10)' },
  'http.request_timeout': { apply: seconds('httpRequestTimeoutSeconds', 1), help: 'seconds: a request head must be complete this long after its first byte (default 10)' },
  'http.max_connections': { apply: integer('httpMaxConnections', 1, 'connections'), help: 'N: most open HTTP connections; more are reset at once (default 16384)' },
  'http.max_connections_per_address': {
    apply: integer('httpMaxConnectionsPerAddress', 1, 'connections'),
    help: 'N: most open HTTP connections per IPv4 address or IPv6 /64; access.proxy addresses exempt (default 128)'
  },
  'udp.connection_id_max_age': { apply: seconds('udpConnectionIdMaxAgeSeconds', 120), help: 'seconds: connection ids accepted this long (default 300)' },
  'log.level': {
    apply: (s, v) => { if (!LOG_LEVELS.includes(v)) return `one of ${LOG_LEVELS.join(', ')} is required`; s.logLevel = v; return null },
    help: 'level: fatal, error, warn, info, debug, trace, silent'
  }
}

/** `-A`: every permission. */
export const applyBlessAll: Apply = bless(MAY_ALL)

/** Applies one `key value`; returns an error message or null. */
export function applySetting (s: Settings, key: string, value: string): string | null {
  const entry = Object.hasOwn(SETTING_KEYS, key) ? SETTING_KEYS[key] : undefined
  if (entry === undefined) return `unknown key ${JSON.stringify(key)}`
  return entry.apply(s, value)
}

/**
 * Applies a config file's text (reference §2.2 syntax: `key value`, `#` comment lines, blank
 * lines; leading and trailing whitespace trimmed). Returns the first error as `file:line: ...`.
 */
export function applyConfigText (s: Settings, text: string, file: string): string | null {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^(\S+)\s+(.*)$/.exec(line)
    const where = `${file}:${i + 1}`
    if (m === null) return `${where}: a value is missing: ${JSON.stringify(line)}`
    const err = applySetting(s, m[1]!, m[2]!.trim())
    if (err !== null) return `${where}: ${m[1]!}: ${err}`
  }
  return null
}

/** Reads and applies a config file (`-f`). A missing or unreadable file is an error (opentracker only warns). */
export function applyConfigFile (s: Settings, file: string): string | null {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    return `${file}: cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`
  }
  s.configFiles.push(file)
  return applyConfigText(s, text, file)
}

function hostPortText (l: ListenSpec): string {
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`
}

/** The effective configuration as a config file otd accepts (`otd --print-config`). */
export function formatSettings (s: Settings): string {
  const t = s.tracker
  const d = defaultOptions()
  const out: string[] = ['# otd effective configuration' + (s.configFiles.length > 0 ? ` (from ${s.configFiles.join(', ')} and flags)` : '')]
  // Listeners in their order (which is the order they are bound and reported in): one HTTP and one
  // UDP listener on the same address in step become listen.tcp_udp; read back, both lists are the same.
  let j = 0
  for (const h of t.http) {
    const u = t.udp[j]
    if (u !== undefined && u.host === h.host && u.port === h.port) {
      out.push(`listen.tcp_udp ${hostPortText(h)}`)
      j++
    } else {
      out.push(`listen.tcp ${hostPortText(h)}`)
    }
  }
  for (; j < t.udp.length; j++) out.push(`listen.udp ${hostPortText(t.udp[j]!)}`)
  const kv = (k: string, v: string | number | boolean, dflt?: string | number | boolean): void => {
    out.push(`${v === dflt ? '# ' : ''}${k} ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : v}`)
  }
  if (s.rootdir !== '') kv('tracker.rootdir', s.rootdir)
  kv('tracker.user', s.user, 'nobody')
  kv('tracker.workers', s.workers, 1)
  if (t.redirectUrl !== '') kv('tracker.redirect_url', t.redirectUrl)
  if (t.whitelistFile !== '') kv('access.whitelist', t.whitelistFile)
  if (t.blacklistFile !== '') kv('access.blacklist', t.blacklistFile)
  if (t.fifoAddPath !== '') kv('access.fifo_add', t.fifoAddPath)
  if (t.fifoDeletePath !== '') kv('access.fifo_delete', t.fifoDeletePath)
  for (const b of t.blessed) out.push(...blessingLines(b))
  kv('access.stats_restricted', t.statsRestricted)
  kv('access.stats_path', t.statsPath, d.statsPath)
  kv('access.fullscrape_interval', t.fullScrapeIntervalSeconds, d.fullScrapeIntervalSeconds)
  kv('limits.fullscrape_burst', t.fullScrapeBurst, d.fullScrapeBurst)
  kv('limits.announce_rate', t.announceRatePerSecond, d.announceRatePerSecond)
  kv('limits.announce_burst', t.announceBurst, d.announceBurst)
  kv('limits.scrape_rate', t.scrapeRatePerSecond, d.scrapeRatePerSecond)
  kv('limits.scrape_burst', t.scrapeBurst, d.scrapeBurst)
  kv('limits.table_size', t.rateLimitTableSlots, d.rateLimitTableSlots)
  kv('limits.ipv6_prefix', t.rateLimitIPv6PrefixBits, d.rateLimitIPv6PrefixBits)
  if (t.livesyncListen !== null) kv('livesync.cluster.listen', hostPortText(t.livesyncListen))
  kv('livesync.cluster.group', t.livesyncGroup, d.livesyncGroup)
  if (t.livesyncUnicastListen !== null) kv('livesync.unicast.listen', hostPortText(t.livesyncUnicastListen))
  for (const p of t.livesyncPeers) kv('livesync.unicast.peer', hostPortText(p))
  if (s.livesyncKeyFile !== '') kv('livesync.unicast.key_file', s.livesyncKeyFile)
  else if (t.livesyncKey !== '') kv('livesync.unicast.key', t.livesyncKey)
  if (t.livesyncFlushMs % 1000 === 0) kv('livesync.flush_interval', t.livesyncFlushMs / 1000, d.livesyncFlushMs / 1000)
  kv('tracker.interval', t.announceIntervalSeconds, d.announceIntervalSeconds)
  kv('tracker.interval_jitter', t.announceIntervalJitterSeconds, d.announceIntervalJitterSeconds)
  kv('tracker.numwant', t.numwantDefault, d.numwantDefault)
  kv('tracker.numwant_max', t.numwantMax, d.numwantMax)
  kv('tracker.scrape_max_hashes', t.scrapeMaxHashes, d.scrapeMaxHashes)
  kv('tracker.peer_timeout', t.peerTimeoutSeconds, d.peerTimeoutSeconds)
  kv('tracker.torrent_timeout', t.torrentTimeoutSeconds, d.torrentTimeoutSeconds)
  kv('tracker.clean_pass', t.cleanPassSeconds, d.cleanPassSeconds)
  kv('tracker.max_torrents', t.maxTorrents, d.maxTorrents)
  kv('tracker.max_peers_per_torrent', t.maxPeersPerTorrent, d.maxPeersPerTorrent)
  kv('tracker.memory_limit', formatSize(t.memoryLimitBytes), formatSize(d.memoryLimitBytes))
  kv('tracker.external_ip', t.externalIp, d.externalIp)
  if (t.stateFile !== '') kv('tracker.statefile', t.stateFile)
  kv('tracker.statefile_interval', t.stateFileIntervalSeconds, d.stateFileIntervalSeconds)
  for (const f of s.loadStateDumps) kv('tracker.statedump_load', f)
  kv('http.idle_timeout', t.httpIdleTimeoutSeconds, d.httpIdleTimeoutSeconds)
  kv('http.max_request_bytes', t.httpMaxRequestBytes, d.httpMaxRequestBytes)
  kv('http.first_byte_timeout', t.httpFirstByteTimeoutSeconds, d.httpFirstByteTimeoutSeconds)
  kv('http.request_timeout', t.httpRequestTimeoutSeconds, d.httpRequestTimeoutSeconds)
  kv('http.max_connections', t.httpMaxConnections, d.httpMaxConnections)
  kv('http.max_connections_per_address', t.httpMaxConnectionsPerAddress, d.httpMaxConnectionsPerAddress)
  kv('udp.connection_id_max_age', t.udpConnectionIdMaxAgeSeconds, d.udpConnectionIdMaxAgeSeconds)
  kv('log.level', s.logLevel, 'info')
  return out.join('\n') + '\n'
}

/** Config lines that give `b` its permissions (`-A` has no key of its own: all of them). */
function blessingLines (b: Blessing): string[] {
  // access.stats would also restrict stats; whether they are restricted is printed on its own.
  const keys: Array<[number, string]> = [[MAY_STAT | MAY_ADMIN, 'access.admin'], [MAY_STAT, 'access.stats'], [MAY_PROXY, 'access.proxy'],
    [MAY_FULLSCRAPE, 'access.fullscrape'], [MAY_LIVESYNC, 'livesync.cluster.node_ip'], [MAY_SYNC, 'batchsync.cluster.admin_ip']]
  if (b.perms === MAY_ALL) return [`access.bless ${b.net}`]
  const lines: string[] = []
  let left = b.perms
  for (const [p, k] of keys) {
    if ((left & p) === p) { lines.push(`${k} ${b.net}`); left &= ~p }
  }
  return lines
}
