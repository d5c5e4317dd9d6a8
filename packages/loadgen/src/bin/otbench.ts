#!/usr/bin/env node
/**
 * The otbench command: parse flags, run the command, print its report, exit with its code.
 * Exit codes: 0 done (and passed), 1 a gate, comparison or repro-10k failed, 2 usage error,
 * 3 the run itself failed (target unreachable, tracker did not start, unreadable report).
 */
import { parseArgs } from '../cli.js'
import { EXIT_ERROR, EXIT_USAGE, runCommand } from '../commands.js'

const args = parseArgs(process.argv.slice(2))
if (args.kind === 'help') {
  process.stdout.write(args.text)
  process.exit(0)
}
if (args.kind === 'version') {
  process.stdout.write('otbench 0.1.0\n')
  process.exit(0)
}
if (args.kind === 'error') {
  process.stderr.write(`otbench: ${args.message}\n(otbench --help lists commands and flags)\n`)
  process.exit(EXIT_USAGE)
}

try {
  const outcome = await runCommand(args.options)
  process.stdout.write(outcome.stdout)
  process.exitCode = outcome.code
} catch (err) {
  process.stderr.write(`otbench: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = EXIT_ERROR
}
// Sockets and timers are closed by now; exit anyway so a stray handle never keeps a CI job waiting,
// but only once stdout is drained: a pipe (`otbench hashes | ...`) takes a large output in pieces.
if (process.stdout.writableLength === 0) setImmediate(() => process.exit())
else process.stdout.once('drain', () => process.exit())
