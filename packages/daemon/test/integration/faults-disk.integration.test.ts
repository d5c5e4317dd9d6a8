// A state file that cannot be written (issue 8, "Faults"): on a full disk (a small tmpfs filled to
// the last byte: ENOSPC), on a file system remounted read-only (EROFS), in a directory the daemon's
// user (nobody) may not write (EACCES) and in a directory removed under the running daemon
// (ENOENT), the real `otd` writing its state file every second must log a clear error naming the
// path and the errno, keep serving UDP and HTTP, and leave the previous state file byte for byte
// intact, loadable by the next start, with no temporary file left behind. Mounting needs root;
// without it the tmpfs cases skip and say so. Also the temporary-file rules of fs-atomic.ts
// (a taken name is skipped; stale files of dead writers are removed at start-up).

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test, type TestContext } from 'node:test'
import { removeStaleTemps, writeFileAtomic } from '../../src/fs-atomic.js'
import { readState } from '../helpers/faults-load.js'
import { OtdProcess, tempDir, type LogLine } from '../helpers/ops-otd-bin.js'
import { announce, scrape, testHash } from '../helpers/tracker-client.js'
import { EVENT_COMPLETED, UdpClient } from '../helpers/udp-raw.js'

const dir = tempDir('otd-faults-disk-')
const conf = join(dir, 'interval.conf')
writeFileSync(conf, 'tracker.statefile_interval 1\n', { mode: 0o644 })
const procs: OtdProcess[] = []
const mounts: string[] = []
after(async () => {
  await Promise.all(procs.map((p) => p.kill()))
  for (const m of mounts) { try { execFileSync('umount', [m], { stdio: 'ignore' }) } catch { execFileSync('umount', ['-l', m], { stdio: 'ignore' }) } }
  chmodSync(dir, 0o755)
  rmSync(dir, { recursive: true, force: true })
})

async function start (args: string[]): Promise<OtdProcess> {
  const p = await OtdProcess.start(args, { cwd: dir })
  procs.push(p)
  return p
}

const isError = (l: LogLine): boolean => l.level >= 50
const temps = (d: string): string[] => readdirSync(d).filter((n) => n.endsWith('.tmp'))
const hs = [testHash(960_001), testHash(960_002), testHash(960_003)]

/** A tmpfs of `size` everyone may write, or why not (not root, mount refused). */
function mountTmpfs (name: string, size: string): { path: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' }
  const path = join(dir, name)
  mkdirSync(path)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0777`, 'tmpfs', path], { stdio: 'pipe' })
  } catch (err) {
    return { skip: `mount -t tmpfs is not permitted here: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` }
  }
  mounts.push(path)
  return { path }
}

/** Fills the file system holding `d` to the last byte. */
function fill (d: string): void {
  const fd = openSync(join(d, 'filler'), 'w')
  try {
    for (const size of [1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x55)
      try { for (;;) writeSync(fd, chunk) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err }
    }
  } finally {
    closeSync(fd)
  }
}

/** Has otd write a state file at `path` (two torrents, one with downloaded 2, three peers); returns its bytes. */
async function writeInitialState (path: string): Promise<Buffer> {
  const otd = await start(['--statefile', path])
  await announce(otd.http, { infoHash: hs[0]!, port: 1, left: 0, event: 'completed' })
  await announce(otd.http, { infoHash: hs[1]!, port: 2 })
  const u = await UdpClient.open(otd.udp)
  await u.announce({ infoHash: hs[0]!, port: 3, left: 0n, event: EVENT_COMPLETED })
  u.close()
  assert.equal((await otd.stop()).code, 0)
  const s = readState(path)
  assert.equal(s.torrents, 2)
  assert.equal(s.peers, 3)
  return readFileSync(path)
}

/**
 * The shared assertions: otd restores `path`, its periodic write fails with `errno` (logged with the
 * path), it keeps serving UDP and HTTP, and after the failing write at shutdown the file is still
 * `before`, loadable, with no temporary file left; a restart restores it again.
 */
async function writeFailsCleanly (t: TestContext, path: string, before: Buffer, errno: string, damage?: () => void): Promise<void> {
  const otd = await start(['-f', conf, '--statefile', path])
  const restored = await otd.waitForLog((l) => l.msg.startsWith(`state file ${path}: restored`), 'the restore line')
  assert.equal(restored.msg, `state file ${path}: restored 2 torrents, 3 peers`)
  damage?.()
  const err = await otd.waitForLog(isError, 'the periodic write to fail')
  assert.equal(err.msg, `cannot write state file ${path}: ${errno}; the previous file is kept`)
  assert.equal(err.file, path)

  // Still serving, with the restored swarm: HTTP and UDP announces, a scrape.
  const a = await announce(otd.http, { infoHash: hs[0]!, port: 10 })
  assert.equal(a.complete, 2)
  const u = await UdpClient.open(otd.udp)
  const r = await u.announce({ infoHash: hs[2]!, port: 11, left: 0n, event: EVENT_COMPLETED })
  assert.equal(r.seeders, 1)
  u.close()
  const s = await scrape(otd.http, hs)
  assert.deepEqual(s.get(hs[0]!.toString('latin1')), { complete: 2, downloaded: 2, incomplete: 1 })
  assert.deepEqual(s.get(hs[2]!.toString('latin1')), { complete: 1, downloaded: 1, incomplete: 0 })

  assert.equal((await otd.stop()).code, 0)
  const failures = otd.logs.filter(isError)
  assert.ok(failures.length >= 2, 'the write at shutdown fails too, and says so')
  for (const f of failures) assert.equal(f.msg, `cannot write state file ${path}: ${errno}; the previous file is kept`)
  t.diagnostic(`${failures.length} failed writes logged: "${failures[0]!.msg}"`)
  if (damage !== undefined) return // the file is elsewhere now: the caller checks it
  assert.deepEqual(readFileSync(path), before, 'the previous state file is intact')
  assert.equal(readState(path).torrents, 2)
}

describe('the state file cannot be written: otd logs it, keeps serving, the previous file stays', () => {
  test('a full disk (ENOSPC on a filled tmpfs)', async (t) => {
    const m = mountTmpfs('full', '1m')
    if ('skip' in m) { t.skip(m.skip); return }
    const path = join(m.path, 'otd.state')
    const before = await writeInitialState(path)
    fill(m.path)
    await writeFailsCleanly(t, path, before, 'ENOSPC')
    assert.deepEqual(temps(m.path), [], 'the failed writes removed their temporary files')
    // The next start (disk still full) restores the same file.
    const again = await start(['--statefile', path])
    await again.waitForLog((l) => l.msg === `state file ${path}: restored 2 torrents, 3 peers`, 'the restore line')
    await again.kill()
  })

  test('a read-only file system (EROFS)', async (t) => {
    const m = mountTmpfs('ro', '1m')
    if ('skip' in m) { t.skip(m.skip); return }
    const path = join(m.path, 'otd.state')
    const before = await writeInitialState(path)
    execFileSync('mount', ['-o', 'remount,ro', m.path])
    await writeFailsCleanly(t, path, before, 'EROFS')
    assert.deepEqual(temps(m.path), [])
  })

  test('a directory the daemon may not write (EACCES)', async (t) => {
    if (process.getuid?.() !== 0) { t.skip('as root only: otd then runs as nobody, and root may write anywhere'); return }
    const d = join(dir, 'readonly')
    mkdirSync(d, { mode: 0o777 })
    chmodSync(d, 0o777)
    const path = join(d, 'otd.state')
    const before = await writeInitialState(path)
    chmodSync(d, 0o555)
    try {
      await writeFailsCleanly(t, path, before, 'EACCES')
      assert.deepEqual(temps(d), [])
    } finally {
      chmodSync(d, 0o777)
    }
  })

  test('the directory is moved away under the running daemon (ENOENT)', async (t) => {
    const d = join(dir, 'moving')
    mkdirSync(d, { mode: 0o777 })
    chmodSync(d, 0o777)
    const path = join(d, 'otd.state')
    const before = await writeInitialState(path)
    const moved = join(dir, 'moved')
    await writeFailsCleanly(t, path, before, 'ENOENT', () => renameSync(d, moved))
    assert.deepEqual(readFileSync(join(moved, 'otd.state')), before)
    assert.deepEqual(temps(moved), [])
  })
})

describe('fs-atomic: temporary files', () => {
  test('a temporary name that is taken (a stale file of the same pid after a restart) is skipped', async () => {
    const d = tempDir('otd-faults-atomic-')
    try {
      const target = join(d, 'f')
      for (let n = 1; n <= 10; n++) writeFileSync(join(d, `.f.${process.pid}.${n}.tmp`), 'stale')
      assert.equal(await writeFileAtomic(target, [Buffer.from('new contents')]), 12)
      assert.equal(readFileSync(target, 'utf8'), 'new contents')
      assert.equal(temps(d).length, 10, 'only the stale files remain')
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  })

  test('a write that fails midway leaves the target as it was and no temporary file', async () => {
    const d = tempDir('otd-faults-atomic-')
    try {
      const target = join(d, 'f')
      writeFileSync(target, 'old')
      async function * chunks (): AsyncGenerator<Buffer> { yield Buffer.alloc(1 << 20); throw new Error('encoder failed') }
      await assert.rejects(writeFileAtomic(target, chunks()), /encoder failed/)
      assert.equal(readFileSync(target, 'utf8'), 'old')
      assert.deepEqual(temps(d), [])
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  })

  test('removeStaleTemps: files of dead pids and of our own pid go; a live process\'s file and other files stay', () => {
    const d = tempDir('otd-faults-atomic-')
    try {
      const names = ['.f.4194305.1.tmp', `.f.${process.pid}.3.tmp`, '.f.1.2.tmp', '.f.x.tmp', '.g.4194305.1.tmp', 'f', '.f.4194305.tmp']
      for (const n of names) writeFileSync(join(d, n), 'x')
      const r = removeStaleTemps(join(d, 'f'))
      assert.deepEqual(r.removed.sort(), [join(d, '.f.4194305.1.tmp'), join(d, `.f.${process.pid}.3.tmp`)].sort())
      assert.deepEqual(r.failed, [])
      assert.deepEqual(readdirSync(d).sort(), ['.f.1.2.tmp', '.f.x.tmp', '.g.4194305.1.tmp', 'f', '.f.4194305.tmp'].sort())
      assert.equal(existsSync(join(d, 'f')), true)
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  })
})
