/**
 * Durations on the command line: `500ms`, `2s`, `1.5s`, `1m`, or a bare number of seconds.
 * Returned in milliseconds; anything else is bad input.
 */
import { badInput } from '../errors.js'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export function parseDurationMs (text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (m === null) throw badInput(`--${flag} ${JSON.stringify(text)} is not a duration (e.g. 500ms, 5s, 1m)`)
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!)
  if (!(ms > 0)) throw badInput(`--${flag} must be more than 0`)
  return ms
}
