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
