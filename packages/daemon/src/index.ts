/**
 * @otd/daemon: the otd BitTorrent tracker as a library. The `otd` command is bin/otd.ts.
 */
export { createTracker, type Tracker, type BoundAddresses, type BoundAddress } from './tracker.js'
export { defaultOptions, resolveOptions, DEFAULT_PORT, type TrackerOptions, type ListenSpec } from './config.js'
export { ManualClock, SystemClock, type Clock } from './clock.js'
export { OtdError, OT_ERR_BIND, OT_ERR_CONFIG } from './errors.js'
