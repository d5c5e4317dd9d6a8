/**
 * otctl's errors: each has a stable `code` (`OT_ERR_…`) and the process exit code it maps to, so
 * scripts can tell "fix your input" from "the daemon is down" from "this host is not blessed".
 *
 * | exit | code(s) | meaning |
 * |------|---------|---------|
 * | 0 | | success |
 * | 1 | OT_ERR_HTTP, OT_ERR_TRACKER, OT_ERR_NOT_PERSISTED, OT_ERR_SIGNAL | anything else: the daemon or tracker answered, but not with success |
 * | 2 | OT_ERR_BAD_INPUT (and oclif's flag/argument errors) | bad input: nothing was sent, or the daemon answered 400 |
 * | 3 | OT_ERR_UNREACHABLE | no answer: connection refused, DNS failure, timeout |
 * | 4 | OT_ERR_FORBIDDEN | not authorised: 403 (admin endpoint needs `-A`/`access.admin`; stats may be restricted) |
 */

export const EXIT_OTHER = 1
export const EXIT_BAD_INPUT = 2
export const EXIT_UNREACHABLE = 3
export const EXIT_FORBIDDEN = 4

export const OT_ERR_BAD_INPUT = 'OT_ERR_BAD_INPUT'
export const OT_ERR_UNREACHABLE = 'OT_ERR_UNREACHABLE'
export const OT_ERR_FORBIDDEN = 'OT_ERR_FORBIDDEN'
export const OT_ERR_HTTP = 'OT_ERR_HTTP'
export const OT_ERR_TRACKER = 'OT_ERR_TRACKER'
export const OT_ERR_NOT_PERSISTED = 'OT_ERR_NOT_PERSISTED'
export const OT_ERR_SIGNAL = 'OT_ERR_SIGNAL'

const EXIT_BY_CODE: Record<string, number> = {
  [OT_ERR_BAD_INPUT]: EXIT_BAD_INPUT,
  [OT_ERR_UNREACHABLE]: EXIT_UNREACHABLE,
  [OT_ERR_FORBIDDEN]: EXIT_FORBIDDEN
}

export class OtctlError extends Error {
  readonly exitCode: number
  constructor (readonly code: string, message: string, readonly details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options)
    this.name = 'OtctlError'
    this.exitCode = EXIT_BY_CODE[code] ?? EXIT_OTHER
  }
}

export function badInput (message: string, details?: Record<string, unknown>): OtctlError {
  return new OtctlError(OT_ERR_BAD_INPUT, message, details)
}

/** The exit code for any error thrown by a command (oclif's own errors carry theirs in `oclif.exit`). */
export function exitCodeOf (err: unknown): number {
  if (err instanceof OtctlError) return err.exitCode
  const oclif = (err as { oclif?: { exit?: unknown } } | null)?.oclif
  if (typeof oclif?.exit === 'number') return oclif.exit
  return EXIT_OTHER
}
