/**
 * `otbench compare BASE.json NEW.json`: figure-by-figure ratios, and a verdict: a figure regresses
 * when it is worse than the base by more than the allowed fraction (lower replies/s, higher CPU or
 * memory). Informational figures (latencies) are shown but never fail a comparison. With several
 * bases (`otbench compare BASE.json BASE2.json … NEW.json`), NEW is compared with each and the
 * ratios share one table.
 */
import type { Figure, Report } from './report.js'
import { formatCount } from './units.js'

export interface CompareRow {
  name: string
  unit: string
  better: 'higher' | 'lower'
  base: number
  current: number
  /** current / base. */
  ratio: number
  /** How much worse (positive) or better (negative) than base, as a fraction of base. */
  worse: number
  regressed: boolean
  info: boolean
}

export interface Comparison {
  rows: CompareRow[]
  /** Figures in only one of the two reports. */
  onlyInBase: string[]
  onlyInCurrent: string[]
  regressions: CompareRow[]
  maxRegression: number
}

/** How much worse `current` is than `base` for a figure (fraction of base; negative when better). */
export function worseBy (better: 'higher' | 'lower', base: number, current: number): number {
  if (base === 0) return current === 0 ? 0 : better === 'higher' ? -Infinity : Infinity
  return better === 'higher' ? (base - current) / base : (current - base) / base
}

export function compareFigures (base: readonly Figure[], current: readonly Figure[], maxRegression: number, only: readonly string[] = []): Comparison {
  const pick = (f: Figure): boolean => only.length === 0 || only.some((p) => f.name.startsWith(p))
  const b = new Map(base.filter(pick).map((f) => [f.name, f]))
  const c = new Map(current.filter(pick).map((f) => [f.name, f]))
  const rows: CompareRow[] = []
  for (const [name, cf] of c) {
    const bf = b.get(name)
    if (bf === undefined) continue
    const worse = worseBy(cf.better, bf.value, cf.value)
    const info = cf.info === true || bf.info === true
    rows.push({
      name,
      unit: cf.unit,
      better: cf.better,
      base: bf.value,
      current: cf.value,
      ratio: bf.value === 0 ? NaN : cf.value / bf.value,
      worse,
      regressed: !info && worse > maxRegression + 1e-12,
      info
    })
  }
  return {
    rows,
    onlyInBase: [...b.keys()].filter((k) => !c.has(k)),
    onlyInCurrent: [...c.keys()].filter((k) => !b.has(k)),
    regressions: rows.filter((r) => r.regressed),
    maxRegression
  }
}

export function compareReports (base: Report, current: Report, maxRegression: number, only: readonly string[] = []): Comparison {
  return compareFigures(base.figures, current.figures, maxRegression, only)
}

function fmt (n: number): string {
  return Math.abs(n) >= 1000 ? formatCount(n) : Number.isInteger(n) ? String(n) : n.toPrecision(4)
}

/** A plain-text table: figure, base, new, ratio, verdict. */
export function formatComparison (c: Comparison, baseLabel: string, currentLabel: string): string {
  const head = ['figure', 'unit', baseLabel, currentLabel, 'new/base', '']
  const body = c.rows.map((r) => [
    r.name,
    r.unit,
    fmt(r.base),
    fmt(r.current),
    Number.isFinite(r.ratio) ? r.ratio.toFixed(3) : '-',
    r.regressed ? `REGRESSED (${(r.worse * 100).toFixed(1)}% worse)` : r.info ? 'info' : r.worse < -c.maxRegression ? `better (${(-r.worse * 100).toFixed(1)}%)` : 'ok'
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const line = (row: string[]): string => row.map((x, i) => (i >= 2 && i <= 4 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd()
  const out = [line(head), ...body.map(line)]
  if (c.onlyInBase.length > 0) out.push(`only in ${baseLabel}: ${c.onlyInBase.join(', ')}`)
  if (c.onlyInCurrent.length > 0) out.push(`only in ${currentLabel}: ${c.onlyInCurrent.join(', ')}`)
  out.push(c.regressions.length === 0
    ? `no figure regressed by more than ${(c.maxRegression * 100).toFixed(0)}%`
    : `${c.regressions.length} figure(s) regressed by more than ${(c.maxRegression * 100).toFixed(0)}%: ${c.regressions.map((r) => r.name).join(', ')}`)
  return out.join('\n') + '\n'
}

/** A verdict's size; against a base of 0 there is no percentage. */
function percent (f: number): string {
  return Number.isFinite(f) ? `${(f * 100).toFixed(1)}%` : 'base 0'
}

/**
 * One table for NEW against several bases (a side-by-side run: otd against opentracker and
 * bittorrent-tracker): a value column per report, then NEW/BASE for each base, then the verdicts.
 * A figure NEW has and a base lacks shows '-' in that base's columns.
 */
export function formatComparisons (cs: readonly Comparison[], baseLabels: readonly string[], currentLabel: string): string {
  if (cs.length === 1) return formatComparison(cs[0]!, baseLabels[0]!, currentLabel)
  const names: string[] = []
  for (const c of cs) for (const r of c.rows) if (!names.includes(r.name)) names.push(r.name)
  const n = cs.length
  const head = ['figure', 'unit', ...baseLabels, currentLabel, ...baseLabels.map((b) => `${currentLabel}/${b}`), '']
  const body = names.map((name) => {
    const rows = cs.map((c) => c.rows.find((r) => r.name === name))
    const any = rows.find((r) => r !== undefined)!
    const verdicts: string[] = []
    rows.forEach((r, i) => {
      if (r === undefined || r.info) return
      if (r.regressed) verdicts.push(`REGRESSED vs ${baseLabels[i]!} (${percent(r.worse)} worse)`)
      else if (r.worse < -cs[i]!.maxRegression) verdicts.push(`better than ${baseLabels[i]!} (${percent(-r.worse)})`)
    })
    return [
      name,
      any.unit,
      ...rows.map((r) => (r === undefined ? '-' : fmt(r.base))),
      fmt(any.current),
      ...rows.map((r) => (r !== undefined && Number.isFinite(r.ratio) ? r.ratio.toFixed(3) : '-')),
      any.info ? 'info' : verdicts.length > 0 ? verdicts.join('; ') : 'ok'
    ]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const numeric = (i: number): boolean => i >= 2 && i <= 2 + 2 * n
  const line = (row: string[]): string => row.map((x, i) => (numeric(i) ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd()
  const out = [line(head), ...body.map(line)]
  cs.forEach((c, i) => {
    const b = baseLabels[i]!
    if (c.onlyInBase.length > 0) out.push(`only in ${b}: ${c.onlyInBase.join(', ')}`)
    if (c.onlyInCurrent.length > 0) out.push(`not in ${b}: ${c.onlyInCurrent.join(', ')}`)
    out.push(c.regressions.length === 0
      ? `against ${b}: no figure regressed by more than ${(c.maxRegression * 100).toFixed(0)}%`
      : `against ${b}: ${c.regressions.length} figure(s) regressed by more than ${(c.maxRegression * 100).toFixed(0)}%: ${c.regressions.map((r) => r.name).join(', ')}`)
  })
  return out.join('\n') + '\n'
}
