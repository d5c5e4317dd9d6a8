import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES } from '../../base-command.js'
import { OT_ERR_HTTP, OtctlError, badInput } from '../../errors.js'
import { formatBytes, plural } from '../../lib/format.js'
import { networkError } from '../../lib/http.js'
import { FULL_SCRAPE_HEADERS, decodedBody } from '../../lib/stats/lines.js'
import { fileSink, stdoutSink, type Sink } from '../../lib/state/output.js'
import { StateFileChecker } from '../../lib/state/state-file.js'

interface DumpResult { format: 'statedump' | 'otd', file: string | null, bytes: number, torrents: number, peers?: number }

export default class StateDump extends BaseCommand<typeof StateDump> {
  static override summary = 'Save the tracker\'s state: an opentracker statedump (counts) or otd\'s warm-restart file (counts and live peers).'
  static override description = `--format statedump (default) reads /stats?mode=statedump: one HEX:minute:downloaded line per torrent, which opentracker and otd (-l FILE) load. --format otd reads GET /otd/state (admin endpoint): the binary warm-restart file with every live peer; otctl checks its length and CRC before keeping it.\n\nFILE is written atomically (temporary file, fsync, rename), so a failed dump never replaces a good file; without FILE, or with -, the dump goes to stdout and the summary to stderr.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %> otd.statedump',
    '<%= config.bin %> <%= command.id %> --format otd /var/lib/otd/moved.state',
    '<%= config.bin %> <%= command.id %> | gzip > statedump.gz'
  ]

  static override args = {
    file: Args.string({ description: 'where to write (default: stdout)' })
  }

  static override flags = {
    format: Flags.string({ summary: 'statedump (opentracker, counts only) or otd (warm-restart file with peers).', options: ['statedump', 'otd'], default: 'statedump' }),
    'stats-path': Flags.string({ summary: 'Path of the stats page, if moved with access.stats_path.', default: 'stats' })
  }

  async run (): Promise<DumpResult> {
    const format = this.flags.format as 'statedump' | 'otd'
    const file = this.args.file === undefined || this.args.file === '-' ? null : this.args.file
    if (file === null && this.jsonEnabled()) throw badInput('--json reports on the dump, so the dump needs a FILE')
    if (file === null && format === 'otd' && process.stdout.isTTY === true) throw badInput('the otd state file is binary: give a FILE or redirect stdout')
    const client = this.client(this.flags['stats-path'])
    const res = format === 'otd' ? await client.stateDownload() : await client.stats('statedump', undefined, FULL_SCRAPE_HEADERS)

    let sink: Sink
    try {
      sink = file === null ? stdoutSink() : await fileSink(file)
    } catch (err) {
      res.body.destroy()
      throw badInput(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
    const checker = new StateFileChecker()
    let bytes = 0
    let lines = 0
    try {
      try {
        for await (const chunk of await decodedBody(res)) {
          const b = chunk as Buffer
          bytes += b.length
          if (format === 'otd') checker.update(b)
          else for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++
          await sink.write(b)
        }
      } catch (err) {
        throw networkError(err, client.base.origin, client.http.timeoutMs)
      }
      let result: DumpResult
      if (format === 'otd') {
        let s
        try {
          s = checker.finish()
        } catch (err) {
          throw new OtctlError(OT_ERR_HTTP, `the state download is not usable, nothing was written: ${(err as Error).message}`)
        }
        result = { format, file, bytes, torrents: s.torrents, peers: s.peers }
      } else {
        result = { format, file, bytes, torrents: lines }
      }
      await sink.commit()
      const summary = `${file === null ? 'dumped' : `wrote ${file}:`} ${plural(result.torrents, 'torrent')}` +
        `${result.peers !== undefined ? `, ${plural(result.peers, 'peer')}` : ''} (${format === 'otd' ? 'otd state file' : 'opentracker statedump'}, ${formatBytes(bytes)})`
      if (file === null) process.stderr.write(summary + '\n')
      else this.print(summary)
      return result
    } catch (err) {
      await sink.abort()
      throw err
    }
  }
}
