/**
 * Test conveniences over the swarm store, whose API works with raw info_hash bytes and torrent ids
 * (no object per torrent): string keys in, plain snapshots out.
 */
import type { SwarmStore } from '../../src/swarm/store.js'

export interface TorrentView {
  id: number
  peers: number
  seeders: number
  downloaded: number
  lastActive: number
  /** Peers per family. */
  v4: number
  v6: number
}

/** A snapshot of the torrent with info_hash `key` (20 raw bytes as latin1), or undefined. */
export function torrentOf (store: SwarmStore, key: string): TorrentView | undefined {
  const id = store.findKey(key)
  if (id < 0) return undefined
  return {
    id,
    peers: store.peersOf(id),
    seeders: store.seedersOf(id),
    downloaded: store.downloaded(id),
    lastActive: store.lastActive(id),
    v4: store.countOf(id, 4),
    v6: store.countOf(id, 6)
  }
}

/** store.announce by string key; returns the snapshot after it. */
export function announceKey (store: SwarmStore, key: string, family: number, ip: Uint32Array, port: number,
  leftIsZero: boolean, completed: boolean): TorrentView {
  store.announce(Buffer.from(key, 'latin1'), 0, family, ip, port, leftIsZero, completed)
  return torrentOf(store, key)!
}

/** store.stop by string key; the snapshot after it, or undefined for an unknown torrent. */
export function stopKey (store: SwarmStore, key: string, family: number, ip: Uint32Array, port: number): TorrentView | undefined {
  return store.stopKey(key, family, ip, port) < 0 ? undefined : torrentOf(store, key)
}

/** Every torrent's key, in id order. */
export function keysOf (store: SwarmStore): string[] {
  const keys: string[] = []
  for (let id = store.next(0); id >= 0; id = store.next(id + 1)) keys.push(store.keyOf(id))
  return keys
}

/** The stored records of one family of a torrent, as [ip words..., port, meta] arrays. */
export function recordsOf (store: SwarmStore, key: string, family: number): number[][] {
  const id = store.findKey(key)
  if (id < 0) return []
  const n = store.open(id, family)
  const s = family === 4 ? 3 : 6
  const out: number[][] = []
  for (let i = 0; i < n; i++) out.push(Array.from(store.listWords.subarray(store.listBase + i * s, store.listBase + (i + 1) * s)))
  return out
}

/** The id of the torrent with key `key`; fails when there is none. */
export function idOf (store: SwarmStore, key: string): number {
  const id = store.findKey(key)
  if (id < 0) throw new Error(`no torrent ${Buffer.from(key, 'latin1').toString('hex')}`)
  return id
}

/** The flags (meta >>> 24) of ip:port in a torrent's list of `family`, or -1 when it is not there. */
export function flagsOfPeer (store: SwarmStore, key: string, family: number, ip: Uint32Array, port: number): number {
  const id = store.findKey(key)
  if (id < 0) return -1
  const i = store.findPeerIn(id, family, ip, port)
  if (i < 0) return -1
  const s = family === 4 ? 3 : 6
  return store.listWords[store.listBase + i * s + s - 1]! >>> 24
}

/**
 * Everything the store holds for every torrent, sorted by key: the raw records of both families
 * (as stored: ip words, port, meta), counts and times. For comparing two stores exactly.
 */
export function snapshotOf (store: SwarmStore): Array<{ k: string, downloaded: number, lastActive: number, v4: number[], v6: number[], seeders: number }> {
  return keysOf(store).sort((a, b) => a < b ? -1 : a > b ? 1 : 0).map((k) => {
    const t = torrentOf(store, k)!
    return {
      k: Buffer.from(k, 'latin1').toString('hex'),
      downloaded: t.downloaded,
      lastActive: t.lastActive,
      v4: recordsOf(store, k, 4).flat(),
      v6: recordsOf(store, k, 6).flat(),
      seeders: t.seeders
    }
  })
}

/**
 * Inserts a record at index `pos` of the `count` records of stride `s` at `w[base..]` (the caller
 * leaves room for one more); returns the new count. What the store does inside a block, for tests
 * that build peer lists by hand.
 */
export function insertRecord (w: Uint32Array, base: number, count: number, s: number, pos: number, ip: ArrayLike<number>, port: number, meta: number): number {
  if ((count + 1) * s + base > w.length) throw new RangeError('no room for another record')
  w.copyWithin(base + (pos + 1) * s, base + pos * s, base + count * s)
  const b = base + pos * s
  for (let k = 0; k < s - 2; k++) w[b + k] = ip[k]!
  w[b + s - 2] = port
  w[b + s - 1] = meta >>> 0
  return count + 1
}
