/**
 * Where a download goes: a file written atomically (a temporary file in the same directory,
 * fsync, rename), so an interrupted or refused download never replaces a good file; or stdout.
 */
import { randomBytes } from 'node:crypto'
import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface Sink {
  write (chunk: Buffer): Promise<void>
  /** Makes the output final (rename into place). */
  commit (): Promise<void>
  /** Drops a partial output (removes the temporary file). */
  abort (): Promise<void>
}

export async function fileSink (path: string): Promise<Sink> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', 0o644)
  let closed = false
  return {
    async write (chunk) { await fh.write(chunk) },
    async commit () {
      await fh.sync()
      await fh.close()
      closed = true
      await rename(tmp, path)
    },
    async abort () {
      if (!closed) await fh.close().catch(() => {})
      await unlink(tmp).catch(() => {})
    }
  }
}

export function stdoutSink (): Sink {
  return {
    write: (chunk) => new Promise((resolve, reject) => {
      process.stdout.write(chunk, (err) => { if (err) reject(err); else resolve() })
    }),
    commit: async () => {},
    abort: async () => {}
  }
}
