/**
 * Line-by-line reading of a streamed body (full scrapes, statedumps), gzip-decoded when the
 * daemon compressed it. Memory stays flat however many torrents the tracker has.
 */
import type { Readable } from 'node:stream'
import type { HttpResponse } from '../http.js'

/** Full scrapes are asked for gzip-compressed (otd compresses them on request, docs/full-scrape.md) and decoded here. */
export const FULL_SCRAPE_HEADERS = { 'accept-encoding': 'gzip' }

/** The body as a byte stream, decompressed if `Content-Encoding: gzip`. */
export async function decodedBody (res: HttpResponse): Promise<Readable> {
  const enc = String(res.headers['content-encoding'] ?? '').toLowerCase()
  if (enc === '' || enc === 'identity') return res.body
  if (enc !== 'gzip') throw new Error(`unexpected Content-Encoding ${enc}`)
  const zlib = await import('node:zlib')
  return res.body.pipe(zlib.createGunzip())
}

/** Calls `onLine` for every line (without the newline) of the decoded body. */
export async function forEachLine (res: HttpResponse, onLine: (line: string) => void): Promise<void> {
  const body = await decodedBody(res)
  let partial = ''
  for await (const chunk of body) {
    const text = partial + (chunk as Buffer).toString('latin1')
    const lines = text.split('\n')
    partial = lines.pop() ?? ''
    for (const l of lines) onLine(l)
  }
  if (partial !== '') onLine(partial)
}
