// Starts `otd --workers N` in-process (the pool of workers/pool.ts: N worker threads sharing the
// ports) on 127.0.0.1 and ::1, port 0, and exposes the bound endpoints; every pool started in a
// test file is closed when the file's tests are done.

import { after } from 'node:test'
import { pino } from 'pino'
import type { TrackerOptions } from '../../src/config.js'
import { createWorkerPool, type TrackerProcess } from '../../src/workers/pool.js'
import type { Endpoint } from './http-raw.js'

export interface WorkersFixture {
  tracker: TrackerProcess
  http4: Endpoint
  http6: Endpoint
  udp4: Endpoint
  udp6: Endpoint
  /** Worker 0's live-sync sockets (when configured). */
  livesync: Array<{ kind: string, address: string, port: number }>
}

export function workersPool (): (extra?: Partial<TrackerOptions>, workers?: number) => Promise<WorkersFixture> {
  const started: TrackerProcess[] = []
  after(async () => { await Promise.all(started.map((t) => t.close())) })
  return async (extra = {}, workers = 2) => {
    const tracker = createWorkerPool({
      http: [{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }],
      udp: [{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }],
      ...extra
    }, { workers, logLevel: 'silent', logger: pino({ level: 'silent' }) })
    started.push(tracker)
    const bound = await tracker.bind()
    await tracker.start()
    const ep = (a: { address: string, port: number, family: string } | undefined): Endpoint => {
      if (a === undefined) throw new Error('missing endpoint')
      return { address: a.address, port: a.port, family: a.family }
    }
    return { tracker, http4: ep(bound.http[0]), http6: ep(bound.http[1]), udp4: ep(bound.udp[0]), udp6: ep(bound.udp[1]), livesync: bound.livesync ?? [] }
  }
}
