import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { startOtd, type RunningOtd } from '../helpers/otd.js'
import { otctl, show } from '../helpers/otctl.js'

async function listen (server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

describe('otctl exit codes: unreachable 3, not authorised 4, bad input 2', () => {
  let closed: RunningOtd
  let freePort: number
  let silent: Server
  let silentPort: number
  const sockets = new Set<Socket>()

  before(async () => {
    // An otd that blesses nobody: its admin endpoint answers 403 to everyone, stats stay public.
    closed = await startOtd([])
    const s = createServer()
    freePort = await listen(s)
    await new Promise((resolve) => s.close(resolve))
    // Accepts connections and never answers.
    silent = createServer((socket) => { sockets.add(socket); socket.on('error', () => {}) })
    silentPort = await listen(silent)
  })
  after(async () => {
    for (const s of sockets) s.destroy()
    silent.close()
    await closed.stop()
  })

  test('a daemon that is not running is unreachable: exit 3', async () => {
    const r = await otctl(['status', '--url', `http://127.0.0.1:${freePort}`])
    assert.equal(r.code, 3, show(r))
    assert.match(r.err, /cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused/)
  })

  test('a daemon that does not answer within --timeout is unreachable: exit 3', async () => {
    const started = Date.now()
    const r = await otctl(['status', '--url', `127.0.0.1:${silentPort}`, '--timeout', '300ms', '--json'])
    assert.equal(r.code, 3, show(r))
    assert.equal(r.json.error.code, 'OT_ERR_UNREACHABLE')
    assert.match(r.json.error.message, /no answer within 300 ms/)
    assert.ok(Date.now() - started < 5000)
  })

  test('the admin endpoint refuses an unblessed address: exit 4, with how to bless it', async () => {
    const r = await otctl(['status'], { url: closed.url })
    assert.equal(r.code, 4, show(r))
    assert.match(r.err, /not authorised.*-A/)
    const add = await otctl(['access', 'add', 'a'.repeat(40), '--json'], { url: closed.url })
    assert.equal(add.code, 4, show(add))
    assert.equal(add.json.error.code, 'OT_ERR_FORBIDDEN')
    const restore = await otctl(['reload'], { url: closed.url })
    assert.equal(restore.code, 4, show(restore))
  })

  test('public stats still work where the admin endpoint is closed', async () => {
    const r = await otctl(['stats', 'version', '--json'], { url: closed.url })
    assert.equal(r.code, 0, show(r))
    assert.equal(r.json.name, 'otd')
  })

  test('bad flags and arguments are bad input: exit 2 before anything is sent', async () => {
    for (const args of [
      ['status', '--url', 'ftp://127.0.0.1'],
      ['status', '--timeout', 'soon'],
      ['status', '--no-such-flag'],
      ['top', '--by', 'size'],
      ['access', 'list', 'grey'],
      ['reload', '--pid', 'abc'],
      ['state', 'restore']
    ]) {
      const r = await otctl(args, { url: `http://127.0.0.1:${freePort}` })
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`)
    }
  })

  test('an unknown command fails with a suggestion', async () => {
    const r = await otctl(['stauts'])
    assert.notEqual(r.code, 0, show(r))
    assert.match(r.err, /stauts/)
  })
})
