/**
 * Parsers and formatters for command-line values: durations, counts with k/M suffixes,
 * percentages and weighted mixes. Pure; they return `undefined` (or an error string) on bad input
 * instead of throwing.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/

/** "500ms", "10s", "10" (seconds), "2m", "1h" to milliseconds; undefined when malformed. */
export function parseDurationMs (text: string): number | undefined {
  const m = DURATION.exec(text.trim())
  if (m === null) return undefined
  const n = Number(m[1])
  switch (m[2]) {
    case 'ms': return Math.round(n)
    case 'm': return Math.round(n * 60_000)
    case 'h': return Math.round(n * 3_600_000)
    default: return Math.round(n * 1000)
  }
}

const COUNT = /^(\d+(?:\.\d+)?)([kKmM]?)$/

/** "1000", "100k", "1M", "1.5k" to an integer; undefined when malformed or not a whole number. */
export function parseCount (text: string): number | undefined {
  const m = COUNT.exec(text.trim().replace(/_/g, ''))
  if (m === null) return undefined
  const mult = m[2] === '' ? 1 : m[2] === 'k' || m[2] === 'K' ? 1e3 : 1e6
  const n = Number(m[1]) * mult
  return Number.isInteger(n) ? n : undefined
}

/** "10%", "10", "0.5%" to a fraction (0.1); undefined when malformed. */
export function parsePercent (text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim())
  if (m === null) return undefined
  return Number(m[1]) / 100
}

/**
 * A weighted mix such as "announce=80,scrape=20" or "started=5,none=90,stopped=5" over the
 * allowed names. Returns normalised weights (summing to 1) in the order of `names`, or an error text.
 */
export function parseMix (text: string, names: readonly string[]): number[] | string {
  const weights = names.map(() => 0)
  for (const part of text.split(',')) {
    const item = part.trim()
    if (item === '') continue
    const eq = item.indexOf('=')
    if (eq < 0) return `"${item}": expected name=weight`
    const name = item.slice(0, eq).trim()
    const at = names.indexOf(name)
    if (at < 0) return `"${name}": not one of ${names.join(', ')}`
    const w = Number(item.slice(eq + 1).replace(/%$/, ''))
    if (!Number.isFinite(w) || w < 0) return `"${item}": weight must be a number >= 0`
    weights[at] = w
  }
  const sum = weights.reduce((a, b) => a + b, 0)
  if (sum <= 0) return `"${text}": weights must not all be zero`
  return weights.map((w) => w / sum)
}

/** 1234 -> "1.23k", 78100 -> "78.1k", 1.2e6 -> "1.20M". */
export function formatCount (n: number): string {
  const a = Math.abs(n)
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`
  if (a >= 1e3) return `${(n / 1e3).toFixed(a >= 1e4 ? 1 : 2)}k`
  return a >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1)
}

/** Milliseconds with a sensible precision: 0.081 -> "0.081ms", 12.3 -> "12.3ms". */
export function formatMs (ms: number): string {
  if (!Number.isFinite(ms)) return '-'
  if (ms < 1) return `${ms.toFixed(3)}ms`
  if (ms < 100) return `${ms.toFixed(1)}ms`
  return `${Math.round(ms)}ms`
}
