/**
 * The pure part of otsync: node exports in, merged view and per-node pushes out. No I/O.
 *
 * A peer is identified by (family, info_hash, ip, port) and written as a binary string key:
 *
 *   key = family char ('4' | '6') + info_hash (20) + ip (4 | 16) + port (2), as latin1
 *   value = flags << 8 | age in minutes    (the two bytes after the port in a changeset record)
 *
 * Merging (sync_daemon.pl's rule, made safe for stops): the flags of the live records are OR-ed
 * and the youngest age kept. A STOPPED record wins over live ones unless a live record is
 * strictly younger (the peer announced somewhere after it stopped), since OR-ing STOPPED into a
 * peer that came back would remove it from every node until the stop ages out.
 *
 * Pushing: each node gets the merged records it does not export itself, and a stop for a peer it
 * still exports as live, unless the same flags were pushed to it within the dedupe window (which
 * keeps a peer in the 5-minute export window from being pushed ten times).
 */
import { type ChangesetEntry, SYNC_FLAG_COMPLETED, SYNC_FLAG_SEEDING, SYNC_FLAG_STOPPED, decodeChangeset, encodeChangeset } from '@otd/proto'

/** Peers of one node: key → flags << 8 | age. */
export type PeerSet = Map<string, number>

/** Most peers in one changeset and changesets in one request (sync_daemon.pl's limits). */
export const MAX_PEERS_PER_CHANGESET = 500
export const MAX_CHANGESETS_PER_REQUEST = 10

export function flagsOf (value: number): number { return value >>> 8 }
export function ageOf (value: number): number { return value & 0xff }
export function isStopped (value: number): boolean { return (value >>> 8 & SYNC_FLAG_STOPPED) !== 0 }

/** Reads a changeset (exactly one, the body of `GET /sync`) into a peer set; throws with the reason if malformed. */
export function parseExport (body: Buffer): PeerSet {
  const r = decodeChangeset(body)
  if (!r.ok) throw new Error(`malformed changeset: ${r.error}`)
  if (r.end !== body.length) throw new Error(`malformed changeset: ${body.length - r.end} trailing bytes`)
  const out: PeerSet = new Map()
  for (const t of r.torrents) {
    const ipBytes = t.family === 4 ? 4 : 16
    const size = ipBytes + 4
    const prefix = String(t.family) + body.toString('latin1', t.hashOffset, t.hashOffset + 20)
    for (let i = 0; i < t.count; i++) {
      const at = t.recordsOffset + i * size
      const key = prefix + body.toString('latin1', at, at + ipBytes + 2)
      const value = (body[at + ipBytes + 2]! << 8) | body[at + ipBytes + 3]!
      const old = out.get(key)
      out.set(key, old === undefined ? value : mergeValues(old, value))
    }
  }
  return out
}

/** Merges two records of the same peer (see the module comment). */
export function mergeValues (a: number, b: number): number {
  const sa = isStopped(a)
  const sb = isStopped(b)
  if (sa && sb) return (SYNC_FLAG_STOPPED << 8) | Math.min(ageOf(a), ageOf(b))
  if (sa || sb) {
    const stop = sa ? a : b
    const live = sa ? b : a
    return ageOf(live) < ageOf(stop) ? live : (SYNC_FLAG_STOPPED << 8) | ageOf(stop)
  }
  const flags = (flagsOf(a) | flagsOf(b)) & (SYNC_FLAG_SEEDING | SYNC_FLAG_COMPLETED)
  return (flags << 8) | Math.min(ageOf(a), ageOf(b))
}

/** The merged view of several nodes' exports, and for each key the first node that exported it. */
export function mergeExports (sets: ReadonlyArray<PeerSet | null>): { merged: PeerSet, origin: Map<string, number> } {
  const merged: PeerSet = new Map()
  const origin = new Map<string, number>()
  sets.forEach((set, i) => {
    if (set === null) return
    for (const [k, v] of set) {
      const old = merged.get(k)
      if (old === undefined) { merged.set(k, v); origin.set(k, i) } else merged.set(k, mergeValues(old, v))
    }
  })
  return { merged, origin }
}

/** What was pushed to one node recently: key → [flags, when (ms)]. */
export type PushLog = Map<string, [number, number]>

/**
 * The records node `self` should get: merged peers its own export lacks, and stops of peers it
 * still exports live, minus what `log` says was pushed with the same flags within `dedupeMs`.
 */
export function planPush (merged: PeerSet, own: PeerSet, log: PushLog | null, nowMs: number, dedupeMs: number): PeerSet {
  const out: PeerSet = new Map()
  for (const [k, v] of merged) {
    const mine = own.get(k)
    if (mine !== undefined) {
      if (!isStopped(v) || isStopped(mine) || ageOf(mine) < ageOf(v)) continue
    }
    if (log !== null) {
      const last = log.get(k)
      if (last !== undefined && last[0] === flagsOf(v) && nowMs - last[1] < dedupeMs) continue
    }
    out.set(k, v)
  }
  return out
}

/** Records pushed to a node in its log. */
export function recordPushed (log: PushLog, pushed: PeerSet, nowMs: number): void {
  for (const [k, v] of pushed) log.set(k, [flagsOf(v), nowMs])
}

/** Forgets log entries older than `dedupeMs`. */
export function prunePushLog (log: PushLog, nowMs: number, dedupeMs: number): void {
  for (const [k, [, at]] of log) if (nowMs - at >= dedupeMs) log.delete(k)
}

/**
 * Encodes a peer set as request bodies: changesets of at most `perChangeset` peers (a torrent with
 * more is split over several), at most `perRequest` changesets per body, written back to back
 * (what `POST /sync` takes).
 */
export function encodePushes (set: PeerSet, perChangeset = MAX_PEERS_PER_CHANGESET, perRequest = MAX_CHANGESETS_PER_REQUEST): Array<{ body: Buffer, changesets: number, peers: number }> {
  // Group by family + hash (the key's first 21 characters), records in key order.
  const keys = [...set.keys()].sort()
  const changesets: Array<{ buf: Buffer, peers: number }> = []
  let entries: ChangesetEntry[] = []
  let count = 0
  let i = 0
  const flush = (): void => {
    if (count === 0) return
    changesets.push({ buf: encodeChangeset(entries), peers: count })
    entries = []
    count = 0
  }
  while (i < keys.length) {
    const group = keys[i]!.slice(0, 21)
    const family = group[0] === '4' ? 4 : 6
    const ipBytes = family === 4 ? 4 : 16
    const hash = Buffer.from(group.slice(1), 'latin1')
    let j = i
    while (j < keys.length && keys[j]!.startsWith(group)) j++
    // Records of this torrent, in as many pieces as the changeset limit needs.
    let k = i
    while (k < j) {
      const room = perChangeset - count
      const take = Math.min(room, j - k)
      const records = Buffer.allocUnsafe(take * (ipBytes + 4))
      for (let r = 0; r < take; r++) {
        const key = keys[k + r]!
        const v = set.get(key)!
        const at = r * (ipBytes + 4)
        records.write(key.slice(21), at, ipBytes + 2, 'latin1')
        records[at + ipBytes + 2] = v >>> 8
        records[at + ipBytes + 3] = v & 0xff
      }
      entries.push({ infoHash: hash, family, records })
      count += take
      k += take
      if (count >= perChangeset) flush()
    }
    i = j
  }
  flush()
  const bodies: Array<{ body: Buffer, changesets: number, peers: number }> = []
  for (let c = 0; c < changesets.length; c += perRequest) {
    const part = changesets.slice(c, c + perRequest)
    bodies.push({ body: Buffer.concat(part.map((p) => p.buf)), changesets: part.length, peers: part.reduce((n, p) => n + p.peers, 0) })
  }
  return bodies
}

/** Human-readable form of a key (for logs and --json details): `hashhex family ip:port`. */
export function describeKey (key: string): { infoHash: string, peer: string } {
  const family = key[0] === '4' ? 4 : 6
  const b = Buffer.from(key.slice(1), 'latin1')
  const hash = b.toString('hex', 0, 20)
  const ipb = b.subarray(20, 20 + (family === 4 ? 4 : 16))
  const port = b.readUInt16BE(20 + ipb.length)
  if (family === 4) return { infoHash: hash, peer: `${[...ipb].join('.')}:${port}` }
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(ipb.readUInt16BE(i).toString(16))
  return { infoHash: hash, peer: `[${groups.join(':')}]:${port}` }
}
