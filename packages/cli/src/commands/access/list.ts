import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES } from '../../base-command.js'
import { formatCount, formatTable } from '../../lib/format.js'
import type { AccessSummary, ListName } from '../../lib/otd-client.js'

type Result = AccessSummary | { list: ListName, file: string, entries: string[] } | { list: ListName, file: string, count: number }

export default class AccessList extends BaseCommand<typeof AccessList> {
  static override summary = 'Show the configured access lists, or the entries of one.'
  static override description = `Without LIST: each configured list with its file and number of entries, and which list the FIFOs change. With LIST (white or black): its info_hashes, one per line, in the list-file format.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> white > whitelist.backup',
    '<%= config.bin %> <%= command.id %> black --count'
  ]

  static override args = {
    list: Args.string({ description: 'white or black', options: ['white', 'black'] })
  }

  static override flags = {
    count: Flags.boolean({ char: 'c', summary: 'With LIST, print only the number of entries.' })
  }

  async run (): Promise<Result> {
    const client = this.client()
    const list = this.args.list as ListName | undefined
    if (list === undefined) {
      const s = await client.access()
      if (s.lists.length === 0) this.print('no access list configured: an open tracker (start otd with -w FILE or -b FILE)')
      else {
        this.print(formatTable(s.lists.map((l) => [l.list, formatCount(l.entries), l.file ?? '-', s.dynamic === l.list ? 'yes' : '']),
          ['list', 'entries', 'file', 'fifo']))
      }
      return s
    }
    const r = await client.entries(list)
    if (this.flags.count) this.print(String(r.entries.length))
    else if (r.entries.length > 0) this.print(r.entries.join('\n'))
    return this.flags.count ? { list: r.list, file: r.file, count: r.entries.length } : r
  }
}
