/**
 * `--watch`: redraw a screen every interval, in place on a terminal (cursor home, clear, like
 * `top` and `watch`), one block after another otherwise. A daemon that stops answering is shown
 * on the screen and retried; any other error ends the watch.
 */
import { OT_ERR_UNREACHABLE, OtctlError } from '../../errors.js'

export interface WatchOptions {
  intervalMs: number
  /** Stop after this many screens (scripts and tests); forever when undefined. */
  count?: number
  title: string
  /** Emit one compact JSON line per refresh instead of a screen. */
  json: boolean
  out?: NodeJS.WriteStream
}

const HOME_CLEAR = '\x1b[H\x1b[2J'

export async function watch<T> (opts: WatchOptions, read: () => Promise<T>, render: (value: T) => string): Promise<void> {
  const out = opts.out ?? process.stdout
  const tty = out.isTTY === true && !opts.json
  for (let i = 0; opts.count === undefined || i < opts.count; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, opts.intervalMs))
    const time = new Date().toLocaleTimeString('en-GB', { hour12: false })
    let body: string
    try {
      const value = await read()
      if (opts.json) { out.write(JSON.stringify({ time: new Date().toISOString(), value }) + '\n'); continue }
      body = render(value)
    } catch (err) {
      if (!(err instanceof OtctlError) || err.code !== OT_ERR_UNREACHABLE) throw err
      if (opts.json) { out.write(JSON.stringify({ time: new Date().toISOString(), error: { code: err.code, message: err.message } }) + '\n'); continue }
      body = `${err.message}; retrying`
    }
    const head = `${opts.title}   every ${opts.intervalMs / 1000}s   ${time}`
    out.write(tty ? `${HOME_CLEAR}${head}\n\n${body}\n` : `${head}\n${body}\n\n`)
  }
}
