/**
 * What a worker thread hands createTracker (tracker.ts) so that its tracker becomes one shard of
 * the process (`--workers N`, docs/workers.md). Absent with one worker: nothing of this exists then.
 */
import type { Mesh } from './mesh.js'

export interface WorkerContext {
  /** The channels to the other workers; `mesh.index` is this worker's shard. */
  mesh: Mesh
  /** The connection-id key (128 bits), the same in every worker, so any worker validates any id. */
  connectionIdKey: Uint32Array
  /** The process's tracker id (stats, sync sender id), the same in every worker. */
  trackerId: number
  /** When the process started (uptime). */
  startedAtMs: number
}
