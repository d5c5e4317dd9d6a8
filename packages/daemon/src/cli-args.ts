/**
 * opentracker-compatible command line (reference §2.1), parsed in order like opentracker's getopt
 * loop: `-i ip` sets the address used by the following `-p` (TCP), `-P` (UDP) and `-s` (live
 * sync); `-f` reads a config file at that point; when no port was given anywhere, TCP and UDP
 * 6969 are bound on the last `-i` address (default `::`, dual stack). Every flag is a config key
 * (settings.ts), so flags and files mean the same and later ones override earlier ones.
 * Pure apart from reading `-f` files: returns what to do, never exits or prints.
 */
import { FAMILY_INVALID, parseAddress } from '@otd/proto'
import { DEFAULT_PORT } from './config.js'
import {
  LIVESYNC_PORT, LOG_LEVELS, applyBlessAll, applyConfigFile, applySetting, finishSettings, newSettings, parsePort,
  type Settings
} from './settings.js'

export type CliResult =
  | { kind: 'run', settings: Settings, printConfig: boolean }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error', message: string }

export const USAGE = `Usage: otd [-f file] [-i ip] [-p port] [-P port] [-r url] [-d dir] [-u user]
           [-A ip[/bits]] [-w file] [-b file] [-l file] [-s port] [--workers N] [-v] [-h]

otd, a BitTorrent tracker (HTTP and UDP, IPv4 and IPv6). Options apply in order, like opentracker:
  -f, --config FILE        read a config file now (opentracker format plus otd keys; see docs/configuration.md)
  -i, --ip ADDR            address for the following -p/-P/-s (IPv4 or IPv6, no brackets; default ::)
  -p, --port-tcp PORT      serve HTTP on ADDR:PORT (repeatable)
  -P, --port-udp PORT      serve UDP (BEP 15) on ADDR:PORT (repeatable)
  -r, --redirect-url URL   answer GET / with a 302 to URL
  -d, --rootdir DIR        working directory after binding (relative paths resolve there)
  -u, --user USER          user to run as when started as root (default nobody)
  -A, --bless IP[/BITS]    give an address or network every permission (stats, admin, proxy, sync)
  -w, --whitelist FILE     only info_hashes listed in FILE may be announced
  -b, --blacklist FILE     info_hashes listed in FILE may not be announced (both lists: deny wins)
  -l, --load-statedump F   load an opentracker state dump (HEX:minute:downloaded lines) after start
  -s, --livesync-port PORT live sync on ADDR:PORT
      --statefile FILE     warm-restart state file: loaded at start, written on exit and periodically
      --workers N          N worker threads on the same ports, each owning a shard of the torrents (default 1)
      --log-level LEVEL    fatal, error, warn, info (default), debug, silent
      --print-config       print the effective configuration and exit
  -v, --version            print the version and exit
  -h, --help               print this help and exit

Without -p, -P and listen.* keys, otd serves HTTP and UDP on port ${DEFAULT_PORT} of the last -i address.
SIGHUP reloads the access lists; SIGTERM/SIGINT finish replies, write the state file and exit.
Examples:
  otd                                  # [::]:6969 TCP and UDP, IPv4 and IPv6
  otd -i 0.0.0.0 -p 8080 -P 6969       # IPv4 only, HTTP on 8080, UDP on 6969
  otd -f /etc/otd/otd.conf -A 10.0.0.0/8 -w /etc/otd/whitelist
`

/** Flags that map to a config key taking the flag's value as is. */
const KEY_FLAGS: Record<string, string> = {
  '-r': 'tracker.redirect_url',
  '--redirect-url': 'tracker.redirect_url',
  '-d': 'tracker.rootdir',
  '--rootdir': 'tracker.rootdir',
  '-u': 'tracker.user',
  '--user': 'tracker.user',
  '-w': 'access.whitelist',
  '--whitelist': 'access.whitelist',
  '-b': 'access.blacklist',
  '--blacklist': 'access.blacklist',
  '-l': 'tracker.statedump_load',
  '--load-statedump': 'tracker.statedump_load',
  '--statefile': 'tracker.statefile',
  '--workers': 'tracker.workers',
  '--log-level': 'log.level'
}

export function parseArgs (argv: readonly string[]): CliResult {
  const s = newSettings()
  let printConfig = false
  const scratch = new Uint32Array(4)
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!
    let value: string | undefined
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    if (eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq) }
    // Short options may carry their value attached, as getopt allows: -p6969.
    if (value === undefined && /^-[a-zA-Z]./.test(arg) && !arg.startsWith('--')) { value = arg.slice(2); arg = arg.slice(0, 2) }
    const takeValue = (): string | undefined => value ?? argv[++i]
    const missing = (v: string | undefined): string => v ?? '(missing)'
    switch (arg) {
      case '-h': case '--help': return { kind: 'help' }
      case '-v': case '--version': return { kind: 'version' }
      case '--print-config': printConfig = true; break
      case '-f': case '--config': {
        const v = takeValue()
        if (v === undefined || v === '') return { kind: 'error', message: `${arg}: a config file is required` }
        const err = applyConfigFile(s, v)
        if (err !== null) return { kind: 'error', message: err }
        break
      }
      case '-i': case '--ip': {
        const v = takeValue()
        if (v === undefined || parseAddress(v, scratch) === FAMILY_INVALID || v.startsWith('::ffff:')) {
          return { kind: 'error', message: `${arg}: not an IPv4 or IPv6 address: ${missing(v)}` }
        }
        s.currentIp = v
        break
      }
      case '-p': case '--port-tcp': case '-P': case '--port-udp': case '-s': case '--livesync-port': {
        const v = takeValue()
        const port = parsePort(v)
        if (port < 0) return { kind: 'error', message: `${arg}: not a port number (0-65535): ${missing(v)}` }
        const spec = { host: s.currentIp, port }
        if (arg === '-p' || arg === '--port-tcp') s.tracker.http.push(spec)
        else if (arg === '-P' || arg === '--port-udp') s.tracker.udp.push(spec)
        else {
          if (s.tracker.livesyncListen !== null) return { kind: 'error', message: `${arg}: live sync may be configured only once` }
          s.tracker.livesyncListen = { host: s.currentIp, port: port === 0 ? LIVESYNC_PORT : port }
        }
        break
      }
      case '-A': case '--bless': {
        const v = takeValue()
        const err = applyBlessAll(s, v ?? '')
        if (err !== null) return { kind: 'error', message: `${arg}: ${err}: ${missing(v)}` }
        break
      }
      default: {
        const key = KEY_FLAGS[arg]
        if (key === undefined) return { kind: 'error', message: `unknown option: ${arg}` }
        const v = takeValue()
        if (v === undefined) {
          return { kind: 'error', message: `${arg}: a value is required${key === 'log.level' ? ` (${LOG_LEVELS.join(', ')})` : ''}` }
        }
        const err = applySetting(s, key, v)
        if (err !== null) return { kind: 'error', message: `${arg}: ${err}: ${v}` }
      }
    }
  }
  return { kind: 'run', settings: finishSettings(s), printConfig }
}
