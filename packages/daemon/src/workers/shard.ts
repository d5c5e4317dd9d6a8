/**
 * Which worker owns a torrent: the first byte of its info_hash modulo the number of workers
 * (aquatic shards its swarm workers the same way). info_hashes are SHA-1 or truncated SHA-256
 * digests, so the first byte is uniform over real torrents. A client can pick hashes that all
 * land on one worker, but it can load one worker just as well with a single popular hash; the
 * shard choice protects nothing and needs no secret (the store's own index is seeded).
 *
 * The first byte also keeps whole full-scrape buckets (fullscrape/stream.ts sorts by hash) in one
 * shard.
 */
export class ShardMap {
  /** owner[b]: the worker owning info_hashes whose first byte is b. */
  readonly owner = new Uint8Array(256)

  constructor (readonly index: number, readonly count: number) {
    if (count < 1 || count > 256 || index < 0 || index >= count) throw new Error(`bad shard ${index} of ${count}`)
    for (let b = 0; b < 256; b++) this.owner[b] = b % count
  }

  /** Whether this worker owns the info_hash at `hash[off]`. */
  owns (hash: Uint8Array, off: number): boolean {
    return this.owner[hash[off]!] === this.index
  }

  /** {@link owns} for a 20-byte key as a latin1 string. */
  ownsKey (key: string): boolean {
    return this.owner[key.charCodeAt(0) & 0xff] === this.index
  }

  /** Whether this worker owns all `n` hashes at `buf[off]`, `buf[off + 20]`, ... */
  ownsAll (buf: Uint8Array, off: number, n: number): boolean {
    const owner = this.owner
    const me = this.index
    for (let k = 0; k < n; k++) if (owner[buf[off + k * 20]!] !== me) return false
    return true
  }
}
