/**
 * Query strings of the operator routes (stats, admin), decoded into name/value pairs. The
 * tracker routes use proto's allocation-free parsers instead; these routes are rare and want
 * plain strings. A value that does not percent-decode is kept as written, or replaced by
 * `undecodable` when given (stats: a value that can match nothing).
 */
export function queryPairs (query: string, undecodable?: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  if (query === '') return out
  for (const part of query.split('&')) {
    const eq = part.indexOf('=')
    const raw = eq < 0 ? '' : part.slice(eq + 1)
    let value = raw
    try { value = decodeURIComponent(raw) } catch { value = undecodable ?? raw }
    out.push([eq < 0 ? part : part.slice(0, eq), value])
  }
  return out
}

/** Every value given for `name`, in order. */
export function queryValues (query: string, name: string): string[] {
  return queryPairs(query).filter(([k]) => k === name).map(([, v]) => v)
}
