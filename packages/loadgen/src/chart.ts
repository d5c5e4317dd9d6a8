/**
 * Charts as standalone SVG (no script, no external fonts), written beside a JSON report:
 * a run's throughput per workload with its per-second series, or a comparison's ratios.
 */
import type { Comparison } from './compare.js'
import type { Report } from './report.js'
import { formatCount } from './units.js'

function shorten (s: string, n: number): string {
  return s.length <= n ? s : '…' + s.slice(s.length - n + 1)
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
const WIDTH = 880
const LABEL_W = 230
const BAR_W = WIDTH - LABEL_W - 170
const ROW_H = 46

/**
 * Throughput chart of a report: one row per workload with a bar for the median replies/s, a
 * whisker from the slowest to the fastest run, and a sparkline of replies per second of each run.
 */
export function reportChartSvg (r: Report): string {
  const rows = r.figures.filter((f) => f.unit === 'replies/s')
  const max = Math.max(1, ...rows.map((f) => Math.max(f.value, ...f.runs)))
  const top = 70
  const height = top + rows.length * ROW_H + (r.preload?.rssPerPeerBytes !== undefined ? 40 : 0) + 40
  const e = r.environment
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="13">`)
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`)
  out.push(`<text x="16" y="26" font-size="17" font-weight="600">${esc(`otbench ${r.command} — replies per second (median, range of runs)`)}</text>`)
  const tracker = r.tracker?.command === undefined ? '' : `  tracker: ${shorten(r.tracker.command, 70)}`
  out.push(`<text x="16" y="48" fill="#555">${esc(`${r.date.slice(0, 16).replace('T', ' ')}  node ${e.node}  ${e.cpuModel} x${e.cpus}  commit ${e.commit ?? '-'}${tracker}`)}</text>`)
  rows.forEach((f, i) => {
    const y = top + i * ROW_H
    const w = (f.value / max) * BAR_W
    out.push(`<text x="16" y="${y + 20}">${esc(f.name.replace(/\.rps$/, ''))}</text>`)
    out.push(`<rect x="${LABEL_W}" y="${y + 6}" width="${w.toFixed(1)}" height="20" fill="#4c78a8"/>`)
    if (f.runs.length > 1) {
      const lo = LABEL_W + (Math.min(...f.runs) / max) * BAR_W
      const hi = LABEL_W + (Math.max(...f.runs) / max) * BAR_W
      out.push(`<line x1="${lo.toFixed(1)}" x2="${hi.toFixed(1)}" y1="${y + 16}" y2="${y + 16}" stroke="#222" stroke-width="1.5"/>`)
      out.push(`<line x1="${lo.toFixed(1)}" x2="${lo.toFixed(1)}" y1="${y + 11}" y2="${y + 21}" stroke="#222"/><line x1="${hi.toFixed(1)}" x2="${hi.toFixed(1)}" y1="${y + 11}" y2="${y + 21}" stroke="#222"/>`)
    }
    out.push(`<text x="${LABEL_W + BAR_W + 12}" y="${y + 21}" font-weight="600">${esc(formatCount(f.value))}/s</text>`)
    // Per-second series of every run of this workload, as a faint sparkline under the bar.
    const wl = f.name.replace(/\.rps$/, '')
    const runs = r.workloads[wl] ?? []
    const series = runs.map((run) => run.perSecond).filter((s) => s.length > 1)
    const smax = Math.max(1, ...series.flat())
    for (const s of series) {
      const pts = s.map((v, k) => `${(LABEL_W + (k / (s.length - 1)) * BAR_W).toFixed(1)},${(y + 40 - (v / smax) * 12).toFixed(1)}`).join(' ')
      out.push(`<polyline points="${pts}" fill="none" stroke="#f58518" stroke-width="1" opacity="0.7"/>`)
    }
  })
  let y = top + rows.length * ROW_H + 10
  if (r.preload?.rssPerPeerBytes !== undefined) {
    out.push(`<text x="16" y="${y + 12}">${esc(`preload: ${formatCount(r.preload.acked)} peers, RSS growth ${r.preload.rssPerPeerBytes.toFixed(1)} bytes per peer`)}</text>`)
    y += 40
  }
  const byName = new Map<string, { pass: number, total: number }>()
  for (const c of r.checks) {
    const t = byName.get(c.name) ?? { pass: 0, total: 0 }
    t.total++
    if (c.ok) t.pass++
    byName.set(c.name, t)
  }
  const checks = [...byName].map(([name, t]) => t.total === 1 ? `${t.pass === 1 ? 'PASS' : 'FAIL'} ${name}` : `${name}: ${t.pass}/${t.total} pass`).join('   ')
  if (checks !== '') out.push(`<text x="16" y="${y + 12}" fill="${r.checks.every((c) => c.ok) ? '#2a7d2a' : '#b22222'}">${esc(checks)}</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/**
 * Comparison chart: one bar per figure from the 1.0 line, right for better and left for worse
 * (whatever the figure's direction), red when beyond the allowed regression.
 */
export function comparisonChartSvg (c: Comparison, baseLabel: string, currentLabel: string): string {
  const rows = c.rows
  const top = 70
  const height = top + rows.length * 30 + 30
  const mid = LABEL_W + BAR_W / 2
  const span = Math.max(0.25, ...rows.map((r) => Math.min(2, Math.abs(Number.isFinite(r.worse) ? r.worse : 2))))
  const width = WIDTH + 120
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="13">`)
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`)
  out.push(`<text x="16" y="26" font-size="17" font-weight="600">${esc(`otbench compare — ${currentLabel} against ${baseLabel}`)}</text>`)
  out.push(`<text x="16" y="48" fill="#555">${esc(`right of the line is better, left is worse; red: worse by more than ${(c.maxRegression * 100).toFixed(0)}%; grey: informational`)}</text>`)
  out.push(`<line x1="${mid}" x2="${mid}" y1="${top - 6}" y2="${top + rows.length * 30}" stroke="#888"/>`)
  rows.forEach((r, i) => {
    const y = top + i * 30
    const gain = Number.isFinite(r.worse) ? -Math.max(-2, Math.min(2, r.worse)) : 0
    const w = (Math.abs(gain) / span) * (BAR_W / 2)
    const x = gain >= 0 ? mid : mid - w
    const color = r.regressed ? '#d62728' : r.info ? '#bbbbbb' : gain >= 0 ? '#2ca02c' : '#9ecae9'
    out.push(`<text x="16" y="${y + 16}">${esc(r.name)}</text>`)
    out.push(`<rect x="${x.toFixed(1)}" y="${y + 4}" width="${Math.max(1, w).toFixed(1)}" height="16" fill="${color}"/>`)
    out.push(`<text x="${LABEL_W + BAR_W + 12}" y="${y + 16}">${esc(`${Number.isFinite(r.ratio) ? r.ratio.toFixed(3) : '-'}×  (${formatCount(r.base)} → ${formatCount(r.current)} ${r.unit})`)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
