import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES, durationFlag } from '../base-command.js'
import { badInput } from '../errors.js'
import { formatCount, formatDuration, plural } from '../lib/format.js'
import { FULL_SCRAPE_HEADERS, forEachLine } from '../lib/stats/lines.js'
import { STATS_MODES, STREAMED_MODES, parseMetrics, renderMetrics, renderStatsJson } from '../lib/stats/render.js'
import { watch } from '../lib/stats/watch.js'

export default class StatsCommand extends BaseCommand<typeof StatsCommand> {
  static override summary = 'Show a /stats mode (or the Prometheus /metrics) for people, raw, or as JSON; --watch refreshes it in place.'
  static override description = `MODE is any opentracker stats mode otd answers (docs/stats.md), or "metrics" for the Prometheus page /metrics.\n\nBy default the figures come from format=json and are shown with units and aligned tables; --raw prints the daemon's own body byte for byte (what MRTG and opentracker scripts see); --json prints the JSON. tpbs (a full scrape) and statedump are streamed, so memory stays flat however large the tracker is.\n\n${EXIT_CODES}`

  static override examples = [
    { description: 'Peers, seeds and torrents', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'The XML document opentracker scripts parse, unchanged', command: '<%= config.bin %> <%= command.id %> everything --raw' },
    { description: 'A live view refreshed every second', command: '<%= config.bin %> <%= command.id %> conn --watch --interval 1s' },
    { description: 'Every metric', command: '<%= config.bin %> <%= command.id %> metrics' },
    { description: 'A full scrape as text lines', command: '<%= config.bin %> <%= command.id %> tpbs --raw --format txtp > scrape.txt' }
  ]

  static override args = {
    mode: Args.string({ description: 'stats mode', options: [...STATS_MODES], default: 'peer' })
  }

  static override flags = {
    raw: Flags.boolean({ summary: 'Print the daemon\'s body unchanged (opentracker format).', exclusive: ['json'] }),
    format: Flags.string({ summary: 'Full-scrape format for tpbs --raw.', options: ['ben', 'txt', 'txtp', 'bin', 'url'], dependsOn: ['raw'] }),
    watch: Flags.boolean({ char: 'w', summary: 'Refresh in place until interrupted (Ctrl-C).' }),
    interval: durationFlag({ summary: 'Time between refreshes with --watch.', default: 2000, defaultHelp: async () => '2s' }),
    count: Flags.integer({ summary: 'With --watch, stop after this many refreshes.', min: 1, dependsOn: ['watch'] }),
    'stats-path': Flags.string({ summary: 'Path of the stats page, if moved with access.stats_path.', default: 'stats' })
  }

  async run (): Promise<unknown> {
    const { mode } = this.args
    const f = this.flags
    const client = this.client(f['stats-path'])
    if (f.watch && STREAMED_MODES.has(mode)) throw badInput(`--watch does not apply to ${mode} (a full scrape); use it with a counter mode such as peer, conn or busy`)
    if (f.format !== undefined && mode !== 'tpbs') throw badInput('--format applies to stats tpbs only')

    if (STREAMED_MODES.has(mode)) return this.streamed(mode)

    const readOnce = async (): Promise<unknown> => {
      if (mode === 'metrics') return f.raw ? client.metrics() : parseMetrics(await client.metrics())
      return f.raw ? client.statsText(mode) : client.statsJson(mode)
    }
    const render = (v: unknown): string => {
      if (typeof v === 'string') return v
      if (mode === 'metrics') return renderMetrics(v as ReturnType<typeof parseMetrics>)
      return renderStatsJson(mode, v as Record<string, unknown>)
    }
    if (f.watch) {
      await watch({ intervalMs: f.interval, count: f.count, title: `otctl stats ${mode} (${client.base.origin})`, json: this.jsonEnabled() }, readOnce, render)
      return undefined
    }
    const value = await readOnce()
    if (f.raw) process.stdout.write(value as string)
    else this.print(render(value))
    return value
  }

  /** tpbs and statedump: streamed straight through, or line by line into a table. */
  private async streamed (mode: string): Promise<undefined> {
    const f = this.flags
    const client = this.client()
    const json = this.jsonEnabled()
    if (f.raw || json) {
      const format = json ? 'json' : f.format
      if (!json && mode === 'tpbs' && (format === undefined || format === 'ben' || format === 'bin') && process.stdout.isTTY === true) {
        throw badInput(`the ${format ?? 'ben'} full scrape is binary: redirect it to a file, or use --format txt`)
      }
      const res = await client.stats(mode, format)
      const { pipeline } = await import('node:stream/promises')
      await pipeline(res.body, process.stdout, { end: false })
      return undefined
    }
    const res = await client.stats(mode, mode === 'tpbs' ? 'txtp' : undefined, FULL_SCRAPE_HEADERS)
    const nowMinute = Math.floor(Date.now() / 60000)
    let n = 0
    const out: string[] = []
    const flush = (): void => { if (out.length > 0) { process.stdout.write(out.join('')); out.length = 0 } }
    if (mode === 'tpbs') out.push(`${'info_hash'.padEnd(40)}  ${'seeds'.padStart(10)}  ${'leechers'.padStart(10)}  ${'completed'.padStart(10)}\n`)
    else out.push(`${'info_hash'.padEnd(40)}  ${'last active'.padStart(12)}  ${'downloaded'.padStart(10)}\n`)
    await forEachLine(res, (line) => {
      const p = line.split(':')
      if (p.length < 3 || p[0]!.length !== 40) return
      n++
      if (mode === 'tpbs') out.push(`${p[0]!.toLowerCase()}  ${formatCount(Number(p[1])).padStart(10)}  ${formatCount(Number(p[2])).padStart(10)}  ${formatCount(Number(p[3] ?? 0)).padStart(10)}\n`)
      else out.push(`${p[0]!.toLowerCase()}  ${(formatDuration((nowMinute - Number(p[1])) * 60) + ' ago').padStart(12)}  ${formatCount(Number(p[2])).padStart(10)}\n`)
      if (out.length >= 512) flush()
    })
    flush()
    process.stdout.write(`${plural(n, 'torrent')}\n`)
    return undefined
  }
}
