/**
 * Tracker URLs as clients see them: `http(s)://host[:port]/announce[?passkey…]` or
 * `udp://host:port[/announce]`. The scrape URL of an HTTP tracker follows the convention every
 * tracker and client shares (BEP 48): the last path segment starting with `announce` has that
 * word replaced by `scrape`; a tracker whose announce URL does not look like that cannot be scraped.
 */
import { badInput } from '../../errors.js'

export type TrackerUrl =
  | { kind: 'http', announce: URL, scrape: URL | null, text: string }
  | { kind: 'udp', host: string, port: number, text: string }

export function parseTrackerUrl (text: string): TrackerUrl {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw badInput(`--tracker ${JSON.stringify(text)} is not a URL (e.g. udp://tracker.example.org:6969 or http://tracker.example.org:6969/announce)`)
  }
  if (url.protocol === 'udp:') {
    const port = Number(url.port)
    if (url.port === '' || !(port > 0 && port < 65536)) throw badInput(`--tracker ${text}: a UDP tracker URL needs a port (udp://host:port)`)
    return { kind: 'udp', host: url.hostname.replace(/^\[|\]$/g, ''), port, text }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput(`--tracker ${text}: use http://, https:// or udp://`)
  url.hash = ''
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/announce'
  const slash = url.pathname.lastIndexOf('/')
  const last = url.pathname.slice(slash + 1)
  let announce = url
  let scrape: URL | null = null
  if (last.startsWith('announce')) {
    scrape = new URL(url.href)
    scrape.pathname = url.pathname.slice(0, slash + 1) + 'scrape' + last.slice('announce'.length)
  } else if (last.startsWith('scrape')) {
    scrape = url
    announce = new URL(url.href)
    announce.pathname = url.pathname.slice(0, slash + 1) + 'announce' + last.slice('scrape'.length)
  }
  return { kind: 'http', announce, scrape, text }
}

/** Every byte as `%xx` except RFC 3986 unreserved characters: how clients send info_hash and peer_id. */
export function percentEncodeBytes (b: Buffer): string {
  let s = ''
  for (const c of b) {
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126) s += String.fromCharCode(c)
    else s += '%' + c.toString(16).padStart(2, '0')
  }
  return s
}

/** `url` with `query` appended to whatever query it already has (passkeys). */
export function withQuery (url: URL, query: string): URL {
  const u = new URL(url.href)
  u.search = u.search === '' || u.search === '?' ? `?${query}` : `${u.search}&${query}`
  return u
}
