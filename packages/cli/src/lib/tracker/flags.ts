import { Flags } from '@oclif/core'

export const trackerFlag = Flags.string({
  char: 't',
  summary: 'Tracker announce URL: http(s)://host:port/announce or udp://host:port. Default: the otd at --url, over HTTP.',
  helpValue: '<url>'
})

/** `--tracker`, or the otd at `--url` (its announce path). */
export function trackerText (tracker: string | undefined, url: string): string {
  if (tracker !== undefined) return tracker
  const base = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`
  return base.replace(/\/+$/, '') + '/announce'
}
