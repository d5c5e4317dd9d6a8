import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { removeDir, startOtd, tempDir, worldFile, type RunningOtd } from '../helpers/otd.js'
import { otctl, show } from '../helpers/otctl.js'

const LISTED = 'aa'.repeat(20)
const H1 = '0123456789abcdef0123456789abcdef01234567'
const H2 = '89abcdef0123456789abcdef0123456789abcdef'
const H3 = 'fedcba9876543210fedcba9876543210fedcba98'
const H4 = '1111111111111111111111111111111111111111'
const H5 = '2222222222222222222222222222222222222222'

describe('otctl access against a closed otd (-w FILE)', () => {
  let dir: string
  let list: string
  let otd: RunningOtd
  const run = (args: string[], stdin?: string): ReturnType<typeof otctl> => otctl(args, { url: otd.url, stdin })
  const listFile = (): string => readFileSync(list, 'utf8')

  before(async () => {
    dir = tempDir()
    list = worldFile(dir, 'white.txt', `# allowed torrents\n${LISTED} already here\n`)
    otd = await startOtd(['-A', '127.0.0.1', '-w', list])
  })
  after(async () => {
    await otd.stop()
    removeDir(dir)
  })

  test('access list shows the allow-list, its file and its size', async () => {
    const r = await run(['access', 'list', '--json'])
    assert.equal(r.code, 0, show(r))
    assert.deepEqual(r.json.lists, [{ list: 'white', file: list, entries: 1 }])
    const human = await run(['access', 'list'])
    assert.match(human.stdout, /white\s+1\s+\S*white\.txt/)
    const entries = await run(['access', 'list', 'white'])
    assert.equal(entries.stdout, `${LISTED}\n`)
  })

  test('an unlisted hash is refused by the tracker: announce exits 1 with its reason', async () => {
    const r = await run(['announce', H1])
    assert.equal(r.code, 1, show(r))
    assert.match(r.err, /not authorized/)
  })

  test('access add makes the closed tracker accept the hashes and writes them to the list file', async () => {
    const r = await run(['access', 'add', H1, H2.toUpperCase()])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /white list: added 2, 0 already listed; 3 entries now/)
    assert.match(r.stdout, new RegExp(`\\+ ${H1}`))
    assert.match(r.stdout, new RegExp(`\\+ ${H2}`))
    const file = listFile()
    // otd patches the file: the existing line keeps its annotation, new hashes are appended.
    for (const h of [LISTED, H1, H2]) assert.match(file, new RegExp(`^${h}\\b`, 'm'))

    const http = await run(['announce', H1])
    assert.equal(http.code, 0, show(http))
    assert.match(http.stdout, /leechers\s+1/)
    const udp = await run(['announce', '--tracker', otd.udpUrl, '--seed', H2])
    assert.equal(udp.code, 0, show(udp))
    assert.match(udp.stdout, /seeders\s+1/)
  })

  test('access add --json names what changed and what was already listed', async () => {
    const r = await run(['access', 'add', '--json', H1, H3])
    assert.equal(r.code, 0, show(r))
    assert.equal(r.json.list, 'white')
    assert.equal(r.json.changed, 1)
    assert.equal(r.json.unchanged, 1)
    assert.equal(r.json.entries, 4)
    assert.equal(r.json.persisted, true)
    assert.deepEqual(r.json.changed_hashes, [H3])
    assert.deepEqual(r.json.unchanged_hashes, [H1])
  })

  test('access add reads hashes from --file (list-file format) and from stdin', async () => {
    const file = worldFile(dir, 'batch.txt', `# a batch\n${H4}  some.iso\n\n`)
    const fromFile = await run(['access', 'add', '--file', file, '--json'])
    assert.equal(fromFile.code, 0, show(fromFile))
    assert.deepEqual(fromFile.json.changed_hashes, [H4])
    const fromStdin = await run(['access', 'add', '-', '--json'], `${H5}\n`)
    assert.equal(fromStdin.code, 0, show(fromStdin))
    assert.deepEqual(fromStdin.json.changed_hashes, [H5])
    assert.match(listFile(), new RegExp(`^${H5}$`, 'm'))
  })

  test('a bad hash is bad input (exit 2): nothing is sent, nothing changes', async () => {
    const before = listFile()
    const good = '3333333333333333333333333333333333333333'
    const r = await run(['access', 'add', good, 'abc123', '--json'])
    assert.equal(r.code, 2, show(r))
    assert.equal(r.json.error.code, 'OT_ERR_BAD_INPUT')
    assert.match(r.json.error.message, /argument 2: "abc123" is not 40 hex digits/)
    const human = await run(['access', 'add', good, `${good}0`])
    assert.equal(human.code, 2, show(human))
    assert.match(human.err, /not 40 hex digits/)
    const badFile = worldFile(dir, 'bad.txt', `${good}\nnot a hash\n`)
    const fromFile = await run(['access', 'add', '--file', badFile])
    assert.equal(fromFile.code, 2, show(fromFile))
    assert.match(fromFile.err, /bad\.txt:2/)
    const none = await run(['access', 'add'])
    assert.equal(none.code, 2, show(none))
    assert.equal(listFile(), before)
    const check = await run(['access', 'check', good, '--json'])
    assert.equal(check.json.results[0].whitelisted, false)
  })

  test('access check tells allowed, listed and in memory for each hash', async () => {
    const r = await run(['access', 'check', H1, 'ffffffffffffffffffffffffffffffffffffffff', '--json'])
    assert.equal(r.code, 0, show(r))
    assert.deepEqual(r.json.results, [
      { info_hash: H1, allowed: true, whitelisted: true, blacklisted: null, in_memory: true },
      { info_hash: 'f'.repeat(40), allowed: false, whitelisted: false, blacklisted: null, in_memory: false }
    ])
    const human = await run(['access', 'check', H1])
    assert.match(human.stdout, new RegExp(`${H1}\\s+yes\\s+yes\\s+-\\s+yes`))
  })

  test('access remove takes a hash off the list file, and the tracker refuses it again', async () => {
    const r = await run(['access', 'remove', H3])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /white list: removed 1, 0 not listed/)
    assert.doesNotMatch(listFile(), new RegExp(H3))
    const refused = await run(['announce', H3])
    assert.equal(refused.code, 1, show(refused))
  })

  test('access add --list black without a deny-list fails (exit 1) and says how to configure one', async () => {
    const r = await run(['access', 'add', '--list', 'black', H1])
    assert.equal(r.code, 1, show(r))
    assert.match(r.err, /no black list configured.*-b FILE/)
  })

  test('reload makes otd re-read a hand-edited list file and reports its size', async () => {
    const extra = '4444444444444444444444444444444444444444'
    writeFileSync(list, listFile() + `${extra}\n`)
    const r = await run(['reload', '--json'])
    assert.equal(r.code, 0, show(r))
    assert.equal(r.json.via, 'admin')
    assert.equal(r.json.lists[0].ok, true)
    assert.equal(r.json.lists[0].entries, 6)
    const ok = await run(['announce', extra])
    assert.equal(ok.code, 0, show(ok))
  })

  test('reload reports a list file it could not read and exits 1; the old list stays', async () => {
    const good = listFile()
    writeFileSync(list, good + 'not a hash line\n')
    const r = await run(['reload'])
    assert.equal(r.code, 1, show(r))
    assert.match(r.stdout, /white: kept the previous list/)
    writeFileSync(list, good)
  })

  test('reload --pid sends SIGHUP to otd, which re-reads its lists', async () => {
    const extra = '5555555555555555555555555555555555555555'
    writeFileSync(list, listFile() + `${extra}\n`)
    const from = otd.logs.length
    const pidfile = join(dir, 'otd.pid')
    writeFileSync(pidfile, `${otd.pid}\n`)
    const r = await run(['reload', '--pidfile', pidfile])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, new RegExp(`sent SIGHUP to ${otd.pid}`))
    await otd.waitLog(/access lists reloaded/, from)
    const check = await run(['access', 'check', extra, '--json'])
    assert.equal(check.json.results[0].allowed, true)
  })

  test('reload --pid refuses a process that is not otd (exit 2)', async () => {
    const r = await run(['reload', '--pid', String(process.pid)])
    assert.equal(r.code, 2, show(r))
    assert.match(r.err, /is not otd/)
  })
})
