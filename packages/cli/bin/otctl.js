#!/usr/bin/env node
// Entry point for the `otctl` command: a committed, executable shim over the compiled commands
// (oclif reads package.json "oclif" and loads dist/src/commands), so the command exists right
// after `npm ci` and resolves its commands from wherever the package is installed.
//
// The module compile cache (Node >= 22.1) keeps V8's code cache for oclif, undici and the
// commands between runs (in the OS temp directory): 10-20 ms less per run, see docs/otctl.md.
import module from 'node:module'

module.enableCompileCache?.()
const { execute } = await import('@oclif/core')
await execute({ dir: import.meta.url })
