/**
 * opentracker-compatible command line (reference §2.1), parsed in order like opentracker's getopt
 * loop: `-i ip` sets the address used by the following `-p` (TCP) and `-P` (UDP); when no port
 * was given at all, TCP and UDP 6969 are bound on the last `-i` address (default `::`, dual stack).
 * Pure: returns what to do, never exits or prints.
 */
import { FAMILY_INVALID, parseAddress } from '@otd/proto'
import { DEFAULT_PORT, type ListenSpec } from './config.js'

export type CliResult =
  | { kind: 'run', http: ListenSpec[], udp: ListenSpec[], logLevel: string }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error', message: string }

export const USAGE = `Usage: otd [-i ip] [-p port] [-P port] [-v] [-h]

otd, a BitTorrent tracker (HTTP and UDP, IPv4 and IPv6). Options are applied in order:
  -i, --ip ADDR          address for the following -p/-P (IPv4 or IPv6, no brackets;
                         repeatable; default :: which is dual stack)
  -p, --port-tcp PORT    serve HTTP on ADDR:PORT (repeatable)
  -P, --port-udp PORT    serve UDP (BEP 15) on ADDR:PORT (repeatable)
      --log-level LEVEL  fatal, error, warn, info (default), debug, silent
  -v, --version          print the version and exit
  -h, --help             print this help and exit

Without -p and -P, otd serves HTTP and UDP on port ${DEFAULT_PORT} of the last -i address.
Examples:
  otd                                  # [::]:6969 TCP and UDP, IPv4 and IPv6
  otd -i 0.0.0.0 -p 8080 -P 6969       # IPv4 only, HTTP on 8080, UDP on 6969
  otd -i 192.0.2.1 -P 6969 -i 2001:db8::1 -P 6969 -p 6969
`

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

function parsePort (text: string | undefined): number {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return -1
  const n = Number(text)
  return n <= 65535 ? n : -1
}

export function parseArgs (argv: readonly string[]): CliResult {
  const http: ListenSpec[] = []
  const udp: ListenSpec[] = []
  let host = '::'
  let logLevel = 'info'
  const scratch = new Uint32Array(4)
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!
    let value: string | undefined
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    if (eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq) }
    const takeValue = (): string | undefined => value ?? argv[++i]
    switch (arg) {
      case '-h': case '--help': return { kind: 'help' }
      case '-v': case '--version': return { kind: 'version' }
      case '-i': case '--ip': {
        const v = takeValue()
        if (v === undefined || parseAddress(v, scratch) === FAMILY_INVALID || v.startsWith('::ffff:')) {
          return { kind: 'error', message: `${arg}: not an IPv4 or IPv6 address: ${v ?? '(missing)'}` }
        }
        host = v
        break
      }
      case '-p': case '--port-tcp': case '-P': case '--port-udp': {
        const v = takeValue()
        const port = parsePort(v)
        if (port < 0) return { kind: 'error', message: `${arg}: not a port number (0-65535): ${v ?? '(missing)'}` }
        ;(arg === '-p' || arg === '--port-tcp' ? http : udp).push({ host, port })
        break
      }
      case '--log-level': {
        const v = takeValue()
        if (v === undefined || !LOG_LEVELS.has(v)) return { kind: 'error', message: `--log-level: one of ${[...LOG_LEVELS].join(', ')} is required` }
        logLevel = v
        break
      }
      default:
        return { kind: 'error', message: `unknown option: ${arg}` }
    }
  }
  if (http.length === 0 && udp.length === 0) {
    http.push({ host, port: DEFAULT_PORT })
    udp.push({ host, port: DEFAULT_PORT })
  }
  return { kind: 'run', http, udp, logLevel }
}
