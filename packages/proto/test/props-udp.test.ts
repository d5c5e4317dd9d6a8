/**
 * Property tests (fast-check) of the BEP 15 codec: the request decoder on arbitrary and damaged
 * packets, encoder/decoder round trips, and the reply writers (read back by a reference decoder
 * here, since proto has no reply decoder). Live-sync packet framing too, being UDP as well.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  ACTION_ANNOUNCE, ACTION_CONNECT, ACTION_ERROR, ACTION_SCRAPE, ANNOUNCE_REQUEST_BYTES, LIVESYNC_ERR_LENGTH, LIVESYNC_ERR_SHORT,
  LIVESYNC_ERR_TYPE, LIVESYNC_HEADER_BYTES, LIVESYNC_OK, LIVESYNC_TRAILER_BYTES, LivesyncPacket, PROTOCOL_ID_HIGH, PROTOCOL_ID_LOW,
  UDP_ANNOUNCE, UDP_CONNECT, UDP_DROP, UDP_EVENT_NONE, UDP_SCRAPE, UDP_SCRAPE_MAX_HASHES, UdpRequest, decodeLivesync,
  decodeUdpRequest, livesyncEntryBytes, livesyncType, writeAnnounceReplyHead, writeAnnounceRequest, writeConnectReply,
  writeConnectRequest, writeErrorReply, writeLivesyncEntry4, writeLivesyncEntry6, writeLivesyncHeader, writeLivesyncSequence,
  writeScrapeReplyEntry, writeScrapeReplyHead, writeScrapeRequest
} from '../src/index.js'
import type { AnnounceRequestFields } from '../src/index.js'
import { bytes, fixedBytes, mutated, params, propertySuite } from './fc-harness.js'
import type { Cases } from './fc-harness.js'

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u16 = fc.integer({ min: 0, max: 0xffff })

const announceFields: fc.Arbitrary<AnnounceRequestFields> = fc.record({
  connectionIdHigh: u32,
  connectionIdLow: u32,
  transactionId: u32,
  infoHash: fixedBytes(20),
  peerId: fixedBytes(20),
  downloaded: fc.maxSafeNat(),
  left: fc.oneof(fc.constant(0), fc.maxSafeNat(), fc.constantFrom(1, 0x100000000, 2 ** 53 - 1)),
  uploaded: fc.maxSafeNat(),
  event: fc.oneof(fc.integer({ min: 0, max: 4 }), u32),
  ip: u32,
  key: u32,
  numWant: fc.oneof(fc.constant(-1), fc.integer({ min: -0x80000000, max: 0xffffffff })),
  port: u16
})

function connectPacket (txid: number): Buffer {
  const b = Buffer.alloc(16)
  writeConnectRequest(b, 0, txid)
  return b
}

function announcePacket (f: AnnounceRequestFields, extra: Uint8Array): Buffer {
  const b = Buffer.alloc(ANNOUNCE_REQUEST_BYTES + extra.length)
  writeAnnounceRequest(b, 0, f)
  b.set(extra, ANNOUNCE_REQUEST_BYTES)
  return b
}

function scrapePacket (hi: number, lo: number, txid: number, hashes: Uint8Array): Buffer {
  const b = Buffer.alloc(16 + hashes.length)
  writeScrapeRequest(b, 0, hi, lo, txid, Buffer.from(hashes))
  return b
}

/** Valid requests of the three kinds (scrapes with up to 90 hashes, announces with BEP 41 tails). */
const validPacket: fc.Arbitrary<Buffer> = fc.oneof(
  u32.map(connectPacket),
  fc.tuple(announceFields, fc.uint8Array({ maxLength: 40 })).map(([f, x]) => announcePacket(f, x)),
  fc.tuple(u32, u32, u32, fc.integer({ min: 0, max: 90 }), fc.nat()).map(([hi, lo, t, n, seed]) => {
    const hashes = Buffer.alloc(n * 20)
    for (let i = 0; i < hashes.length; i++) hashes[i] = (seed + i * 131) & 255
    return scrapePacket(hi, lo, t, hashes)
  })
)

/** Checks decodeUdpRequest against the rules read straight off the packet. */
function checkDecode (buf: Buffer, length: number, out: UdpRequest): void {
  const kind = decodeUdpRequest(buf, length, out)
  assert.equal(out.kind, kind)
  if (!(length >= 16) || length > buf.length) { assert.equal(kind, UDP_DROP); return }
  assert.equal(out.connectionIdHigh, buf.readUInt32BE(0))
  assert.equal(out.connectionIdLow, buf.readUInt32BE(4))
  assert.equal(out.transactionId, buf.readUInt32BE(12))
  const action = buf.readUInt32BE(8)
  if (action === ACTION_CONNECT) {
    const magic = buf.readUInt32BE(0) === PROTOCOL_ID_HIGH && buf.readUInt32BE(4) === PROTOCOL_ID_LOW
    assert.equal(kind, magic ? UDP_CONNECT : UDP_DROP)
  } else if (action === ACTION_ANNOUNCE) {
    if (length < ANNOUNCE_REQUEST_BYTES) { assert.equal(kind, UDP_DROP); return }
    assert.equal(kind, UDP_ANNOUNCE)
    assert.equal(out.infoHashOffset, 16)
    assert.equal(out.peerIdOffset, 36)
    assert.equal(out.leftIsZero, buf.readBigUInt64BE(64) === 0n)
    const event = buf.readUInt32BE(80)
    assert.equal(out.event, event <= 3 ? event : UDP_EVENT_NONE)
    assert.equal(out.key, buf.readUInt32BE(88))
    assert.equal(out.numWant, buf.readUInt32BE(92))
    assert.equal(out.port, buf.readUInt16BE(96))
  } else if (action === ACTION_SCRAPE) {
    assert.equal(kind, UDP_SCRAPE)
    assert.equal(out.scrapeCount, Math.min(UDP_SCRAPE_MAX_HASHES, Math.floor((length - 16) / 20)))
    assert.ok(out.infoHashOffset + out.scrapeCount * 20 <= length)
  } else {
    assert.equal(kind, UDP_DROP)
  }
}

/** Calls `write(out, off)` on a buffer of sentinel bytes; checks it wrote exactly [off, off + n). */
function writesExactly (n: number, off: number, write: (out: Buffer, off: number) => number): Buffer {
  const out = Buffer.alloc(off + n + 16, 0xa5)
  const end = write(out, off)
  assert.equal(end, off + n)
  for (let i = 0; i < off; i++) assert.equal(out[i], 0xa5, `byte ${i} before the reply was written`)
  for (let i = off + n; i < out.length; i++) assert.equal(out[i], 0xa5, `byte ${i} after the reply was written`)
  return out.subarray(off, off + n)
}

const clampU32 = (n: number): number => Math.min(n, 0xffffffff)

export const cases: Cases = {
  'decodeUdpRequest: arbitrary bytes, any length argument (even out of range or NaN)': () => {
    const out = new UdpRequest()
    const len = fc.oneof(fc.constant(-1), fc.integer({ min: -4, max: 1600 }), fc.constantFrom(NaN, Infinity, -Infinity, 16.5))
    fc.assert(fc.property(bytes(1500), fc.boolean(), len, (b, whole, l) => {
      checkDecode(b, whole ? b.length : l, out)
    }), params(3000))
  },

  'decodeUdpRequest: damaged connect/announce/scrape packets': () => {
    const out = new UdpRequest()
    fc.assert(fc.property(fc.oneof(validPacket, mutated(validPacket)), fc.integer({ min: -8, max: 8 }), (b, delta) => {
      checkDecode(b, b.length, out)
      // A length argument a little off the real one (a truncated read into a larger buffer).
      const big = Buffer.concat([b, Buffer.alloc(8, 0xee)])
      checkDecode(big, b.length + delta, out)
    }), params(4000))
  },

  'decode(encode(announce)) gives back every field': () => {
    const out = new UdpRequest()
    fc.assert(fc.property(announceFields, fc.uint8Array({ maxLength: 30 }), (f, extra) => {
      const b = announcePacket(f, extra)
      assert.equal(decodeUdpRequest(b, b.length, out), UDP_ANNOUNCE)
      assert.equal(out.connectionIdHigh, f.connectionIdHigh)
      assert.equal(out.connectionIdLow, f.connectionIdLow)
      assert.equal(out.transactionId, f.transactionId)
      assert.ok(b.subarray(out.infoHashOffset, out.infoHashOffset + 20).equals(f.infoHash))
      assert.ok(b.subarray(out.peerIdOffset, out.peerIdOffset + 20).equals(f.peerId))
      assert.equal(out.leftIsZero, f.left === 0)
      assert.equal(out.event, f.event! <= 3 ? f.event : UDP_EVENT_NONE)
      assert.equal(out.key, f.key)
      assert.equal(out.numWant, f.numWant! >>> 0)
      assert.equal(out.port, f.port)
      assert.equal(b.readBigUInt64BE(56), BigInt(f.downloaded!))
      assert.equal(b.readBigUInt64BE(72), BigInt(f.uploaded!))
      assert.equal(b.readUInt32BE(84), f.ip)
    }), params(1500))
  },

  'decode(encode(connect)) and decode(encode(scrape)) round-trip': () => {
    const out = new UdpRequest()
    fc.assert(fc.property(u32, (t) => {
      assert.equal(decodeUdpRequest(connectPacket(t), 16, out), UDP_CONNECT)
      assert.equal(out.transactionId, t)
    }), params(500))
    fc.assert(fc.property(u32, u32, u32, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 19 }), (hi, lo, t, n, partial) => {
      const b = Buffer.concat([scrapePacket(hi, lo, t, Buffer.alloc(n * 20, 7)), Buffer.alloc(partial)])
      assert.equal(decodeUdpRequest(b, b.length, out), UDP_SCRAPE)
      assert.deepEqual([out.connectionIdHigh, out.connectionIdLow, out.transactionId], [hi, lo, t])
      assert.equal(out.scrapeCount, Math.min(n, UDP_SCRAPE_MAX_HASHES))
    }), params(1000))
  },

  'reply writers: exact sizes, nothing written outside, fields read back (clamped to u32)': () => {
    const big = fc.oneof(u32, fc.maxSafeNat())
    fc.assert(fc.property(fc.integer({ min: 0, max: 64 }), u32, u32, u32, big, big, big, fc.uint8Array({ maxLength: 80 }),
      (off, t, a, b, x, y, z, msg) => {
        let r = writesExactly(16, off, (o, at) => writeConnectReply(o, at, t, a, b))
        assert.deepEqual([r.readUInt32BE(0), r.readUInt32BE(4), r.readUInt32BE(8), r.readUInt32BE(12)], [ACTION_CONNECT, t, a, b])
        r = writesExactly(20, off, (o, at) => writeAnnounceReplyHead(o, at, t, a, x, y))
        assert.deepEqual([r.readUInt32BE(0), r.readUInt32BE(4), r.readUInt32BE(8), r.readUInt32BE(12), r.readUInt32BE(16)],
          [ACTION_ANNOUNCE, t, a, clampU32(x), clampU32(y)])
        r = writesExactly(8, off, (o, at) => writeScrapeReplyHead(o, at, t))
        assert.deepEqual([r.readUInt32BE(0), r.readUInt32BE(4)], [ACTION_SCRAPE, t])
        r = writesExactly(12, off, (o, at) => writeScrapeReplyEntry(o, at, x, y, z))
        assert.deepEqual([r.readUInt32BE(0), r.readUInt32BE(4), r.readUInt32BE(8)], [clampU32(x), clampU32(y), clampU32(z)])
        const m = Buffer.from(msg)
        r = writesExactly(8 + m.length, off, (o, at) => writeErrorReply(o, at, t, m))
        assert.deepEqual([r.readUInt32BE(0), r.readUInt32BE(4)], [ACTION_ERROR, t])
        assert.ok(r.subarray(8).equals(m))
      }), params(1500))
  },

  'decodeLivesync: arbitrary and damaged packets, any length argument': () => {
    const out = new LivesyncPacket()
    const typed = fc.tuple(fc.constantFrom(0, 1, 0x6f740000, 0x6f740001), bytes(1600)).map(([type, body]) => {
      const b = Buffer.concat([Buffer.alloc(8), body])
      b.writeUInt32BE(type, 4)
      return b
    })
    fc.assert(fc.property(fc.oneof(bytes(1600), typed, mutated(typed)), fc.oneof(fc.constant(-1), fc.integer({ min: -2, max: 1700 }), fc.constant(NaN)),
      (b, l) => {
        const length = l === -1 ? b.length : l
        const r = decodeLivesync(b, length, out)
        assert.ok([LIVESYNC_OK, LIVESYNC_ERR_SHORT, LIVESYNC_ERR_TYPE, LIVESYNC_ERR_LENGTH].includes(r))
        if (r !== LIVESYNC_OK) return
        const n = Math.min(length, b.length)
        const trailer = out.authenticated ? LIVESYNC_TRAILER_BYTES : 0
        assert.equal(LIVESYNC_HEADER_BYTES + out.count * livesyncEntryBytes(out.family) + trailer, n)
        assert.ok(out.count >= 1 && Number.isInteger(out.count))
        assert.equal(out.type, livesyncType(out.family, out.authenticated))
        assert.equal(out.macOffset, out.authenticated ? n - 16 : n)
      }), params(3000))
  },

  'livesync writers round-trip through decodeLivesync': () => {
    const out = new LivesyncPacket()
    const entry = fc.record({ hash: fixedBytes(20), ip: fc.array(u32, { minLength: 4, maxLength: 4 }), port: u16, flags: fc.integer({ min: 0, max: 255 }), age: fc.integer({ min: 0, max: 255 }) })
    fc.assert(fc.property(u32, fc.constantFrom(4, 6), fc.boolean(), fc.array(entry, { minLength: 1, maxLength: 30, size: 'medium' }), u32, u32,
      (id, family, auth, entries, seconds, counter) => {
        const b = Buffer.alloc(1600)
        let off = writeLivesyncHeader(b, 0, id, livesyncType(family, auth))
        for (const e of entries) {
          const hash = e.hash.toString('latin1')
          off = family === 4 ? writeLivesyncEntry4(b, off, hash, e.ip[0]!, e.port, e.flags, e.age) : writeLivesyncEntry6(b, off, hash, e.ip, e.port, e.flags, e.age)
        }
        if (auth) off = writeLivesyncSequence(b, off, seconds, counter) + 16
        assert.equal(decodeLivesync(b, off, out), LIVESYNC_OK)
        assert.deepEqual([out.trackerId, out.family, out.authenticated, out.count], [id, family, auth, entries.length])
        if (auth) assert.deepEqual([out.seconds, out.counter, out.macOffset], [seconds, counter, off - 16])
        const size = livesyncEntryBytes(family)
        entries.forEach((e, k) => {
          const at = out.entriesOffset + k * size
          assert.ok(b.subarray(at, at + 20).equals(e.hash))
          if (family === 4) assert.equal(b.readUInt32BE(at + 20), e.ip[0])
          else for (let w = 0; w < 4; w++) assert.equal(b.readUInt32BE(at + 20 + 4 * w), e.ip[w])
          assert.deepEqual([b.readUInt16BE(at + size - 4), b[at + size - 2], b[at + size - 1]], [e.port, e.flags, e.age])
        })
      }), params(800))
  }
}

propertySuite('UDP and live-sync codecs', import.meta.url, cases)
