#!/usr/bin/env node
/**
 * The otsync command: parse flags and the config file, build the logger, run rounds (or one with
 * --once), serve /metrics if asked, stop cleanly on SIGINT/SIGTERM. Exit codes: 0 normal (with
 * --once: every node synced), 1 usage or configuration error, 2 (--once) some node failed.
 */
import { pino } from 'pino'
import { Bridge } from '../bridge.js'
import { USAGE, parseOtsyncArgs } from '../config.js'
import { serveMetrics } from '../metrics.js'
import { VERSION } from '../version.js'

const args = parseOtsyncArgs(process.argv.slice(2))
if (args.kind === 'help') { process.stdout.write(USAGE); process.exit(0) }
if (args.kind === 'version') { process.stdout.write(`otsync ${VERSION}\n`); process.exit(0) }
if (args.kind === 'error') {
  process.stderr.write(`otsync: ${args.message}\n\nRun otsync -h for help.\n`)
  process.exit(1)
}
const o = args.options
// With --json, stdout carries the reports; logs go to stderr. Synchronous writes: a --once run
// exits right after its round and must not lose the lines.
const logger = pino({ level: o.logLevel, base: { name: 'otsync' } }, pino.destination({ dest: o.json ? 2 : 1, sync: true }))
// A running otsync starts with a catch-up round; --once does one only with --full.
const bridge = new Bridge(o, logger, o.once ? o.full : true)

let metrics: Awaited<ReturnType<typeof serveMetrics>> | null = null
if (o.metrics !== null) {
  try {
    metrics = await serveMetrics(bridge, o.metrics.host, o.metrics.port, VERSION)
    const a = metrics.address
    logger.info({ metrics: a }, `metrics and status on http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics and /status`)
  } catch (err) {
    process.stderr.write(`otsync: cannot serve metrics on ${o.metrics.host}:${o.metrics.port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`)
    process.exit(1)
  }
}

function emit (report: unknown): void {
  if (o.json) process.stdout.write(JSON.stringify(report) + '\n')
}

/**
 * Closes everything and ends with `code` once the event loop has drained. Not process.exit: in
 * Node 24 it can deadlock joining V8's background threads (nodejs/node#54918; otd hit it in CI),
 * while a natural exit tears the isolate down first. process.exit after 2 s is only a fallback.
 */
async function finish (code: number): Promise<void> {
  metrics?.server.close()
  await bridge.close().catch(() => {})
  process.exitCode = code
  setTimeout(() => process.exit(code), 2000).unref()
}

if (o.once) {
  const report = await bridge.round()
  emit(report)
  await finish(report.nodes.every((n) => n.ok) ? 0 : 2)
} else {
  runForever()
}

function runForever (): void {
  logger.info({ nodes: o.nodes, intervalSeconds: o.intervalSeconds }, `otsync ${VERSION}: syncing ${o.nodes.length} nodes every ${o.intervalSeconds} s`)
  let stopping = false
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null

  function schedule (delayMs: number): void {
    timer = setTimeout(() => {
      timer = null
      running = bridge.round().then(emit, (err: unknown) => { logger.error({ err }, 'round failed') }).finally(() => {
        running = null
        if (!stopping) schedule(o.intervalSeconds * 1000)
      })
    }, delayMs)
  }

  const stop = (signal: string): void => {
    if (stopping) process.exit(1)
    stopping = true
    logger.info(`${signal}: stopping after the current round`)
    if (timer !== null) clearTimeout(timer)
    void (running ?? Promise.resolve()).then(() => finish(0))
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  schedule(0)
}
