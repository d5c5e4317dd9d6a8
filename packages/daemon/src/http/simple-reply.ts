/**
 * Whole replies for the slow routes (stats, metrics, admin, rate limits): built as one buffer,
 * nothing precomputed. Tracker replies (announce, scrape) use proto's writers instead.
 */
const REASONS: Record<number, string> = {
  200: 'OK', 400: 'Invalid Request', 403: 'Access Denied', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 411: 'Length Required', 413: 'Content Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable'
}

export function reasonPhrase (status: number): string {
  return REASONS[status] ?? 'Error'
}

export interface SimpleReplyOptions {
  status: number
  contentType: string
  body: string | Buffer
  /** HTTP/1.1 keep-alive (false: `Connection: close`). */
  keepAlive: boolean
  extraHeaders?: string
}

export function simpleReply (o: SimpleReplyOptions): Buffer {
  const body = typeof o.body === 'string' ? Buffer.from(o.body, 'utf8') : o.body
  const head = `HTTP/1.1 ${o.status} ${reasonPhrase(o.status)}\r\nContent-Type: ${o.contentType}\r\nContent-Length: ${body.length}\r\n` +
    `${o.extraHeaders ?? ''}${o.keepAlive ? '' : 'Connection: close\r\n'}\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}

export function jsonReply (status: number, value: unknown, keepAlive = false): Buffer {
  return simpleReply({ status, contentType: 'application/json', body: JSON.stringify(value, null, 1) + '\n', keepAlive })
}
