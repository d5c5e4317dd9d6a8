/**
 * The body of one worker thread (`--workers N`): one tracker, one shard, driven by the main
 * thread (pool.ts) through a small request/reply protocol on the parent port. Whatever fails here
 * is reported to the main thread, which exits the process: a worker never runs on degraded.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { pino } from 'pino'
import type { TrackerOptions } from '../config.js'
import { createTracker } from '../tracker.js'
import { Mesh, type MeshInit } from './mesh.js'

export interface WorkerInit {
  options: Omit<TrackerOptions, 'clock' | 'logger'>
  mesh: MeshInit
  connectionIdKey: Uint32Array
  trackerId: number
  startedAtMs: number
  logLevel: string
}

/** A request from the main thread. */
export type WorkerCommand =
  | { t: 'bind' }
  | { t: 'start' }
  | { t: 'reload' }
  | { t: 'statedump', path: string }
  | { t: 'quiesce', graceMs: number }
  | { t: 'save' }
  | { t: 'close' }

const init = workerData as WorkerInit
const port = parentPort!
const mesh = new Mesh(init.mesh)
// Synchronous writes to fd 1: a worker's lines are whole (one write each) and none is lost when
// the main thread exits the process.
const logger = pino({ level: init.logLevel, base: { name: 'otd', worker: init.mesh.index } }, pino.destination({ dest: 1, sync: true }))
const tracker = createTracker({ ...init.options, logger }, {
  mesh,
  connectionIdKey: init.connectionIdKey,
  trackerId: init.trackerId,
  startedAtMs: init.startedAtMs
})

async function run (m: WorkerCommand): Promise<unknown> {
  switch (m.t) {
    case 'bind': return await tracker.bind()
    case 'start': return await tracker.start()
    case 'reload': return await tracker.reloadLocal()
    case 'statedump': return tracker.loadStateDump(m.path)
    case 'quiesce': return await tracker.quiesce(m.graceMs)
    case 'save': return await tracker.saveState()
    case 'close': return await tracker.close()
  }
}

port.on('message', (msg: { id: number, command: WorkerCommand }) => {
  run(msg.command).then((value) => {
    port.postMessage({ id: msg.id, ok: true, value })
  }, (err: unknown) => {
    const e = err as Error & { code?: string }
    port.postMessage({ id: msg.id, ok: false, message: e instanceof Error ? e.message : String(err), code: e.code })
  })
})
