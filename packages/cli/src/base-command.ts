/**
 * What every otctl command shares: `--url` (or OTCTL_URL), `--timeout`, `--json`, a typed client
 * for the daemon (created on first use, closed when the command ends), and the mapping of errors
 * to messages and exit codes (errors.ts).
 *
 * Commands keep to parsing and printing; the work is in src/lib/<topic>/. Modules that only some
 * commands need (undici, node:zlib, node:dgram, @otd/proto) are imported inside `run()`, because
 * oclif loads every command class to resolve one.
 */
import { Command, Flags, type Interfaces } from '@oclif/core'
import { OtctlError, exitCodeOf } from './errors.js'
import { parseDurationMs } from './lib/duration.js'
import { OtdClient, parseBaseUrl } from './lib/otd-client.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<typeof BaseCommand['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export const DEFAULT_URL = 'http://127.0.0.1:6969'
export const DEFAULT_TIMEOUT = '10s'

/** Appended to every command's description (errors.ts has the table). */
export const EXIT_CODES = 'Exit codes: 0 success, 1 failure, 2 bad input (nothing was sent, or the daemon answered 400), 3 unreachable (refused, unknown host, timeout), 4 not authorised (403).'

/** A `--flag DURATION` (500ms, 5s, 1m; a bare number is seconds), parsed to milliseconds. */
export const durationFlag = Flags.custom<number>({
  parse: async (input, _ctx, opts) => parseDurationMs(input, opts.name),
  helpValue: '<duration>'
})

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    url: Flags.string({
      summary: 'Base URL of the otd to talk to (its HTTP port).',
      env: 'OTCTL_URL',
      default: DEFAULT_URL,
      helpGroup: 'GLOBAL',
      helpValue: '<url>'
    }),
    timeout: durationFlag({
      summary: 'How long to wait for an answer: connecting, and each wait for data after that.',
      default: parseDurationMs(DEFAULT_TIMEOUT, 'timeout'),
      defaultHelp: async () => DEFAULT_TIMEOUT,
      helpGroup: 'GLOBAL'
    })
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** Arguments of a command with `strict = false` (hash lists). */
  protected rest: string[] = []
  private clientInstance: OtdClient | undefined

  public override async init (): Promise<void> {
    await super.init()
    const { args, flags, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.rest = argv as string[]
  }

  /** The daemon at `--url`; `statsPath` is the stats page path (`access.stats_path`). */
  protected client (statsPath = 'stats'): OtdClient {
    if (this.clientInstance === undefined) {
      const f = this.flags as { url: string, timeout: number }
      this.clientInstance = new OtdClient(parseBaseUrl(f.url), f.timeout, statsPath.replace(/^\/+/, ''))
    }
    return this.clientInstance
  }

  /** Writes text for people; nothing under `--json` (the returned value is printed instead). */
  protected print (text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(text.endsWith('\n') ? text : text + '\n')
  }

  /** Plain JSON, never colourised: `--json` output is for programs, whatever the terminal. */
  public override logJson (json: unknown): void {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }

  protected override async catch (err: Error & { exitCode?: number }): Promise<unknown> {
    const exit = exitCodeOf(err)
    if (this.jsonEnabled()) {
      process.exitCode = exit
      const code = err instanceof OtctlError ? err.code : (err as { code?: unknown }).code
      this.logJson({ error: { code: typeof code === 'string' ? code : undefined, message: err.message, exit, ...(err instanceof OtctlError ? err.details : {}) } })
      return undefined
    }
    if (err instanceof OtctlError) this.error(err.message, { exit, code: err.code })
    return super.catch(err)
  }

  protected override async finally (err: Error | undefined): Promise<unknown> {
    await this.clientInstance?.close()
    return super.finally(err)
  }
}
