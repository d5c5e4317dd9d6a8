/**
 * `otctl access add|remove`: which list, what changed, and whether the daemon wrote its file.
 *
 * Before changing, otctl asks the daemon which of the hashes are already on the list (one
 * `/otd/access/check` request), so the report can name the hashes that changed, not only count
 * them. The counts always come from the change itself; should another operator change the list
 * between the two requests, the names may be off by those hashes, the counts are not.
 */
import { OT_ERR_HTTP, OT_ERR_NOT_PERSISTED, OtctlError, badInput } from '../../errors.js'
import { formatCount, plural } from '../format.js'
import type { ChangeReport, ListName, OtdClient } from '../otd-client.js'

/** The list to change: `--list`, or the only configured one. */
export async function chooseList (client: OtdClient, flag: string | undefined): Promise<{ list: ListName, file: string | null }> {
  const summary = await client.access()
  const configured = summary.lists.filter((l) => l.file !== null)
  if (flag !== undefined) {
    const list = flag as ListName
    const found = configured.find((l) => l.list === list)
    if (found === undefined) {
      throw new OtctlError(OT_ERR_HTTP, `otd has no ${list} list configured (start it with -${list === 'white' ? 'w' : 'b'} FILE)`, { status: 409 })
    }
    return { list, file: found.file }
  }
  if (configured.length === 0) throw new OtctlError(OT_ERR_HTTP, 'otd has no access list configured (start it with -w FILE or -b FILE)', { status: 409 })
  if (configured.length > 1) throw badInput('otd has both an allow-list and a deny-list: say which with --list white or --list black')
  return { list: configured[0]!.list, file: configured[0]!.file }
}

export interface ChangeResult extends ChangeReport {
  action: 'add' | 'remove'
  file: string | null
  /** Hashes that were added or removed. */
  changed_hashes: string[]
  /** Hashes that were already on (add) or already off (remove) the list. */
  unchanged_hashes: string[]
}

export async function changeList (client: OtdClient, list: ListName, file: string | null, add: boolean, hashes: string[]): Promise<ChangeResult> {
  const before = await client.check(hashes)
  const onList = new Set(before.filter((r) => (list === 'white' ? r.whitelisted : r.blacklisted) === true).map((r) => r.info_hash))
  const report = await client.change(list, add, hashes)
  const changed = hashes.filter((h) => add ? !onList.has(h) : onList.has(h))
  const unchanged = hashes.filter((h) => add ? onList.has(h) : !onList.has(h))
  return { ...report, action: add ? 'add' : 'remove', file, changed_hashes: changed, unchanged_hashes: unchanged }
}

const SHOW_HASHES = 20

export function renderChange (r: ChangeResult): string {
  const verb = r.action === 'add' ? 'added' : 'removed'
  const lines: string[] = []
  const already = r.action === 'add' ? 'already listed' : 'not listed'
  lines.push(`${r.list} list: ${verb} ${formatCount(r.changed)}, ${formatCount(r.unchanged)} ${already}; ${plural(r.entries, 'entry', 'entries')} now`)
  if (r.changed_hashes.length > 0 && r.changed_hashes.length <= SHOW_HASHES && r.changed_hashes.length === r.changed) {
    for (const h of r.changed_hashes) lines.push(`  ${r.action === 'add' ? '+' : '-'} ${h}`)
  }
  if (r.changed === 0) lines.push('nothing changed; the list file was left as it was')
  else if (r.persisted) lines.push(`written to ${r.file ?? 'the list file'}`)
  return lines.join('\n')
}

/** A change that applies in memory but could not be written to the list file: exit 1 after the report. */
export function notPersisted (r: ChangeResult): OtctlError | null {
  if (r.persisted) return null
  return new OtctlError(OT_ERR_NOT_PERSISTED,
    `the change applies in memory only: otd could not write ${r.file ?? 'the list file'}${r.error !== undefined ? ` (${r.error})` : ''}; it will be lost on reload or restart`,
    { report: r })
}
