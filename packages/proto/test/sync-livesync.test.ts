import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  LIVESYNC_ENTRY4_BYTES, LIVESYNC_ENTRY6_BYTES, LIVESYNC_ERR_LENGTH, LIVESYNC_ERR_SHORT, LIVESYNC_ERR_TYPE, LIVESYNC_ERRORS,
  LIVESYNC_HEADER_BYTES, LIVESYNC_MAX_ENTRY_BYTES, LIVESYNC_MAX_PACKET_BYTES, LIVESYNC_OK, LIVESYNC_TRAILER_BYTES,
  LIVESYNC_TYPE_AUTH_PEER4, LIVESYNC_TYPE_AUTH_PEER6, LIVESYNC_TYPE_PEER4, LIVESYNC_TYPE_PEER6, LivesyncPacket,
  decodeLivesync, livesyncEntryBytes, livesyncType, writeLivesyncEntry4, writeLivesyncEntry6, writeLivesyncHeader,
  writeLivesyncSequence
} from '../src/index.js'
import { int, mulberry32, randomBytes } from './prng.js'

const HASH = Buffer.alloc(20, 0xab).toString('latin1')

describe('live sync packets: opentracker format (reference §10.2)', () => {
  it('a golden IPv4 packet (§13.9 item 69): id, type 0, hash, ip, port, flags 0x80, age 0', () => {
    const golden = Buffer.concat([
      Buffer.from('deadbeef', 'hex'), // tracker id, raw
      Buffer.from('00000000', 'hex'), // type 0: IPv4 records
      Buffer.alloc(20, 0xab), // info_hash
      Buffer.from('0a000001' + '1ae1' + '80' + '00', 'hex') // 10.0.0.1:6881, SEEDING, age 0
    ])
    const p = new LivesyncPacket()
    assert.equal(decodeLivesync(golden, golden.length, p), LIVESYNC_OK)
    assert.equal(p.trackerId, 0xdeadbeef)
    assert.equal(p.type, LIVESYNC_TYPE_PEER4)
    assert.equal(p.family, 4)
    assert.equal(p.authenticated, false)
    assert.equal(p.count, 1)
    assert.equal(p.entriesOffset, 8)
    const out = Buffer.alloc(36)
    let o = writeLivesyncHeader(out, 0, 0xdeadbeef, LIVESYNC_TYPE_PEER4)
    o = writeLivesyncEntry4(out, o, HASH, 0x0a000001, 6881, 0x80, 0)
    assert.equal(o, 36)
    assert.deepEqual(out, golden)
  })

  it('IPv6 entries are 20 hash + 16 ip + 2 port + flags + age', () => {
    const out = Buffer.alloc(8 + 2 * 40)
    let o = writeLivesyncHeader(out, 0, 7, LIVESYNC_TYPE_PEER6)
    o = writeLivesyncEntry6(out, o, HASH, [0x20010db8, 0, 0, 1], 443, 0x20, 0)
    o = writeLivesyncEntry6(out, o, HASH, [0xfe800000, 0, 0, 2], 80, 0x80, 5)
    const p = new LivesyncPacket()
    assert.equal(decodeLivesync(out, o, p), LIVESYNC_OK)
    assert.equal(p.family, 6)
    assert.equal(p.count, 2)
    assert.equal(out.readUInt32BE(8 + 20), 0x20010db8)
    assert.equal(out.readUInt16BE(8 + 36), 443)
    assert.equal(out[8 + 38], 0x20)
    assert.equal(out[8 + 40 + 39], 5)
  })

  it('drops packets of 8 bytes or less, unknown types and partial records, with a reason', () => {
    const p = new LivesyncPacket()
    assert.equal(decodeLivesync(Buffer.alloc(8), 8, p), LIVESYNC_ERR_SHORT)
    const bad = Buffer.alloc(8 + 28)
    bad.writeUInt32BE(2, 4)
    assert.equal(decodeLivesync(bad, bad.length, p), LIVESYNC_ERR_TYPE)
    const partial = Buffer.alloc(8 + 27)
    assert.equal(decodeLivesync(partial, partial.length, p), LIVESYNC_ERR_LENGTH)
    const v6WithV4Size = Buffer.alloc(8 + 28)
    v6WithV4Size.writeUInt32BE(LIVESYNC_TYPE_PEER6, 4)
    assert.equal(decodeLivesync(v6WithV4Size, v6WithV4Size.length, p), LIVESYNC_ERR_LENGTH)
    for (const code of [LIVESYNC_ERR_SHORT, LIVESYNC_ERR_TYPE, LIVESYNC_ERR_LENGTH]) assert.ok(LIVESYNC_ERRORS[code]!.length > 5)
  })

  it('uses only the first `length` bytes of a larger receive buffer', () => {
    const big = Buffer.alloc(100)
    writeLivesyncHeader(big, 0, 1, LIVESYNC_TYPE_PEER4)
    const p = new LivesyncPacket()
    assert.equal(decodeLivesync(big, 36, p), LIVESYNC_OK)
    assert.equal(p.count, 1)
  })
})

describe('live sync packets: otd authenticated variant', () => {
  it('frames a trailer of seconds, counter and a 16-byte MAC after the entries', () => {
    const out = Buffer.alloc(8 + 28 + LIVESYNC_TRAILER_BYTES)
    let o = writeLivesyncHeader(out, 0, 0x01020304, livesyncType(4, true))
    o = writeLivesyncEntry4(out, o, HASH, 0x7f000001, 1, 0x80, 0)
    const macAt = writeLivesyncSequence(out, o, 1_700_000_000, 42)
    assert.equal(macAt, out.length - 16)
    out.fill(0xee, macAt)
    const p = new LivesyncPacket()
    assert.equal(decodeLivesync(out, out.length, p), LIVESYNC_OK)
    assert.equal(p.type, LIVESYNC_TYPE_AUTH_PEER4)
    assert.equal(p.authenticated, true)
    assert.equal(p.count, 1)
    assert.equal(p.seconds, 1_700_000_000)
    assert.equal(p.counter, 42)
    assert.equal(p.macOffset, macAt)
  })

  it('an authenticated packet without a whole trailer is malformed', () => {
    const out = Buffer.alloc(8 + 28 + LIVESYNC_TRAILER_BYTES - 1)
    writeLivesyncHeader(out, 0, 1, LIVESYNC_TYPE_AUTH_PEER4)
    assert.equal(decodeLivesync(out, out.length, new LivesyncPacket()), LIVESYNC_ERR_LENGTH)
    const onlyTrailer = Buffer.alloc(8 + LIVESYNC_TRAILER_BYTES)
    writeLivesyncHeader(onlyTrailer, 0, 1, LIVESYNC_TYPE_AUTH_PEER6)
    assert.equal(decodeLivesync(onlyTrailer, onlyTrailer.length, new LivesyncPacket()), LIVESYNC_ERR_LENGTH)
  })

  it('types and sizes', () => {
    assert.equal(livesyncType(4, false), LIVESYNC_TYPE_PEER4)
    assert.equal(livesyncType(6, false), LIVESYNC_TYPE_PEER6)
    assert.equal(livesyncType(6, true), LIVESYNC_TYPE_AUTH_PEER6)
    assert.equal(livesyncEntryBytes(4), LIVESYNC_ENTRY4_BYTES)
    assert.equal(livesyncEntryBytes(6), LIVESYNC_ENTRY6_BYTES)
    assert.equal(LIVESYNC_HEADER_BYTES + LIVESYNC_MAX_ENTRY_BYTES + LIVESYNC_TRAILER_BYTES, LIVESYNC_MAX_PACKET_BYTES)
  })
})

describe('live sync decoding never throws (seeded fuzz)', () => {
  it('random packets of 0-1600 bytes, with valid and random types', () => {
    const rng = mulberry32(0x1ee7)
    const types = [0, 1, LIVESYNC_TYPE_AUTH_PEER4, LIVESYNC_TYPE_AUTH_PEER6]
    const p = new LivesyncPacket()
    for (let i = 0; i < 5000; i++) {
      const b = randomBytes(rng, int(rng, 0, 1600))
      if (b.length >= 8 && rng() < 0.7) b.writeUInt32BE(types[int(rng, 0, 3)]!, 4)
      const len = rng() < 0.1 ? b.length + 10 : b.length
      const r = decodeLivesync(b, len, p)
      assert.ok(r >= 0 && r < LIVESYNC_ERRORS.length)
      if (r === LIVESYNC_OK) {
        assert.ok(p.count > 0)
        assert.ok(p.entriesOffset + p.count * livesyncEntryBytes(p.family) <= Math.min(len, b.length))
      }
    }
  })
})
