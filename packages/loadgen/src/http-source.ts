/**
 * What HTTP floods send: tracker requests as latin1 text, drawn from a workload, or the fixed
 * shape of opentracker's tests/testsuite.sh for `repro-10k`.
 */
import { EVENT_NAMES, type AnnounceDraw, type Workload } from './pool.js'
import { Prng } from './prng.js'
import type { Target } from './target.js'
import { KIND_ANNOUNCE, KIND_SCRAPE } from './udp-client.js'

export interface HttpSource {
  /** The next full request (head included). Sets {@link kind}. */
  next (): string
  /** The next request's path and query only (for HTTP client libraries). Sets {@link kind}. */
  nextPath (): string
  /** Kind of the last request returned: KIND_ANNOUNCE or KIND_SCRAPE. */
  kind: number
}

export interface HttpRequestStyle {
  /** "1.1" keeps the connection open by default; "1.0" closes after the reply unless told otherwise. */
  version: '1.0' | '1.1'
  /** Host header value. */
  host: string
}

/** Announces and scrapes drawn from a workload, as BitTorrent clients send them. */
export class WorkloadHttpSource implements HttpSource {
  kind = KIND_ANNOUNCE
  private readonly draw: AnnounceDraw = { torrent: 0, peer: 0, event: 0, left: 0 }
  private readonly tail: string
  private readonly announcePrefix: string
  private readonly scrapePrefix: string
  private readonly numwant: string

  constructor (private readonly w: Workload, target: Target, style: HttpRequestStyle) {
    this.tail = ` HTTP/${style.version}\r\nHost: ${style.host}\r\nUser-Agent: otbench\r\n\r\n`
    this.announcePrefix = `${target.announcePath}?info_hash=`
    this.scrapePrefix = `${target.scrapePath}?info_hash=`
    this.numwant = String(w.mix.numwant)
  }

  next (): string {
    return 'GET ' + this.nextPath() + this.tail
  }

  nextPath (): string {
    const w = this.w
    const t = w.torrents
    if (w.nextIsScrape()) {
      this.kind = KIND_SCRAPE
      let q = this.scrapePrefix + t.encodedHash(t.pick(w.rng))
      for (let k = 1; k < w.mix.scrapeHashes; k++) q += '&info_hash=' + t.encodedHash(t.pick(w.rng))
      return q
    }
    this.kind = KIND_ANNOUNCE
    const d = w.drawAnnounce(this.draw)
    const p = w.peers
    const event = EVENT_NAMES[d.event]!
    return this.announcePrefix + t.encodedHash(d.torrent) +
      '&peer_id=' + p.peerIdText(d.peer) +
      '&port=' + p.ports[d.peer]! +
      '&uploaded=0&downloaded=0&left=' + d.left +
      (event === '' ? '' : '&event=' + event) +
      '&numwant=' + this.numwant + '&compact=1&key=' + p.keys[d.peer]!.toString(16)
  }
}

/** The 16 info_hashes of opentracker's testsuite.sh: "0123456789012345678" followed by one byte 0x00-0x0f. */
export function reproHashes (): Buffer[] {
  return Array.from({ length: 16 }, (_, i) => Buffer.concat([Buffer.from('0123456789012345678', 'latin1'), Buffer.from([i])]))
}

/**
 * opentracker's tests/testsuite.sh, one request per connection:
 *   GET /announce?info_hash=0123456789012345678%0X&ip=A.B.13.16&port=P HTTP/1.0
 * with X, A, B random in 0-15 and P random in 0-255 (the shell's $RANDOM masked).
 */
export class ReproHttpSource implements HttpSource {
  kind = KIND_ANNOUNCE
  private readonly rng: Prng
  private readonly prefix: string
  private readonly hexByte = Array.from({ length: 16 }, (_, i) => '%' + i.toString(16).toUpperCase().padStart(2, '0'))

  constructor (target: Target, seed: number, private readonly sendIp: boolean) {
    this.rng = new Prng(seed ^ 0x31306b)
    this.prefix = `${target.announcePath}?info_hash=0123456789012345678`
  }

  next (): string {
    return 'GET ' + this.nextPath() + ' HTTP/1.0\r\n\r\n'
  }

  nextPath (): string {
    const r = this.rng.u32()
    const ip = this.sendIp ? `&ip=${(r >>> 4) & 15}.${(r >>> 8) & 15}.13.16` : ''
    return this.prefix + this.hexByte[r & 15]! + ip + '&port=' + ((r >>> 12) & 255)
  }
}
