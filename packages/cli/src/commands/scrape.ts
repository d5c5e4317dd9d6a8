import { BaseCommand, EXIT_CODES } from '../base-command.js'
import { fileFlag } from '../lib/access/flags.js'
import { collectHashes } from '../lib/access/hashes.js'
import { formatCount, formatTable } from '../lib/format.js'
import { trackerFlag, trackerText } from '../lib/tracker/flags.js'
import type { ScrapeResult } from '../lib/tracker/types.js'
import { parseTrackerUrl } from '../lib/tracker/url.js'

export default class Scrape extends BaseCommand<typeof Scrape> {
  static override summary = 'Scrape info_hashes from any tracker, over HTTP or UDP, as a client would.'
  static override description = `Asks the tracker for the seeders, leechers and completed downloads of each HASH (BEP 48 over HTTP, BEP 15 over UDP with 74 hashes per packet), as a client would: any tracker, not only otd. Hashes the tracker does not report are listed as unknown. A scrape changes nothing on the tracker but its counters.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %> 0123456789abcdef0123456789abcdef01234567',
    '<%= config.bin %> <%= command.id %> --tracker udp://tracker.example.org:6969 0123456789abcdef0123456789abcdef01234567',
    '<%= config.bin %> <%= command.id %> --tracker http://tracker.example.org/announce --file hashes.txt --json'
  ]

  static override strict = false
  static override usage = '<%= command.id %> HASH... [--tracker URL] [--file FILE]'
  static override flags = { tracker: trackerFlag, file: fileFlag }

  async run (): Promise<ScrapeResult> {
    const tracker = parseTrackerUrl(trackerText(this.flags.tracker, this.flags.url))
    const hashes = await collectHashes(this.rest, this.flags.file ?? [])
    const { scrape } = await import('../lib/tracker/client.js')
    const r = await scrape(tracker, hashes.map((h) => Buffer.from(h, 'hex')), this.flags.timeout)
    if (r.files.length > 0) {
      this.print(formatTable(r.files.map((f) => [f.info_hash, formatCount(f.seeders), formatCount(f.leechers), formatCount(f.completed)]),
        ['info_hash', 'seeders', 'leechers', 'completed']))
    }
    if (r.missing.length > 0) this.print(`not reported by ${r.tracker} (unknown to it):\n${r.missing.map((h) => `  ${h}`).join('\n')}`)
    return r
  }
}
