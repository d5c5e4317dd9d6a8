/**
 * @otd/syncd: otsync, the bridge that carries /sync changesets between tracker nodes, as a
 * library. The `otsync` command is bin/otsync.ts.
 */
export { Bridge, type NodeReport, type RoundReport, type NodeState } from './bridge.js'
export { defaultOptions, parseOtsyncArgs, applyConfigText, type OtsyncOptions } from './config.js'
export {
  MAX_CHANGESETS_PER_REQUEST, MAX_PEERS_PER_CHANGESET, describeKey, encodePushes, mergeExports, mergeValues, parseExport, planPush,
  type PeerSet, type PushLog
} from './merge.js'
export { NodeClient, syncUrl, type RetryPolicy } from './node-client.js'
export { renderMetrics, serveMetrics, status } from './metrics.js'
export { VERSION } from './version.js'
