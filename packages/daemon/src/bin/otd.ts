#!/usr/bin/env node
/**
 * The otd command: parse flags, build the logger, start the tracker, wire signals. Nothing else.
 * Exit codes: 0 normal, 1 usage or configuration error, 111 a listener could not be bound
 * (opentracker's code for the same failure).
 */
import { pino } from 'pino'
import { USAGE, parseArgs } from '../cli-args.js'
import { OT_ERR_BIND, OtdError } from '../errors.js'
import { createTracker, hostPort } from '../tracker.js'
import { VERSION } from '../version.js'

const args = parseArgs(process.argv.slice(2))
if (args.kind === 'help') {
  process.stderr.write(USAGE)
  process.exit(0)
}
if (args.kind === 'version') {
  process.stderr.write(`otd ${VERSION}\n`)
  process.exit(0)
}
if (args.kind === 'error') {
  process.stderr.write(`otd: ${args.message}\n\n${USAGE}`)
  process.exit(1)
}

const logger = pino({ level: args.logLevel, base: { name: 'otd' } })
const tracker = createTracker({ http: args.http, udp: args.udp, logger })

try {
  const bound = await tracker.listen()
  const list = (xs: typeof bound.http): string => xs.map((a) => hostPort(a.address, a.port)).join(' ')
  logger.info({ http: bound.http, udp: bound.udp, version: VERSION, pid: process.pid },
    `otd ${VERSION} listening: http ${list(bound.http) || '-'}, udp ${list(bound.udp) || '-'}`)
} catch (err) {
  const code = err instanceof OtdError && err.code === OT_ERR_BIND ? 111 : 1
  const message = err instanceof Error ? err.message : String(err)
  logger.fatal({ code: err instanceof OtdError ? err.code : undefined }, message)
  process.stderr.write(`otd: ${message}\n`)
  process.exit(code)
}

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  logger.info(`${signal}: shutting down`)
  void tracker.close().then(() => process.exit(0))
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
// SIGHUP reloads access lists once there are any; until then it must not kill the daemon.
process.on('SIGHUP', () => logger.info('SIGHUP: nothing to reload'))
