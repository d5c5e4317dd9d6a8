/**
 * opentracker state dumps (reference §9): `HEX40:<base minute>:<downloaded>` lines, written by
 * `/stats?mode=statedump` (fullscrape/stream.ts) and read by `-l`. Read without opentracker's
 * bugs: downloaded is restored once, not doubled; garbage lines are counted and skipped, never
 * turned into torrents; torrents whose base is older than the torrent timeout are dropped as the
 * cleaner would drop them; the access lists apply.
 */
import { readFileSync } from 'node:fs'
import { parseStateDump } from '@otd/proto'
import type { SwarmStore } from '../swarm/store.js'

export interface StateDumpReport { torrents: number, rejectedLines: number, expired: number, denied: number, existing: number }

/** `owns` (with `--workers`): the torrents this store holds; the others are skipped without being counted. */
export function loadStateDumpBuffer (data: Buffer, store: SwarmStore, now: number, torrentTimeoutSeconds: number,
  allows: (key: string) => boolean, owns: ((key: string) => boolean) | null = null): StateDumpReport {
  const parsed = parseStateDump(data)
  const report: StateDumpReport = { torrents: 0, rejectedLines: parsed.rejected, expired: 0, denied: 0, existing: 0 }
  for (const e of parsed.entries) {
    const key = e.hash.toString('latin1')
    if (owns !== null && !owns(key)) continue
    const base = e.baseMinute * 60
    if (now - base >= torrentTimeoutSeconds) { report.expired++; continue }
    if (!allows(key)) { report.denied++; continue }
    if (store.findKey(key) >= 0) report.existing++
    else report.torrents++
    store.restoreTorrentKey(key, Math.min(base, now), e.downloaded)
  }
  return report
}

export function loadStateDumpFile (path: string, store: SwarmStore, now: number, torrentTimeoutSeconds: number,
  allows: (key: string) => boolean, owns: ((key: string) => boolean) | null = null): StateDumpReport {
  return loadStateDumpBuffer(readFileSync(path), store, now, torrentTimeoutSeconds, allows, owns)
}
