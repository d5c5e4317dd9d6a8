/**
 * opentracker's dynamic access lists (reference §8.3): two FIFOs, one whose lines add info_hashes
 * to the list and one whose lines remove them. Implemented as documented, without V2024's bugs
 * (§12.9): a line that starts with 40 hex digits not followed by another hex digit adds or
 * removes that hash, every other line is counted and ignored.
 *
 * A FIFO is created (mode 0600) if missing; any other kind of file at the path is a start-up
 * error. It is opened read-write and non-blocking, so opening never waits for a writer, writers
 * coming and going never end the stream, and no thread-pool thread is ever parked on it.
 */
import { execFileSync } from 'node:child_process'
import { constants, lstatSync, openSync } from 'node:fs'
import net from 'node:net'
import { accessListLineHash } from '@otd/proto'
import type { Logger } from 'pino'
import { OT_ERR_CONFIG, OtdError } from '../errors.js'

export interface FifoCounters {
  lines: number
  applied: number
  rejected: number
}

/** Creates the FIFO if needed and checks that `path` is one. Throws OtdError otherwise. */
function ensureFifo (path: string): void {
  let st
  try {
    st = lstatSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new OtdError(OT_ERR_CONFIG, `cannot use FIFO ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    try {
      execFileSync('mkfifo', ['-m', '0600', path], { stdio: 'pipe' })
    } catch (e) {
      throw new OtdError(OT_ERR_CONFIG, `cannot create FIFO ${path}: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`)
    }
    return
  }
  if (!st.isFIFO()) throw new OtdError(OT_ERR_CONFIG, `${path} exists and is not a FIFO`)
}

export class FifoReader {
  readonly counters: FifoCounters = { lines: 0, applied: 0, rejected: 0 }
  private socket: net.Socket | null = null
  private partial = ''

  constructor (readonly path: string, private readonly onHash: (key: string) => void, private readonly logger: Logger) {}

  /** Creates/opens the FIFO and starts reading. Throws OtdError when the path is unusable. */
  open (): void {
    ensureFifo(this.path)
    let fd: number
    try {
      fd = openSync(this.path, constants.O_RDWR | constants.O_NONBLOCK)
    } catch (err) {
      throw new OtdError(OT_ERR_CONFIG, `cannot open FIFO ${this.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
    const socket = new net.Socket({ fd, readable: true, writable: false })
    socket.setEncoding('latin1')
    socket.on('data', (text: string) => this.feed(text))
    socket.on('error', (err) => this.logger.error({ err, path: this.path }, 'FIFO read failed'))
    socket.unref()
    this.socket = socket
  }

  /** Processes text read from the FIFO; complete lines only (a line may span reads). */
  feed (text: string): void {
    let data = this.partial + text
    let nl = data.indexOf('\n')
    while (nl >= 0) {
      this.line(data.slice(0, nl))
      data = data.slice(nl + 1)
      nl = data.indexOf('\n')
    }
    // A line longer than any valid one is garbage: drop it rather than buffer without bound.
    this.partial = data.length > 4096 ? '' : data
  }

  private line (line: string): void {
    if (line.trim() === '') return
    this.counters.lines++
    const hash = accessListLineHash(line)
    if (hash === null) {
      this.counters.rejected++
      this.logger.warn({ path: this.path }, `FIFO ${this.path}: ignored a line that does not start with a 40-hex-digit info_hash`)
      return
    }
    this.counters.applied++
    this.onHash(hash.toString('latin1'))
  }

  close (): void {
    this.socket?.destroy()
    this.socket = null
  }
}
