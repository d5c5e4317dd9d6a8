#!/usr/bin/env node
// Writes oclif.manifest.json for a packed otctl (npm "prepack"), and removes it again
// ("postpack", with --remove). With the manifest, oclif finds a command without globbing
// dist/src/commands and importing every command class, which saves about 20 ms per run
// (docs/otctl.md). It is not kept in the work tree: a stale manifest would hide new or changed
// commands and flags from a developer's build.
import { rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Plugin } from '@oclif/core'

const root = fileURLToPath(new URL('..', import.meta.url))
const file = `${root}oclif.manifest.json`
if (process.argv.includes('--remove')) {
  rmSync(file, { force: true })
} else {
  const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true })
  await plugin.load()
  writeFileSync(file, JSON.stringify(plugin.manifest, null, 2) + '\n')
  console.log(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`)
}
