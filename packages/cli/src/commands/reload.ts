import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES } from '../base-command.js'
import { OT_ERR_HTTP, OtctlError } from '../errors.js'
import { plural } from '../lib/format.js'
import type { ReloadReport } from '../lib/otd-client.js'
import { parsePid, readPidfile, sighup } from '../lib/reload.js'

type Result = { via: 'admin', lists: ReloadReport[] } | { via: 'signal', pid: number, command: string | null }

export default class Reload extends BaseCommand<typeof Reload> {
  static override summary = 'Make otd re-read its access-list files (as SIGHUP).'
  static override description = `Through the admin endpoint (POST /otd/reload), which reports each list's new size, or why a list that could not be read was kept (otctl then exits 1). With --pid or --pidfile, sends SIGHUP to a process on this host instead, after checking that its command line is otd's; the outcome is then only in otd's log.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --pidfile /run/otd/otd.pid',
    '<%= config.bin %> <%= command.id %> --pid 4242 --json'
  ]

  static override flags = {
    pid: Flags.string({ summary: 'Send SIGHUP to this process instead of using the admin endpoint.', exclusive: ['pidfile'], helpValue: '<pid>' }),
    pidfile: Flags.string({ summary: 'Send SIGHUP to the process whose id is in this file.', helpValue: '<file>' }),
    force: Flags.boolean({ summary: 'Signal the process even if its command line does not look like otd.' })
  }

  async run (): Promise<Result> {
    const f = this.flags
    if (f.pid !== undefined || f.pidfile !== undefined) {
      const pid = f.pid !== undefined ? parsePid(f.pid, '--pid') : await readPidfile(f.pidfile!)
      const r = await sighup(pid, f.force)
      this.print(`sent SIGHUP to ${pid}${r.command !== null ? ` (${r.command.slice(0, 80)})` : ''}; otd logs the outcome`)
      return { via: 'signal', ...r }
    }
    const lists = await this.client().reload()
    if (lists.length === 0) this.print('reloaded: no access list is configured')
    for (const l of lists) {
      this.print(l.ok ? `${l.list}: ${plural(l.entries, 'entry', 'entries')} from ${l.file}` : `${l.list}: kept the previous list (${plural(l.entries, 'entry', 'entries')}): ${l.error ?? 'reload failed'}`)
    }
    const failed = lists.filter((l) => !l.ok)
    if (failed.length > 0) {
      throw new OtctlError(OT_ERR_HTTP, `${failed.map((l) => l.list).join(' and ')} list could not be reloaded: ${failed.map((l) => `${l.file}: ${l.error ?? '?'}`).join('; ')}`, { lists })
    }
    return { via: 'admin', lists }
  }
}
