/**
 * The simulated swarm population: a pool of torrents with the popularity skew of real trackers
 * and a pool of peers with a seeder share, both derived from one seed so a workload can be
 * replayed exactly (and a whitelisting tracker can be given the same hashes with `otbench hashes`).
 *
 * Skew (aquatic's load testers): torrent i of N has weight 0.5 + e^(6.5 - 500·i/N), so the first
 * ~1.3% of torrents are large swarms (weights up to ~665) and the rest share a flat floor: about
 * 73% of requests go to the first 2% of torrents, the long tail sees one or two peers each.
 */
import { Prng } from './prng.js'

export type Skew = 'aquatic' | 'uniform'

/** Weight of torrent `i` of `n` under aquatic's skew. */
export function aquaticWeight (i: number, n: number): number {
  return 0.5 + Math.exp(6.5 - (500 * i) / n)
}

/**
 * Walker/Vose alias table: O(1) sampling from a fixed discrete distribution.
 *
 *   column i:  [ prob[i] of i | 1 - prob[i] of alias[i] ]
 *
 * Draw a column uniformly, then keep it with probability prob[i], else take its alias.
 */
export class AliasSampler {
  readonly n: number
  private readonly prob: Float64Array
  private readonly alias: Int32Array

  constructor (weights: ArrayLike<number>) {
    const n = weights.length
    if (n === 0) throw new Error('AliasSampler needs at least one weight')
    this.n = n
    this.prob = new Float64Array(n)
    this.alias = new Int32Array(n)
    let sum = 0
    for (let i = 0; i < n; i++) sum += weights[i]!
    const scaled = new Float64Array(n)
    const small = new Int32Array(n)
    const large = new Int32Array(n)
    let ns = 0
    let nl = 0
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i]! * n) / sum
      if (scaled[i]! < 1) small[ns++] = i
      else large[nl++] = i
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns]!
      const l = large[--nl]!
      this.prob[s] = scaled[s]!
      this.alias[s] = l
      scaled[l] = scaled[l]! + scaled[s]! - 1
      if (scaled[l]! < 1) small[ns++] = l
      else large[nl++] = l
    }
    while (nl > 0) { const l = large[--nl]!; this.prob[l] = 1; this.alias[l] = l }
    while (ns > 0) { const s = small[--ns]!; this.prob[s] = 1; this.alias[s] = s }
  }

  /** Draws an index with the table's probabilities. */
  sample (rng: Prng): number {
    const i = rng.int(this.n)
    return rng.float() < this.prob[i]! ? i : this.alias[i]!
  }
}

/** Hex of bytes, for whitelists and reports (never on a hot path). */
function hex (b: Buffer, off: number, n: number): string {
  return b.toString('hex', off, off + n)
}

const HEXU = '0123456789ABCDEF'

/** Percent-encodes every byte of `b[off, off+n)` (the form BitTorrent clients send). */
export function percentEncode (b: Buffer, off: number, n: number): string {
  let s = ''
  for (let i = off; i < off + n; i++) {
    const c = b[i]!
    s += '%' + HEXU[c >> 4]! + HEXU[c & 15]!
  }
  return s
}

export class TorrentPool {
  /** Info hashes, 20 bytes each: torrent i is `hashes[20i, 20i + 20)`. */
  readonly hashes: Buffer
  readonly sampler: AliasSampler
  private encoded: string[] | null = null

  constructor (readonly count: number, readonly seed: number, readonly skew: Skew = 'aquatic') {
    if (!Number.isInteger(count) || count < 1) throw new Error(`torrent count must be a positive integer: ${count}`)
    this.hashes = Buffer.alloc(20 * count)
    // Hashes are a prefix-stable stream: the first k hashes of a pool of n > k are the pool of k.
    new Prng(seed ^ 0x68617368).fill(this.hashes, 0, this.hashes.length)
    const w = new Float64Array(count)
    for (let i = 0; i < count; i++) w[i] = skew === 'aquatic' ? aquaticWeight(i, count) : 1
    this.sampler = new AliasSampler(w)
  }

  /** Draws a torrent index with the pool's skew. */
  pick (rng: Prng): number {
    return this.sampler.sample(rng)
  }

  /** Percent-encoded info_hash of torrent `i` (built once for the whole pool on first use). */
  encodedHash (i: number): string {
    if (this.encoded === null) {
      const e = new Array<string>(this.count)
      for (let k = 0; k < this.count; k++) e[k] = percentEncode(this.hashes, 20 * k, 20)
      this.encoded = e
    }
    return this.encoded[i]!
  }

  hexHash (i: number): string {
    return hex(this.hashes, 20 * i, 20)
  }
}

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
/** Lowest port handed to simulated peers. */
export const PEER_PORT_BASE = 1024
/** Distinct ports available: peers beyond this share ports (and so merge at a tracker that keys by ip:port). */
export const PEER_PORT_COUNT = 65536 - PEER_PORT_BASE

export class PeerPool {
  /** 20-byte peer ids (Azureus style "-OB0100-" + 12 alphanumerics: safe in a query unencoded). */
  readonly peerIds: Buffer
  readonly ports: Uint16Array
  readonly keys: Uint32Array
  readonly seeder: Uint8Array

  constructor (readonly count: number, readonly seed: number, readonly seederShare: number) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`peer count must be a positive integer: ${count}`)
    const rng = new Prng(seed ^ 0x70656572)
    this.peerIds = Buffer.alloc(20 * count)
    this.ports = new Uint16Array(count)
    this.keys = new Uint32Array(count)
    this.seeder = new Uint8Array(count)
    const prefix = Buffer.from('-OB0100-', 'latin1')
    for (let i = 0; i < count; i++) {
      prefix.copy(this.peerIds, 20 * i)
      for (let k = 8; k < 20; k++) this.peerIds[20 * i + k] = ALNUM.charCodeAt(rng.int(ALNUM.length))
      this.ports[i] = PEER_PORT_BASE + (i % PEER_PORT_COUNT)
      this.keys[i] = rng.u32()
      this.seeder[i] = rng.float() < seederShare ? 1 : 0
    }
  }

  /** The peer id of peer `i` as text (it is plain ASCII). */
  peerIdText (i: number): string {
    return this.peerIds.toString('latin1', 20 * i, 20 * i + 20)
  }
}

/** Event codes, as BEP 15 numbers them (the HTTP names are EVENT_NAMES). */
export const EVENT_NONE = 0
export const EVENT_COMPLETED = 1
export const EVENT_STARTED = 2
export const EVENT_STOPPED = 3
/** Mix names in `--events` order; index = position here, code = EVENT_CODES[index]. */
export const EVENT_MIX_NAMES = ['started', 'none', 'completed', 'stopped'] as const
export const EVENT_CODES = [EVENT_STARTED, EVENT_NONE, EVENT_COMPLETED, EVENT_STOPPED] as const
/** HTTP `event=` values by BEP 15 code ('' for none: the parameter is left out). */
export const EVENT_NAMES = ['', 'completed', 'started', 'stopped'] as const

/** How a workload draws requests: the mix of request kinds and of announce events. */
export interface MixOptions {
  /** Share of requests that are scrapes, 0..1 (the rest are announces). */
  scrapeShare: number
  /** Weights of started, none, completed, stopped (normalised). */
  events: readonly number[]
  /** numwant sent with every announce. */
  numwant: number
  /** info_hashes per scrape. */
  scrapeHashes: number
}

/** One drawn announce. */
export interface AnnounceDraw {
  torrent: number
  peer: number
  event: number
  /** Bytes left: 0 for a seeder or a completed event. */
  left: number
}

/** Draws requests from the pools with the configured mix; deterministic for a seed. */
export class Workload {
  readonly rng: Prng
  private readonly eventCdf: Float64Array

  constructor (readonly torrents: TorrentPool, readonly peers: PeerPool, readonly mix: MixOptions, seed: number) {
    this.rng = new Prng(seed ^ 0x776b6c64)
    this.eventCdf = new Float64Array(EVENT_CODES.length)
    let acc = 0
    for (let i = 0; i < EVENT_CODES.length; i++) { acc += mix.events[i] ?? 0; this.eventCdf[i] = acc }
    for (let i = 0; i < EVENT_CODES.length; i++) this.eventCdf[i] = this.eventCdf[i]! / acc
  }

  /** True when the next request should be a scrape. */
  nextIsScrape (): boolean {
    return this.mix.scrapeShare > 0 && this.rng.float() < this.mix.scrapeShare
  }

  drawEvent (): number {
    const u = this.rng.float()
    for (let i = 0; i < EVENT_CODES.length - 1; i++) if (u < this.eventCdf[i]!) return EVENT_CODES[i]!
    return EVENT_CODES[EVENT_CODES.length - 1]!
  }

  /** Fills `out` with the next announce. */
  drawAnnounce (out: AnnounceDraw): AnnounceDraw {
    out.torrent = this.torrents.pick(this.rng)
    out.peer = this.rng.int(this.peers.count)
    out.event = this.drawEvent()
    out.left = this.peers.seeder[out.peer] === 1 || out.event === EVENT_COMPLETED ? 0 : 1 + (this.peers.keys[out.peer]! & 0x3fffffff)
    return out
  }

  /** Writes `mix.scrapeHashes` drawn hashes into `out` at `off`; returns the offset after them. */
  drawScrapeHashes (out: Buffer, off: number): number {
    const h = this.torrents.hashes
    for (let k = 0; k < this.mix.scrapeHashes; k++) {
      const t = this.torrents.pick(this.rng)
      h.copy(out, off, 20 * t, 20 * t + 20)
      off += 20
    }
    return off
  }
}
