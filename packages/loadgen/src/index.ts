/**
 * @otd/loadgen: otbench's building blocks, for scripts that drive floods themselves.
 */
export * from './pool.js'
export * from './stats.js'
export * from './target.js'
export * from './udp-client.js'
export * from './udp-flood.js'
export * from './http-response.js'
export * from './http-source.js'
export * from './http-flood.js'
export * from './preload.js'
export * from './runner.js'
export * from './units.js'
