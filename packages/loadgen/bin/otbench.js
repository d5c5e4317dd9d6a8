#!/usr/bin/env node
// Entry point for the `otbench` command: a committed, executable shim over the compiled code, so the
// command exists right after `npm ci` (npm links bins before anything is built).
import '../dist/src/bin/otbench.js'
