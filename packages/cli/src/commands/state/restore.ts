import { Args } from '@oclif/core'
import { BaseCommand, EXIT_CODES } from '../../base-command.js'
import { badInput } from '../../errors.js'
import { formatCount, formatPairs } from '../../lib/format.js'

/** The admin endpoint's body limit (daemon http/admin.ts ADMIN_MAX_BODY_BYTES). */
const MAX_BODY_BYTES = 256 * 1024 * 1024

export default class StateRestore extends BaseCommand<typeof StateRestore> {
  static override summary = 'Load a statedump or an otd state file into the running tracker (merged with what it has).'
  static override description = `POST /otd/state (admin endpoint); the daemon recognises the format by its content and merges it with what it has. Access lists apply as at start-up: torrents a list refuses are skipped, and so are peers and torrents too old to keep. A file the daemon cannot read is refused as a whole and nothing is loaded.\n\n${EXIT_CODES}`

  static override examples = [
    '<%= config.bin %> <%= command.id %> otd.statedump',
    '<%= config.bin %> <%= command.id %> moved.state --url http://new-host:6969',
    'zcat statedump.gz | <%= config.bin %> <%= command.id %> -'
  ]

  static override args = {
    file: Args.string({ description: 'a statedump or otd state file; - for stdin', required: true })
  }

  async run (): Promise<Record<string, unknown>> {
    const file = this.args.file
    let body: Buffer | import('node:stream').Readable
    let length: number
    if (file === '-') {
      const chunks: Buffer[] = []
      let n = 0
      for await (const chunk of process.stdin) {
        n += (chunk as Buffer).length
        if (n > MAX_BODY_BYTES) throw badInput(`stdin is larger than the ${MAX_BODY_BYTES / 1048576} MiB the admin endpoint accepts`)
        chunks.push(chunk as Buffer)
      }
      body = Buffer.concat(chunks)
      length = body.length
    } else {
      const { stat } = await import('node:fs/promises')
      const { createReadStream } = await import('node:fs')
      try {
        const st = await stat(file)
        if (!st.isFile()) throw new Error('not a regular file')
        length = st.size
      } catch (err) {
        throw badInput(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
      if (length > MAX_BODY_BYTES) throw badInput(`${file} is larger than the ${MAX_BODY_BYTES / 1048576} MiB the admin endpoint accepts`)
      body = createReadStream(file)
    }
    if (length === 0) throw badInput(`${file === '-' ? 'stdin' : file} is empty`)
    const restored = await this.client().stateUpload(body, length)
    const pairs = Object.entries(restored).map(([k, v]): [string, string] => [k.replace(/([A-Z])/g, ' $1').toLowerCase(), typeof v === 'number' ? formatCount(v) : String(v)])
    this.print(`restored ${file === '-' ? 'stdin' : file} into ${this.client().base.origin}:\n` + formatPairs(pairs.map(([k, v]) => [`  ${k}`, v])))
    return restored
  }
}
