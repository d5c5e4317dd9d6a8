// What a changeset round trip is checked against (sync-changeset.test.ts, props-bencode.test.ts):
// the records per `family:hash`, as the encoder was given them and as the decoder found them.

import type { ChangesetEntry, ChangesetTorrent } from '../src/index.js'

/** The entries' records concatenated per `family:hex hash` (entries without records leave no torrent). */
export function expectedRecords (entries: readonly ChangesetEntry[]): Map<string, string> {
  const want = new Map<string, string>()
  for (const e of entries) {
    if (e.records.length === 0) continue
    const k = `${e.family}:${Buffer.from(e.infoHash).toString('hex')}`
    want.set(k, (want.get(k) ?? '') + Buffer.from(e.records).toString('hex'))
  }
  return want
}

/** The decoded torrents' records per `family:hex hash`, in the order they came (a Map keeps it). */
export function decodedRecords (b: Buffer, torrents: readonly ChangesetTorrent[]): Map<string, string> {
  const got = new Map<string, string>()
  for (const t of torrents) {
    const size = t.family === 4 ? 8 : 20
    got.set(`${t.family}:${b.toString('hex', t.hashOffset, t.hashOffset + 20)}`, b.toString('hex', t.recordsOffset, t.recordsOffset + t.count * size))
  }
  return got
}
