import { BaseCommand, EXIT_CODES, durationFlag } from '../base-command.js'
import { rates, renderStatus, type Rates } from '../lib/status.js'
import type { Status } from '../lib/otd-client.js'

export default class StatusCommand extends BaseCommand<typeof StatusCommand> {
  static override summary = 'Show whether otd is up, and its version, uptime, listeners, swarm sizes, load and memory.'
  static override description = `Reads GET /otd/status (the admin endpoint: this host must be blessed with -A or access.admin). Requests per second are averaged since start unless --sample measures them over a window.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --url http://tracker.example.org:6969 --sample 2s',
    'OTCTL_URL=http://10.0.0.5:6969 <%= config.bin %> <%= command.id %> --json'
  ]

  static override flags = {
    sample: durationFlag({ summary: 'Measure request rates over this window (two readings) instead of averaging since start.' })
  }

  async run (): Promise<Status & { url: string, rates: Rates }> {
    const client = this.client()
    let first: Status | null = null
    let firstAt = 0
    if (this.flags.sample !== undefined) {
      first = await client.status()
      firstAt = performance.now()
      await new Promise((resolve) => setTimeout(resolve, this.flags.sample))
    }
    const s = await client.status()
    const r = rates(first, s, (performance.now() - firstAt) / 1000)
    this.print(renderStatus(s, r, client.base.origin))
    return { url: client.base.href, ...s, rates: r }
  }
}
