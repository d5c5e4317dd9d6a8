/**
 * Output for people: aligned tables and key/value blocks, human units. Hand-written (a few
 * lines) rather than a table package, so no command pays for loading one.
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** `1536` → `1.5 KiB`; whole bytes below 1 KiB. */
export function formatBytes (n: number): string {
  if (!Number.isFinite(n)) return String(n)
  let v = Math.abs(n)
  let u = 0
  while (v >= 1024 && u < BYTE_UNITS.length - 1) { v /= 1024; u++ }
  const sign = n < 0 ? '-' : ''
  return u === 0 ? `${sign}${v} B` : `${sign}${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${BYTE_UNITS[u]}`
}

/** `93784` → `1d 2h 03m`; `125` → `2m 05s`; `7` → `7s`. */
export function formatDuration (seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return String(seconds)
  const s = Math.floor(seconds)
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  const p2 = (x: number): string => String(x).padStart(2, '0')
  if (d > 0) return `${d}d ${h}h ${p2(m)}m`
  if (h > 0) return `${h}h ${p2(m)}m`
  if (m > 0) return `${m}m ${p2(sec)}s`
  return `${sec}s`
}

/** Thousands separators: `1234567` → `1,234,567`. */
export function formatCount (n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

/** Per-second rate with sensible precision. */
export function formatRate (perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-'
  if (perSecond >= 100) return formatCount(Math.round(perSecond))
  if (perSecond >= 10) return perSecond.toFixed(1)
  return perSecond.toFixed(2)
}

export type Align = 'left' | 'right'

/**
 * Aligns rows into columns separated by two spaces. `align` defaults to right for cells that
 * look numeric in every row, left otherwise. The header row, if any, is underlined by nothing:
 * like `ps` and `top`, a plain header line.
 */
export function formatTable (rows: string[][], header?: string[], align?: Align[]): string {
  const all = header === undefined ? rows : [header, ...rows]
  const cols = Math.max(0, ...all.map((r) => r.length))
  const widths: number[] = []
  const aligns: Align[] = []
  for (let c = 0; c < cols; c++) {
    widths.push(Math.max(...all.map((r) => (r[c] ?? '').length)))
    aligns.push(align?.[c] ?? (rows.length > 0 && rows.every((r) => /^[-+]?[\d,.]+( ?[%a-zA-Z/]+)?$|^-$/.test(r[c] ?? '')) ? 'right' : 'left'))
  }
  return all.map((r) => {
    const cells = r.map((cell, c) => aligns[c] === 'right' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))
    return cells.join('  ').trimEnd()
  }).join('\n')
}

/** `key  value` lines with the keys padded to one width. */
export function formatPairs (pairs: Array<[string, string]>): string {
  const w = Math.max(0, ...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')
}

/** `1 torrent`, `2 torrents`, `1 entry`, `3 entries`. */
export function plural (n: number, one: string, many = one + 's'): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`
}
