/**
 * Atomic file replacement: write a temporary file next to the target, flush it to disk, rename it
 * over the target and flush the directory. A reader (or a restart after a crash or kill -9) sees
 * either the old file or the new one, never a half-written one; on any error the old file is left
 * as it was and the temporary file is removed.
 */
import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

let sequence = 0

export async function writeFileAtomic (path: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, mode = 0o644): Promise<number> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++sequence}.tmp`)
  let bytes = 0
  const fh = await open(tmp, 'wx', mode)
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
