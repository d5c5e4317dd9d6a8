// Starts an otd tracker in-process on 127.0.0.1 and ::1 (port 0, HTTP and UDP)
// and exposes the four bound endpoints.

import { after } from 'node:test'
import { createTracker, ManualClock } from '../../src/index.js'
import type { Endpoint } from './http-raw.js'

export type TrackerOptions = Parameters<typeof createTracker>[0]
type Tracker = ReturnType<typeof createTracker>

export interface Fixture {
  tracker: Tracker
  clock: ManualClock | undefined
  http4: Endpoint
  http6: Endpoint
  udp4: Endpoint
  udp6: Endpoint
  close(): Promise<void>
}

export const CLOCK_START = 1_700_000_000

/**
 * `extra` is merged into the listener configuration. With `manualClock: true`
 * a ManualClock starting at CLOCK_START is injected (see `Fixture.clock`).
 */
export async function startTracker(
  extra: Partial<TrackerOptions> = {},
  opts: { manualClock?: boolean } = {},
): Promise<Fixture> {
  const clock = opts.manualClock ? new ManualClock(CLOCK_START) : undefined
  const tracker = createTracker({
    http: [
      { host: '127.0.0.1', port: 0 },
      { host: '::1', port: 0 },
    ],
    udp: [
      { host: '127.0.0.1', port: 0 },
      { host: '::1', port: 0 },
    ],
    ...(clock ? { clock } : {}),
    ...extra,
  } as TrackerOptions)
  const bound = await tracker.listen()
  const pick = (list: readonly Endpoint[], i: number, what: string): Endpoint => {
    const ep = list[i]
    if (!ep) throw new Error(`tracker.listen() returned no ${what} endpoint #${i}`)
    return { address: ep.address, port: ep.port, family: ep.family }
  }
  return {
    tracker,
    clock,
    http4: pick(bound.http, 0, 'http'),
    http6: pick(bound.http, 1, 'http'),
    udp4: pick(bound.udp, 0, 'udp'),
    udp6: pick(bound.udp, 1, 'udp'),
    close: async () => {
      await tracker.close()
    },
  }
}

/**
 * A starter for the trackers of one test file: each call starts one (see startTracker), and all
 * of them are closed when the file's tests are done.
 */
export function trackerPool(): (extra?: Partial<TrackerOptions>, manualClock?: boolean) => Promise<Fixture> {
  const fixtures: Fixture[] = []
  after(async () => { await Promise.all(fixtures.map((f) => f.close())) })
  return async (extra = {}, manualClock = false) => {
    const f = await startTracker(extra, { manualClock })
    fixtures.push(f)
    return f
  }
}
