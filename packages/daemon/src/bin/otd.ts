#!/usr/bin/env node
/**
 * The otd command: parse flags (and config files), build the logger, bind, drop privileges,
 * load lists and state, wire signals. Exit codes: 0 normal, 1 usage or configuration error,
 * 111 a listener could not be bound (opentracker's code for the same failure).
 */
import { pino } from 'pino'
import { USAGE, parseArgs } from '../cli-args.js'
import { OT_ERR_BIND, OtdError } from '../errors.js'
import { dropPrivileges } from '../privileges.js'
import { formatSettings } from '../settings.js'
import { createTracker, hostPort } from '../tracker.js'
import { VERSION } from '../version.js'
import { createWorkerPool, type TrackerProcess } from '../workers/pool.js'

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
  process.stderr.write(`otd: ${args.message}\n\nRun otd -h for help.\n`)
  process.exit(1)
}
const settings = args.settings
if (args.printConfig) {
  process.stdout.write(formatSettings(settings))
  process.exit(0)
}

// Synchronous writes, as the workers and otsync: pino's default (asynchronous) destination flushes
// at exit with a loop that retries every error, so once the reader of our stdout was gone (EPIPE)
// a SIGTERM hung the process forever instead of exiting. Log lines are rare: a write each is cheap.
const logger = pino({ level: settings.logLevel, base: { name: 'otd' } }, pino.destination({ dest: 1, sync: true }))

/** How long an exit may wait for the event loop to drain before it is forced (see {@link exitWhenDrained}). */
const EXIT_GRACE_MS = 2000

/**
 * Ends the process with `code` when the event loop has drained, rather than with process.exit.
 * Why: in Node 24 process.exit can deadlock (nodejs/node#54918): it joins V8's background threads
 * without tearing the isolate down, and a background compile job that is waiting for a main-thread
 * GC then waits forever. Seen in CI as otd hanging after "refusing to run as root" (gdb: the main
 * thread in NodePlatform::Shutdown, a V8 worker in CollectionBarrier::AwaitCollectionBackground).
 * A natural exit tears the isolate down first, which releases such a job. Anything still open
 * after EXIT_GRACE_MS (there should be nothing) falls back to process.exit.
 */
function exitWhenDrained (code: number): void {
  process.exitCode = code
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref()
}

/** A start-up failure: logged, on stderr, and the exit code (the caller returns and closes what it opened). */
function failed (err: unknown): void {
  const code = err instanceof OtdError && err.code === OT_ERR_BIND ? 111 : 1
  const message = err instanceof Error ? err.message : String(err)
  logger.fatal({ code: err instanceof OtdError ? err.code : undefined }, message)
  process.stderr.write(`otd: ${message}\n`)
  exitWhenDrained(code)
}

for (const note of settings.notes) logger.warn(note)

// SIGHUP's default action ends the process: catch it from the start. One arriving before the
// lists are loaded is replayed once start-up is done (the files may have changed after they were read).
let started = false
let hupPending = false
// SIGHUPs arriving while a reload runs are merged into one more reload after it (which reads the
// files as they are then): a burst of signals never queues a burst of reloads behind each other.
let reloading = false
let reloadAgain = false
const reload = (): void => {
  if (reloading) { reloadAgain = true; return }
  reloading = true
  logger.info('SIGHUP: reloading access lists')
  tracker.reload().catch((err: unknown) => logger.error({ err }, 'reload failed')).finally(() => {
    reloading = false
    if (reloadAgain) { reloadAgain = false; reload() }
  })
}
process.on('SIGHUP', () => {
  if (started) reload()
  else if (!hupPending) { hupPending = true; logger.info('SIGHUP during start-up: the access lists are reloaded once it is done') }
})

let tracker: TrackerProcess
/** Binds, drops privileges, loads; false (after closing what was opened) when start-up failed. */
async function startUp (): Promise<boolean> {
  try {
    tracker = settings.workers > 1
      ? createWorkerPool(settings.tracker, { workers: settings.workers, logLevel: settings.logLevel, logger })
      : createTracker({ ...settings.tracker, logger })
  } catch (err) {
    failed(err)
    return false
  }
  try {
    const bound = await tracker.bind()
    const drop = dropPrivileges(settings.rootdir, settings.user)
    if (drop.note !== undefined) logger.warn(drop.note)
    if (drop.user !== null) logger.info({ uid: drop.uid, gid: drop.gid }, `running as ${drop.user}`)
    if (drop.chdir !== null) logger.info(`working directory ${drop.chdir} (no chroot: see docs/systemd for confinement)`)
    await tracker.start()
    for (const f of settings.loadStateDumps) {
      try {
        await tracker.loadStateDump(f)
      } catch (err) {
        logger.error(`cannot load statedump ${f}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      }
    }
    const list = (xs: typeof bound.http): string => xs.map((a) => hostPort(a.address, a.port)).join(' ')
    logger.info({ http: bound.http, udp: bound.udp, version: VERSION, pid: process.pid, workers: settings.workers },
      `otd ${VERSION} listening: http ${list(bound.http) || '-'}, udp ${list(bound.udp) || '-'}` +
      (settings.workers > 1 ? `, ${settings.workers} workers` : ''))
  } catch (err) {
    await tracker.close().catch(() => {})
    failed(err)
    return false
  }
  return true
}

let stopping = false
/** Logging must never stand between a signal and the exit: a closed stdout (EPIPE) throws. */
const say = (level: 'info' | 'warn' | 'error', msg: string, obj: object = {}): void => {
  try { logger[level](obj, msg) } catch { /* the log is gone; shut down anyway */ }
}
const stop = (signal: string): void => {
  if (stopping) {
    say('warn', `${signal} again: exiting now`)
    process.exit(1)
  }
  stopping = true
  say('info', `${signal}: finishing replies in flight and shutting down`)
  tracker.shutdown(4000).then(() => {
    say('info', 'stopped')
    exitWhenDrained(0)
  }, (err: unknown) => {
    say('error', 'shutdown failed', { err })
    exitWhenDrained(1)
  })
}
// SIGTERM and SIGINT are caught before start-up too. The "listening" line is logged at its end,
// and whoever reads it (an operator's script, systemd, a test) may signal at once: the process
// must not be killed by the default action in the moment before start-up returns. A signal during
// start-up shuts down once it is done.
let stopPending: string | null = null
const onStopSignal = (signal: string): void => {
  if (started) stop(signal)
  else if (stopPending === null) {
    stopPending = signal
    say('info', `${signal} during start-up: shutting down once it is done`)
  } else {
    say('warn', `${signal} again during start-up: exiting now`)
    process.exit(1)
  }
}
process.on('SIGINT', () => onStopSignal('SIGINT'))
process.on('SIGTERM', () => onStopSignal('SIGTERM'))
if (await startUp()) {
  // A reader of our stdout that went away must not turn every later log line into an exception.
  process.stdout.on('error', () => {})
  started = true
  if (stopPending !== null) stop(stopPending)
  else if (hupPending) reload()
}
