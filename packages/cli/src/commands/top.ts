import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES, durationFlag } from '../base-command.js'
import { formatCount, formatTable } from '../lib/format.js'
import { TOP_KEYS, topTorrents, type TopKey, type TopResult } from '../lib/stats/top.js'
import { watch } from '../lib/stats/watch.js'

function render (r: TopResult): string {
  if (r.torrents.length === 0) return `no torrent has any ${r.by} yet`
  const cols: TopKey[] = r.source === 'tpbs' ? ['peers', 'seeds', 'leechers', 'completed'] : [r.by]
  return formatTable(
    r.torrents.map((t, i) => [String(i + 1), t.info_hash, ...cols.map((c) => formatCount(t[c] ?? 0))]),
    ['#', 'info_hash', ...cols])
}

export default class TopCommand extends BaseCommand<typeof TopCommand> {
  static override summary = 'List the busiest torrents by peers, seeds, leechers or completed downloads.'
  static override description = `By peers, seeds or leechers (up to 100 torrents) this reads /stats?mode=top100, one cheap pass in the daemon. By completed downloads, or for more than 100, it streams a full scrape (mode=tpbs), which walks every torrent: avoid a short --watch interval with it on a big tracker.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --by seeds -n 20',
    '<%= config.bin %> <%= command.id %> --by completed -n 5 --json',
    '<%= config.bin %> <%= command.id %> --watch --interval 5s'
  ]

  static override flags = {
    by: Flags.string({ summary: 'What to rank by.', options: [...TOP_KEYS], default: 'peers' }),
    number: Flags.integer({ char: 'n', summary: 'How many torrents to list.', default: 10, min: 1, max: 100000 }),
    watch: Flags.boolean({ char: 'w', summary: 'Refresh in place until interrupted (Ctrl-C).' }),
    interval: durationFlag({ summary: 'Time between refreshes with --watch.', default: 2000, defaultHelp: async () => '2s' }),
    count: Flags.integer({ summary: 'With --watch, stop after this many refreshes.', min: 1, dependsOn: ['watch'] }),
    'stats-path': Flags.string({ summary: 'Path of the stats page, if moved with access.stats_path.', default: 'stats' })
  }

  async run (): Promise<TopResult | undefined> {
    const f = this.flags
    const client = this.client(f['stats-path'])
    const by = f.by as TopKey
    const read = (): Promise<TopResult> => topTorrents(client, by, f.number)
    if (f.watch) {
      await watch({ intervalMs: f.interval, count: f.count, title: `otctl top --by ${by} -n ${f.number} (${client.base.origin})`, json: this.jsonEnabled() }, read, render)
      return undefined
    }
    const r = await read()
    this.print(render(r))
    return r
  }
}
