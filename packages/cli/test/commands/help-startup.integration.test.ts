import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, test } from 'node:test'
import { otctl, show } from '../helpers/otctl.js'

const RECORD_LOADS = fileURLToPath(new URL('../helpers/record-loads.js', import.meta.url))
const COMMANDS_DIR = fileURLToPath(new URL('../../src/commands/', import.meta.url))

function commandFiles (dir = COMMANDS_DIR, prefix = ''): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...commandFiles(`${dir}${e.name}/`, `${prefix}${e.name} `))
    else if (e.name.endsWith('.js')) out.push([`${prefix}${e.name.slice(0, -3)}`, `${dir}${e.name}`])
  }
  return out
}

/** Module URLs a run of otctl resolved (see helpers/record-loads.ts). */
async function loadedBy (args: string[], url?: string): Promise<{ code: number | null, loaded: string[] }> {
  const r = await otctl(args, { nodeArgs: ['--import', RECORD_LOADS], url })
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '))
  assert.ok(line !== undefined, show(r))
  return { code: r.code, loaded: JSON.parse(line.slice(7)) as string[] }
}

describe('otctl help and start-up', () => {
  test('every command has a summary, a description and examples with long flags', async () => {
    const files = commandFiles()
    assert.equal(files.length, 12, files.map((f) => f[0]).join(', '))
    for (const [id, file] of files) {
      const cmd = (await import(pathToFileURL(file).href)).default
      assert.ok(typeof cmd.summary === 'string' && cmd.summary.length > 0, `${id}: summary`)
      assert.ok(typeof cmd.description === 'string' && cmd.description.includes('Exit codes'), `${id}: description`)
      assert.ok(Array.isArray(cmd.examples) && cmd.examples.length >= 2, `${id}: examples`)
      assert.ok(cmd.examples.some((e: string | { command: string }) => / --[a-z]/.test(typeof e === 'string' ? e : e.command)), `${id}: a long-flag example`)
    }
  })

  test('--help lists the topics and commands; a command\'s help has its examples', async () => {
    const root = await otctl(['--help'])
    assert.equal(root.code, 0, show(root))
    for (const word of ['access', 'state', 'status', 'stats', 'top', 'reload', 'scrape', 'announce']) assert.match(root.stdout, new RegExp(`^  ${word}\\s`, 'm'))
    const add = await otctl(['access', 'add', '--help'])
    assert.equal(add.code, 0, show(add))
    assert.match(add.stdout, /EXAMPLES\n\s+\$ otctl access add 0123456789abcdef/)
    assert.match(add.stdout, /--url=<url>\s+\[default: http:\/\/127\.0\.0\.1:6969, env: OTCTL_URL\]/)
  })

  test('--version prints the version without loading undici or @otd/proto', async () => {
    const r = await otctl(['--version'])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /^@otd\/cli\/0\.1\.0 /)
    const { loaded } = await loadedBy(['--version'])
    assert.equal(loaded.filter((u) => /undici|@otd\/proto|packages\/proto/.test(u)).length, 0, loaded.join('\n'))
  })

  test('a hash rejected before sending never loads undici', async () => {
    const { code, loaded } = await loadedBy(['access', 'add', 'not-a-hash'])
    assert.equal(code, 2)
    assert.equal(loaded.filter((u) => u.includes('undici')).length, 0)
  })

  test('status loads undici but neither the tracker codecs nor dgram', async () => {
    const { loaded } = await loadedBy(['status', '--url', 'http://127.0.0.1:9', '--timeout', '1s'])
    assert.ok(loaded.some((u) => u.includes('undici')), 'undici is what status uses')
    assert.equal(loaded.filter((u) => /packages\/proto|@otd\/proto|^node:dgram$|bencode/.test(u)).length, 0, loaded.join('\n'))
  })
})
