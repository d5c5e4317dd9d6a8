/**
 * The pieces one tracker is made of, shared by the Tracker API and the operator routes, so both
 * name them the same way and neither reaches into the other.
 */
import type { Logger } from 'pino'
import type { AccessLists } from './access/access-lists.js'
import type { Blessings } from './access/blessings.js'
import type { Clock } from './clock.js'
import type { TrackerOptions } from './config.js'
import type { Counters } from './counters.js'
import type { StatsContext } from './stats/context.js'
import type { SwarmStore } from './swarm/store.js'
import type { ClusterSync } from './sync/cluster.js'

export interface TrackerParts {
  readonly options: TrackerOptions
  readonly store: SwarmStore
  readonly counters: Counters
  readonly clock: Clock
  readonly logger: Logger
  readonly access: AccessLists
  readonly blessings: Blessings
  readonly stats: StatsContext
  /** Cluster sync: `/sync` and live sync (sync/cluster.ts). */
  readonly sync: ClusterSync
}
