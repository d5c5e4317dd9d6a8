import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES } from '../base-command.js'
import { badInput } from '../errors.js'
import { isHashHex } from '../lib/access/hashes.js'
import { formatCount, formatDuration, formatPairs, formatTable } from '../lib/format.js'
import { trackerFlag, trackerText } from '../lib/tracker/flags.js'
import type { AnnounceResult } from '../lib/tracker/types.js'
import { parseTrackerUrl } from '../lib/tracker/url.js'

export default class Announce extends BaseCommand<typeof Announce> {
  static override summary = 'Announce an info_hash to any tracker, over HTTP or UDP, and show its answer.'
  static override description = `Sends one announce as a BitTorrent client would (BEP 3 over HTTP with compact peers, BEP 15 over UDP) to any tracker, and prints the interval, swarm counts and the peers handed out. A refusal, such as a closed tracker's "not authorized", exits 1 with the tracker's reason.\n\nThe announce adds this host as a peer (port --port) until it times out; --event stopped removes it.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %> 0123456789abcdef0123456789abcdef01234567',
    '<%= config.bin %> <%= command.id %> --tracker udp://tracker.example.org:6969 --seed 0123456789abcdef0123456789abcdef01234567',
    '<%= config.bin %> <%= command.id %> --tracker http://tracker.example.org/announce --event stopped 0123456789abcdef0123456789abcdef01234567'
  ]

  static override args = {
    hash: Args.string({ description: 'info_hash, 40 hex digits', required: true })
  }

  static override flags = {
    tracker: trackerFlag,
    event: Flags.string({ summary: 'The announce event.', options: ['started', 'completed', 'stopped', 'none'], default: 'started' }),
    port: Flags.integer({ char: 'p', summary: 'The port this peer says it listens on.', default: 6881, min: 1, max: 65535 }),
    left: Flags.integer({ summary: 'Bytes left to download (0 = a seeder).', default: 1, min: 0 }),
    seed: Flags.boolean({ summary: 'Announce as a seeder (same as --left 0).', exclusive: ['left'] }),
    uploaded: Flags.integer({ summary: 'Bytes uploaded.', default: 0, min: 0 }),
    downloaded: Flags.integer({ summary: 'Bytes downloaded.', default: 0, min: 0 }),
    numwant: Flags.integer({ summary: 'How many peers to ask for.', default: 50, min: 0 }),
    'peer-id': Flags.string({ summary: '20-byte peer id (or 40 hex digits). Default: -OC0100- and 12 random characters.' })
  }

  async run (): Promise<AnnounceResult> {
    const f = this.flags
    const tracker = parseTrackerUrl(trackerText(f.tracker, f.url))
    if (!isHashHex(this.args.hash)) throw badInput(`${JSON.stringify(this.args.hash)} is not an info_hash (40 hex digits)`)
    const { announce, makePeerId, randomKey } = await import('../lib/tracker/client.js')
    const r = await announce(tracker, {
      infoHash: Buffer.from(this.args.hash, 'hex'),
      peerId: makePeerId(f['peer-id']),
      port: f.port,
      uploaded: f.uploaded,
      downloaded: f.downloaded,
      left: f.seed ? 0 : f.left,
      event: f.event as 'started' | 'completed' | 'stopped' | 'none',
      numWant: f.numwant,
      key: randomKey()
    }, f.timeout)
    const pairs: Array<[string, string]> = [
      ['tracker', `${r.tracker} (${r.protocol})`],
      ['info_hash', r.info_hash],
      ['interval', `${formatDuration(r.interval)}${r.min_interval !== undefined ? ` (min ${formatDuration(r.min_interval)})` : ''}`],
      ['seeders', formatCount(r.seeders)],
      ['leechers', formatCount(r.leechers)]
    ]
    if (r.downloaded !== undefined) pairs.push(['completed', formatCount(r.downloaded)])
    if (r.external_ip !== undefined) pairs.push(['your address', r.external_ip])
    if (r.warning !== undefined) pairs.push(['warning', r.warning])
    pairs.push(['peers', r.peers.length === 0 ? 'none' : formatCount(r.peers.length)])
    let out = formatPairs(pairs)
    if (r.peers.length > 0) out += '\n' + formatTable(r.peers.map((p) => [`  ${p.ip}`, String(p.port)]), undefined, ['left', 'right'])
    this.print(out)
    return r
  }
}
