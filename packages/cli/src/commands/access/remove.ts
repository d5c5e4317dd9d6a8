import { BaseCommand, EXIT_CODES } from '../../base-command.js'
import { changeList, chooseList, notPersisted, renderChange, type ChangeResult } from '../../lib/access/change.js'
import { fileFlag, listFlag } from '../../lib/access/flags.js'
import { collectHashes } from '../../lib/access/hashes.js'

export default class AccessRemove extends BaseCommand<typeof AccessRemove> {
  static override summary = 'Remove info_hashes from an access list of the running otd; the daemon writes the list file.'
  static override description = `HASH is 40 hex digits (several per argument with commas or blanks); - reads hashes from stdin, in the list-file format. Every hash is checked before anything is sent: one bad hash and nothing changes.\n\nThe daemon applies the change at once and rewrites the list file atomically (docs/access-lists.md). A removed hash stays scrapable until its torrent times out, as in opentracker.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %> 0123456789abcdef0123456789abcdef01234567',
    '<%= config.bin %> <%= command.id %> --list black --file withdrawn.txt',
    'grep -o "^[0-9a-f]\\{40\\}" expired.txt | <%= config.bin %> <%= command.id %> -'
  ]

  static override strict = false
  static override usage = '<%= command.id %> [HASH...] [--list white|black] [--file FILE]'
  static override flags = { list: listFlag, file: fileFlag }

  async run (): Promise<ChangeResult> {
    const hashes = await collectHashes(this.rest, this.flags.file ?? [])
    const client = this.client()
    const { list, file } = await chooseList(client, this.flags.list)
    const r = await changeList(client, list, file, false, hashes)
    this.print(renderChange(r))
    const err = notPersisted(r)
    if (err !== null) throw err
    return r
  }
}
