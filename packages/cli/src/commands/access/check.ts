import { BaseCommand, EXIT_CODES } from '../../base-command.js'
import { fileFlag } from '../../lib/access/flags.js'
import { collectHashes } from '../../lib/access/hashes.js'
import { formatTable } from '../../lib/format.js'
import type { CheckResult } from '../../lib/otd-client.js'

function yesNo (v: boolean | null): string {
  return v === null ? '-' : v ? 'yes' : 'no'
}

export default class AccessCheck extends BaseCommand<typeof AccessCheck> {
  static override summary = 'Tell whether the running otd accepts announces for info_hashes, and why.'
  static override description = `For each HASH: whether it may be announced now, whether it is on the allow-list and on the deny-list ("-" when that list is not configured), and whether the tracker has the torrent in memory. Changes nothing.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %> 0123456789abcdef0123456789abcdef01234567',
    '<%= config.bin %> <%= command.id %> --file releases.txt --json'
  ]

  static override strict = false
  static override usage = '<%= command.id %> [HASH...] [--file FILE]'
  static override flags = { file: fileFlag }

  async run (): Promise<{ results: CheckResult[] }> {
    const hashes = await collectHashes(this.rest, this.flags.file ?? [])
    const results = await this.client().check(hashes)
    this.print(formatTable(
      results.map((r) => [r.info_hash, yesNo(r.allowed), yesNo(r.whitelisted), yesNo(r.blacklisted), yesNo(r.in_memory)]),
      ['info_hash', 'allowed', 'white', 'black', 'in memory'], ['left', 'left', 'left', 'left', 'left']))
    return { results }
  }
}
