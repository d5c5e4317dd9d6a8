// End-to-end: the npm `bittorrent-tracker` Client (WebTorrent's tracker client,
// HTTP and UDP/BEP 15) announces to and scrapes a real otd over loopback.
//
// Two clients (distinct 20-byte peer ids, distinct ports) share one random
// info_hash. Every step waits for the client's own events (`update`, `peer`,
// `scrape`), bounded by WAIT_MS; a `warning`/`error` from a client fails the
// step at once. No sleeps.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Client from 'bittorrent-tracker/client'
import type { AnnounceOpts, ScrapeData, UpdateData } from 'bittorrent-tracker/client'
import { createTracker } from '../../src/index.js'

const WAIT_MS = 5000

type Tracker = ReturnType<typeof createTracker>
type Kind = 'update' | 'peer' | 'scrape' | 'problem'
type Payload = { update: UpdateData; peer: string; scrape: ScrapeData; problem: string }
type Entry = { [K in Kind]: { kind: K; data: Payload[K] } }[Kind]

/**
 * One bittorrent-tracker Client plus everything it emitted, in order. `mark()`
 * returns the current position; `next()` waits for the first matching event at
 * or after a position.
 */
class Peer {
  readonly client: Client
  readonly events: Entry[] = []
  private wake: (() => void) | undefined

  constructor(
    readonly name: string,
    readonly port: number,
    readonly peerId: Buffer,
    infoHash: Buffer,
    announce: string,
  ) {
    this.client = new Client({ infoHash, peerId, announce, port, userAgent: `otd-e2e-${name}` })
    const push = (e: Entry): void => {
      this.events.push(e)
      this.wake?.()
    }
    this.client.on('update', (data) => push({ kind: 'update', data }))
    this.client.on('peer', (data) => push({ kind: 'peer', data }))
    this.client.on('scrape', (data) => push({ kind: 'scrape', data }))
    this.client.on('warning', (err) => push({ kind: 'problem', data: `warning: ${err.message}` }))
    this.client.on('error', (err) => push({ kind: 'problem', data: `error: ${err.message}` }))
  }

  get addr(): string {
    return `127.0.0.1:${this.port}`
  }

  mark(): number {
    return this.events.length
  }

  peersSeen(from = 0): string[] {
    return this.events.slice(from).flatMap((e) => (e.kind === 'peer' ? [e.data] : []))
  }

  private describe(from: number): string {
    const seen = this.events.slice(from).map((e) => `${e.kind} ${typeof e.data === 'string' ? e.data : JSON.stringify(pick(e.data))}`)
    return seen.length ? seen.join('; ') : 'nothing'
  }

  /** First `kind` event at index >= from for which `accept` holds. */
  async next<K extends 'update' | 'peer' | 'scrape'>(
    kind: K,
    from: number,
    what: string,
    accept: (data: Payload[K]) => boolean = () => true,
  ): Promise<Payload[K]> {
    const deadline = Date.now() + WAIT_MS
    for (;;) {
      for (let i = from; i < this.events.length; i++) {
        const e = this.events[i]
        if (e?.kind === 'problem') {
          assert.fail(`${this.name}: client reported "${e.data}" while waiting for ${what}`)
        }
        if (e?.kind === kind && accept(e.data as Payload[K])) return e.data as Payload[K]
      }
      const left = deadline - Date.now()
      if (left <= 0) {
        assert.fail(`${this.name}: no ${what} within ${WAIT_MS} ms; client emitted since: ${this.describe(from)}`)
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = undefined
    }
  }

  /** Runs an announce and returns the tracker's reply as seen by the client. */
  async announce(what: string, send: () => void): Promise<UpdateData> {
    const m = this.mark()
    send()
    return this.next('update', m, `the tracker's reply to ${what}`)
  }

  async scrape(): Promise<{ complete: number; incomplete: number; downloaded: number }> {
    const m = this.mark()
    this.client.scrape()
    const s = await this.next('scrape', m, 'a scrape reply')
    return { complete: s.complete, incomplete: s.incomplete, downloaded: s.downloaded }
  }

  destroy(): Promise<void> {
    return new Promise((resolve) => {
      if (this.client.destroyed) return resolve()
      this.client.destroy(() => resolve())
    })
  }
}

/** complete/incomplete of an announce reply (opentracker-style HTTP replies also carry `downloaded`). */
function counts(d: UpdateData): { complete: unknown; incomplete: unknown } {
  return { complete: d.complete, incomplete: d.incomplete }
}

function pick(d: UpdateData | ScrapeData): Record<string, unknown> {
  const { complete, incomplete, downloaded, infoHash } = d as Record<string, unknown>
  return { complete, incomplete, ...(downloaded === undefined ? {} : { downloaded }), ...(infoHash === undefined ? {} : { infoHash }) }
}

/** Random 20-byte peer id in the Azureus style: `-OE0001-` + 12 random bytes. */
function peerId(): Buffer {
  return Buffer.concat([Buffer.from('-OE0001-'), randomBytes(12)])
}

/**
 * Random info_hash whose bytes are all < 0x80. The client's HTTP scrape parser
 * (bencode v4) turns dictionary keys into UTF-8 text and reports a mangled
 * `infoHash` for keys that are not valid UTF-8; ASCII keys round-trip, so the
 * scrape event's `infoHash` can be checked. (The libtorrent test covers
 * arbitrary bytes.)
 */
function asciiInfoHash(): Buffer {
  return Buffer.from(randomBytes(20).map((b) => b & 0x7f))
}

/** Two distinct ports that no test listens on; the tracker just records them. */
function twoPorts(): [number, number] {
  const a = 10000 + (randomBytes(2).readUInt16BE(0) % 50000)
  return [a, a + 1]
}

let tracker: Tracker | undefined
let httpUrl = ''
let udpUrl = ''
const peers: Peer[] = []

before(async () => {
  tracker = createTracker({
    http: [{ host: '127.0.0.1', port: 0 }],
    udp: [{ host: '127.0.0.1', port: 0 }],
  })
  const bound = await tracker.listen()
  const http = bound.http[0]
  const udp = bound.udp[0]
  assert.ok(http && udp, `tracker.listen() must report one HTTP and one UDP endpoint, got ${JSON.stringify(bound)}`)
  httpUrl = `http://127.0.0.1:${http.port}/announce`
  udpUrl = `udp://127.0.0.1:${udp.port}`
})

after(async () => {
  await Promise.all(peers.map((p) => p.destroy()))
  await tracker?.close()
})

for (const transport of ['http', 'udp'] as const) {
  test(`bittorrent-tracker Client over ${transport}: peers, counts, scrape, completed, stopped`, { timeout: 60_000 }, async () => {
    const url = transport === 'http' ? httpUrl : udpUrl
    const infoHash = asciiInfoHash()
    const [portA, portB] = twoPorts()
    const a = new Peer('A', portA, peerId(), infoHash, url)
    const b = new Peer('B', portB, peerId(), infoHash, url)
    peers.push(a, b)
    assert.notDeepEqual(a.peerId, b.peerId)
    const leech: AnnounceOpts = { left: 1000, uploaded: 0, downloaded: 0 }
    const seed: AnnounceOpts = { left: 0, uploaded: 0, downloaded: 1000 }

    // A starts alone: counted as one leecher, gets nobody (not even itself).
    const aStart = a.mark()
    let r = await a.announce('A started', () => a.client.start(leech))
    assert.deepEqual(counts(r), { complete: 0, incomplete: 1 }, "A's started reply counts")
    assert.deepEqual(a.peersSeen(aStart), [], 'A alone must get no peers')

    // B starts: both are counted, B gets exactly A.
    const bStart = b.mark()
    r = await b.announce('B started', () => b.client.start(leech))
    assert.deepEqual(counts(r), { complete: 0, incomplete: 2 }, "B's started reply counts")
    await b.next('peer', bStart, `peer ${a.addr}`, (addr) => addr === a.addr)
    assert.deepEqual(b.peersSeen(bStart), [a.addr], 'B must get exactly A')

    // A re-announces: gets exactly B, never itself.
    const aUpdate = a.mark()
    r = await a.announce('A update', () => a.client.update(leech))
    assert.deepEqual(counts(r), { complete: 0, incomplete: 2 }, "A's update reply counts")
    await a.next('peer', aUpdate, `peer ${b.addr}`, (addr) => addr === b.addr)
    assert.deepEqual(a.peersSeen(aUpdate), [b.addr], 'A must get exactly B')

    // The client's own scrape.
    const hex = infoHash.toString('hex')
    const m = a.mark()
    a.client.scrape()
    const s = await a.next('scrape', m, 'a scrape reply')
    assert.equal(s.infoHash, hex, 'scrape reply is for our info_hash')
    assert.deepEqual(pick(s), { complete: 0, incomplete: 2, downloaded: 0, infoHash: hex }, 'scrape after two starts')

    // B completes (left=0, event=completed): a seeder now, downloaded +1.
    r = await b.announce('B completed', () => b.client.complete(seed))
    assert.deepEqual(counts(r), { complete: 1, incomplete: 1 }, "B's completed reply counts")
    assert.deepEqual(await a.scrape(), { complete: 1, incomplete: 1, downloaded: 1 }, 'scrape after B completed')

    // A second completed from the same peer is not another download.
    await b.announce('B completed again', () => b.client.complete(seed))
    assert.deepEqual(await b.scrape(), { complete: 1, incomplete: 1, downloaded: 1 }, 'scrape after B completed twice')

    // B stops: gone from the swarm; the download it made still counts.
    await b.announce('B stopped', () => b.client.stop(seed))
    assert.deepEqual(await a.scrape(), { complete: 0, incomplete: 1, downloaded: 1 }, 'scrape after B stopped')

    // A stops: the swarm is empty.
    await a.announce('A stopped', () => a.client.stop(leech))
    assert.deepEqual(await a.scrape(), { complete: 0, incomplete: 0, downloaded: 1 }, 'scrape after A stopped too')

    // Nobody was ever told about itself.
    assert.ok(!a.peersSeen().includes(a.addr), `A was given its own address: ${a.peersSeen().join(', ')}`)
    assert.ok(!b.peersSeen().includes(b.addr), `B was given its own address: ${b.peersSeen().join(', ')}`)
  })
}
