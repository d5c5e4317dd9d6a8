/**
 * `--target` URLs: `udp://host:port` (BEP 15) or `http://host:port/announce` (BEP 3).
 * Pure parsing; name resolution happens when a flood starts.
 */
export interface Target {
  protocol: 'udp' | 'http'
  /** Host name or address, without IPv6 brackets. */
  host: string
  port: number
  /** HTTP announce path with its leading slash (and any query the operator put in the URL, without '?'). */
  announcePath: string
  /** HTTP scrape path by the BEP 48 convention: the last "announce" of the path replaced by "scrape". */
  scrapePath: string
  /** The URL as given, for reports. */
  url: string
}

export type TargetResult = { ok: true, target: Target } | { ok: false, error: string }

export function parseTarget (text: string): TargetResult {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return { ok: false, error: `not a URL: ${text} (expected udp://host:port or http://host:port/announce)` }
  }
  const protocol = u.protocol === 'udp:' ? 'udp' : u.protocol === 'http:' ? 'http' : null
  if (protocol === null) return { ok: false, error: `unsupported scheme ${u.protocol} in ${text} (udp: or http:)` }
  if (u.port === '') return { ok: false, error: `${text}: a port is required` }
  const port = Number(u.port)
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  if (host === '') return { ok: false, error: `${text}: a host is required` }
  let announcePath = u.pathname === '' || u.pathname === '/' ? '/announce' : u.pathname
  if (protocol === 'udp') announcePath = '/announce'
  const i = announcePath.lastIndexOf('announce')
  const scrapePath = i < 0 ? '/scrape' : announcePath.slice(0, i) + 'scrape' + announcePath.slice(i + 'announce'.length)
  return { ok: true, target: { protocol, host, port, announcePath, scrapePath, url: text } }
}

/** Formats host:port with brackets for IPv6. */
export function hostPort (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
