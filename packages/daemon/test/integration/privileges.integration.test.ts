// Privilege drop of the real command (reference §11): started as root, otd binds (a privileged
// port included), then runs as -u (default nobody) with that user's primary group; it refuses to
// run as root; -d changes the working directory, so relative list paths resolve there.
// Checked from the outside through /proc/PID/status and /proc/PID/cwd (Linux, root only).

import assert from 'node:assert/strict'
import { readFileSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { exchange } from '../helpers/http-raw.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { cleanup, runOtd, startOtd, tempDir, writeWorldFile } from '../helpers/otd-child.js'
import { announce, rawAnnounce, testHash } from '../helpers/tracker-client.js'

const CAN_RUN = process.platform === 'linux' && process.getuid?.() === 0
const skip = CAN_RUN ? false : 'needs root on Linux'

const DENIED_BODY = 'd14:failure reason63:Requested download is not authorized for use with this tracker.e'

let hashNo = 69000
const fresh = (): Buffer => testHash(hashNo++)

const dirs: string[] = []
after(() => {
  for (const d of dirs) cleanup(d)
})
function dir(): string {
  const d = tempDir('otd-priv-')
  dirs.push(d)
  return d
}

/** The Uid/Gid/Groups lines of /proc/PID/status as arrays of numbers. */
function ids(pid: number): { uid: number[]; gid: number[]; groups: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1')
  const field = (name: string): number[] => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)
    assert.ok(m, `no ${name} line in /proc/${pid}/status`)
    return (m[1] ?? '').trim().split(/\s+/).filter((x) => x !== '').map(Number)
  }
  return { uid: field('Uid'), gid: field('Gid'), groups: field('Groups') }
}

/** A free privileged TCP port on 127.0.0.1 (only root can bind it). */
async function freeLowPort(): Promise<number> {
  for (let port = 900; port < 1020; port++) {
    const s = net.createServer()
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (ok) {
      await new Promise<void>((resolve) => s.close(() => resolve()))
      return port
    }
  }
  throw new Error('no free port below 1024')
}

describe('privilege drop', { skip }, () => {
  test('by default: binds a privileged port, then runs as nobody (uid, gid and groups)', async () => {
    const port = await freeLowPort()
    const otd = await startOtd(['-i', '127.0.0.1', '-p', String(port), '-P', '0'])
    try {
      assert.deepEqual(ids(otd.proc.pid), { uid: [65534, 65534, 65534, 65534], gid: [65534, 65534, 65534, 65534], groups: [65534] })
      assert.ok(otd.proc.logs.some((l) => l.msg === 'running as nobody'))
      assert.deepEqual(otd.http, [{ address: '127.0.0.1', port, family: 'IPv4' }])
      // And it serves on that port.
      await announce(otd.http[0] as Endpoint, { infoHash: fresh(), port: 6301 })
    } finally {
      await otd.proc.stop()
    }
  })

  test('-u NAME: that user with its primary group from the passwd entry (sync: uid 4, gid 65534)', async () => {
    const otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-u', 'sync'])
    try {
      assert.deepEqual(ids(otd.proc.pid), { uid: [4, 4, 4, 4], gid: [65534, 65534, 65534, 65534], groups: [65534] })
    } finally {
      await otd.proc.stop()
    }
  })

  test('-u UID: the numeric form gets the same primary group as the name', async () => {
    const otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-u', '4'])
    try {
      assert.deepEqual(ids(otd.proc.pid), { uid: [4, 4, 4, 4], gid: [65534, 65534, 65534, 65534], groups: [65534] })
    } finally {
      await otd.proc.stop()
    }
  })

  for (const args of [['-u', 'root'], ['-u', '0'], ['--user=root']]) {
    test(`${args.join(' ')} is refused: exit 1, nothing served`, async () => {
      const r = await runOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', ...args])
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /refusing to run as root/)
      assert.doesNotMatch(r.stdout, / listening: /)
    })
  }

  test('tracker.user root in a config file is refused too', async () => {
    const conf = writeWorldFile(dir(), 'otd.conf', 'listen.tcp 127.0.0.1:0\ntracker.user root\n')
    const r = await runOtd(['-f', conf])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /refusing to run as root/)
  })

  test('an unknown user is refused rather than staying root', async () => {
    const r = await runOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-u', 'no-such-user-otd'])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /cannot switch to user no-such-user-otd.*refusing to keep running as root/)
    assert.doesNotMatch(r.stdout, / listening: /)
  })
})

describe('-d DIR', () => {
  test('changes the working directory; a relative whitelist resolves there', { skip: process.platform === 'linux' ? false : 'needs /proc' }, async () => {
    const root = dir()
    const elsewhere = dir()
    const inRoot = fresh()
    const inElsewhere = fresh()
    writeWorldFile(root, 'white.txt', `${inRoot.toString('hex')}\n`)
    writeWorldFile(elsewhere, 'white.txt', `${inElsewhere.toString('hex')}\n`)
    const otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-d', root, '-w', 'white.txt'], { cwd: elsewhere })
    try {
      assert.equal(readlinkSync(`/proc/${otd.proc.pid}/cwd`), root)
      assert.ok(otd.proc.logs.some((l) => l.msg.startsWith(`working directory ${root}`)), JSON.stringify(otd.proc.logs))
      const ep = otd.http[0] as Endpoint
      await announce(ep, { infoHash: inRoot, port: 6302 })
      assert.equal((await rawAnnounce(ep, { infoHash: inElsewhere, port: 6303, left: 1 })).body.toString('latin1'), DENIED_BODY)
    } finally {
      await otd.proc.stop()
    }
  })

  test('a -d directory that does not exist is a start-up error', async () => {
    const missing = join(dir(), 'missing')
    const r = await runOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-d', missing])
    assert.equal(r.code, 1, r.stderr)
    assert.ok(r.stderr.includes(`cannot change to root directory ${missing}: ENOENT`), r.stderr)
  })

  test('relative paths keep working after SIGHUP (the directory stays)', async () => {
    const root = dir()
    const h = fresh()
    const list = writeWorldFile(root, 'white.txt', '')
    const otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '--rootdir', root, '--whitelist', 'white.txt'], { cwd: dir() })
    try {
      const ep = otd.http[0] as Endpoint
      assert.equal((await exchange(ep, `GET /announce?info_hash=${'%00'.repeat(20)}&port=1&left=1 HTTP/1.0\r\n\r\n`)).body.toString('latin1'), DENIED_BODY)
      writeWorldFile(root, 'white.txt', `${h.toString('hex')}\n`)
      const from = otd.proc.logs.length
      otd.proc.signal('SIGHUP')
      const line = await otd.proc.waitLog(/^access lists reloaded: /, from)
      assert.match(line.msg, /white 1 entries/)
      await announce(ep, { infoHash: h, port: 6304 })
      assert.equal(list, join(root, 'white.txt'))
    } finally {
      await otd.proc.stop()
    }
  })
})
