#!/usr/bin/env node
// Entry point for the `otd` command: a committed, executable shim over the compiled code, so the
// command exists right after `npm ci` (npm links bins before anything is built).
//
// It first gives V8 a small young generation (docs/decisions.md, "Young generation"): under
// sustained load V8 grows each semi-space to 16 MiB, ~10 MiB of RSS that a tracker gains nothing
// from (what it allocates per request dies at once; what it keeps lives in typed arrays). The flag
// can only be set when the isolate is created, so the process re-executes itself once with it
// (execve: same pid, same stdio, ~30 ms). Skipped when the flag is already given (on the command
// line or in NODE_OPTIONS), when OTD_YOUNG_GENERATION=default, or where execve is missing.
import process from 'node:process'

const FLAG = '--max-semi-space-size'
const want = process.env.OTD_YOUNG_GENERATION ?? '1'
const given = process.execArgv.some((a) => a.startsWith(FLAG)) || (process.env.NODE_OPTIONS ?? '').includes(FLAG)
if (!given && want !== 'default' && /^[0-9]+$/.test(want) && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, `${FLAG}=${want}`, ...process.execArgv, ...process.argv.slice(1)], process.env)
}
await import('../dist/src/bin/otd.js')
