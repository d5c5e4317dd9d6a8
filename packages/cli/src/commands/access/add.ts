import { EXIT_CODES } from '../../base-command.js'
import { AccessChangeCommand } from '../../lib/access/change-command.js'

export default class AccessAdd extends AccessChangeCommand {
  static override summary = 'Add info_hashes to an access list of the running otd; the daemon writes the list file.'
  static override description = `HASH is 40 hex digits (several per argument with commas or blanks); - reads hashes from stdin, in the list-file format. Every hash is checked before anything is sent: one bad hash and nothing changes.\n\nThe daemon applies the change at once and patches the list file atomically (its comments stay), so it survives SIGHUP and restarts (docs/access-lists.md). The report names the hashes that changed.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %> 0123456789abcdef0123456789abcdef01234567',
    '<%= config.bin %> <%= command.id %> --list white --file new-releases.txt',
    'grep -o "^[0-9a-f]\\{40\\}" batch.txt | <%= config.bin %> <%= command.id %> -'
  ]

  protected readonly add = true
}
