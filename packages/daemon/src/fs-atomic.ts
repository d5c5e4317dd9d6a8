/**
 * Atomic file replacement: write a temporary file next to the target, flush it to disk, rename it
 * over the target and flush the directory. A reader (or a restart after a crash or kill -9) sees
 * either the old file or the new one, never a half-written one; on any error the old file is left
 * as it was and the temporary file is removed.
 *
 * Temporary files are named `.NAME.PID.SEQ.tmp`. A process killed mid-write (kill -9, power loss)
 * leaves its one behind: {@link removeStaleTemps} clears those at start-up, and a name that is
 * already taken (the same pid after a restart, common in containers) is skipped, not an error.
 */
import { readdirSync, unlinkSync } from 'node:fs'
import { open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

let sequence = 0
/** Names tried before giving up when temporary names are taken (only stale files can take them). */
const NAME_ATTEMPTS = 64

function tempName (path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${++sequence}.tmp`)
}

async function openTemp (path: string, mode: number): Promise<{ tmp: string, fh: FileHandle }> {
  for (let i = 1; ; i++) {
    const tmp = tempName(path)
    try {
      return { tmp, fh: await open(tmp, 'wx', mode) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i === NAME_ATTEMPTS) throw err
    }
  }
}

export async function writeFileAtomic (path: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, mode = 0o644): Promise<number> {
  const { tmp, fh } = await openTemp(path, mode)
  let bytes = 0
  try {
    try {
      for await (const c of chunks) {
        let off = 0
        while (off < c.length) {
          const { bytesWritten } = await fh.write(c, off, c.length - off)
          off += bytesWritten
        }
        bytes += c.length
      }
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  // Make the rename itself durable; not every file system allows opening a directory.
  try {
    const dir = await open(dirname(path), 'r')
    try { await dir.sync() } finally { await dir.close() }
  } catch { /* best effort */ }
  return bytes
}

export interface StaleTemps { removed: string[], failed: Array<{ file: string, code: string }> }

/**
 * Removes the temporary files that writes of `path` by dead processes left behind (see the module
 * comment). Call it before this process writes `path`: files carrying our own pid are then stale
 * too (a pid reused after a restart). Files of a live process are left alone.
 */
export function removeStaleTemps (path: string): StaleTemps {
  const out: StaleTemps = { removed: [], failed: [] }
  const dir = dirname(path)
  const prefix = `.${basename(path)}.`
  let names: string[]
  try { names = readdirSync(dir) } catch { return out }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue
    const m = /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length))
    if (m === null) continue
    const pid = Number(m[1])
    if (pid !== process.pid && isAlive(pid)) continue
    const file = join(dir, name)
    try {
      unlinkSync(file)
      out.removed.push(file)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err)
      if (code !== 'ENOENT') out.failed.push({ file, code })
    }
  }
  return out
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH' // EPERM: alive, someone else's
  }
}
