/**
 * @otd/proto: otd's wire codecs. No I/O, no throws on input, no per-call allocation beyond results.
 */
export * from './net/ip.js'
export * from './net/cidr.js'
export * from './http/bytes.js'
export * from './http/query.js'
export * from './http/request.js'
export * from './http/responses.js'
export * from './http/accept-encoding.js'
export * from './udp/codec.js'
export * from './bencode.js'
export * from './access-list.js'
export * from './state-dump.js'
export * from './full-scrape.js'
export * from './sync/changeset.js'
export * from './sync/livesync.js'
