/**
 * What `otctl access add` and `access remove` share: arguments, flags and the run; the two
 * commands differ only in their texts and in which way they change the list.
 */
import { BaseCommand } from '../../base-command.js'
import { changeList, chooseList, notPersisted, renderChange, type ChangeResult } from './change.js'
import { fileFlag, listFlag } from './flags.js'
import { collectHashes } from './hashes.js'

export abstract class AccessChangeCommand extends BaseCommand<typeof AccessChangeCommand> {
  static override strict = false
  static override usage = '<%= command.id %> [HASH...] [--list white|black] [--file FILE]'
  static override flags = { list: listFlag, file: fileFlag }

  /** true: add the hashes; false: remove them. */
  protected abstract readonly add: boolean

  async run (): Promise<ChangeResult> {
    const hashes = await collectHashes(this.rest, this.flags.file ?? [])
    const client = this.client()
    const { list, file } = await chooseList(client, this.flags.list)
    const r = await changeList(client, list, file, this.add, hashes)
    this.print(renderChange(r))
    const err = notPersisted(r)
    if (err !== null) throw err
    return r
  }
}
