/**
 * The busiest torrents. By peers, seeds or leechers and at most 100 of them, `/stats?mode=top100`
 * answers from one pass over the swarm (`top10` for n ≤ 10); by completed downloads, or more than
 * 100, the only source is a full scrape (`mode=tpbs&format=txtp`, `HEX:seeds:leechers:completed`
 * lines), read as a stream into a bounded selection, so memory is O(n), not O(torrents).
 */
import { networkError } from '../http.js'
import type { OtdClient } from '../otd-client.js'
import { FULL_SCRAPE_HEADERS, forEachLine } from './lines.js'

export const TOP_KEYS = ['peers', 'seeds', 'leechers', 'completed'] as const
export type TopKey = typeof TOP_KEYS[number]

export interface TopTorrent {
  info_hash: string
  peers?: number
  seeds?: number
  leechers?: number
  completed?: number
}

export interface TopResult {
  by: TopKey
  /** `top10`, `top100` or `tpbs` (full scrape). */
  source: string
  torrents: TopTorrent[]
}

/** Keeps the `n` largest by `key`, ties broken by info_hash order of arrival. */
class Selection {
  readonly items: Array<{ v: number, t: TopTorrent }> = []
  constructor (readonly n: number) {}
  offer (v: number, t: () => TopTorrent): void {
    const items = this.items
    if (v <= 0 || (items.length === this.n && v <= items[items.length - 1]!.v)) return
    let i = items.length
    while (i > 0 && items[i - 1]!.v < v) i--
    items.splice(i, 0, { v, t: t() })
    if (items.length > this.n) items.pop()
  }
}

export async function topTorrents (client: OtdClient, by: TopKey, n: number): Promise<TopResult> {
  if (by !== 'completed' && n <= 100) {
    const mode = n <= 10 ? 'top10' : 'top100'
    const r = await client.statsJson<Record<'peers' | 'seeds' | 'leechers', Array<{ hash: string, count: number }>>>(mode)
    return {
      by,
      source: mode,
      torrents: (r[by] ?? []).slice(0, n).map((e) => ({ info_hash: e.hash.toLowerCase(), [by]: e.count }))
    }
  }
  const sel = new Selection(n)
  const res = await client.stats('tpbs', 'txtp', FULL_SCRAPE_HEADERS)
  try {
    await forEachLine(res, (line) => {
      const p = line.split(':')
      if (p.length < 4 || p[0]!.length !== 40) return
      const seeds = Number(p[1])
      const leechers = Number(p[2])
      const completed = Number(p[3])
      const v = by === 'peers' ? seeds + leechers : by === 'seeds' ? seeds : by === 'leechers' ? leechers : completed
      sel.offer(v, () => ({ info_hash: p[0]!.toLowerCase(), peers: seeds + leechers, seeds, leechers, completed }))
    })
  } catch (err) {
    throw networkError(err, client.base.origin, client.http.timeoutMs)
  }
  return { by, source: 'tpbs', torrents: sel.items.map((i) => i.t) }
}
