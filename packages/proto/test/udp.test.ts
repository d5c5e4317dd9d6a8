import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  ACTION_ANNOUNCE, ACTION_CONNECT, ACTION_SCRAPE, ANNOUNCE_REQUEST_BYTES, ERROR_CONNECTION_ID, PROTOCOL_ID_HIGH,
  PROTOCOL_ID_LOW, UDP_ANNOUNCE, UDP_CONNECT, UDP_DROP, UDP_EVENT_COMPLETED, UDP_EVENT_NONE, UDP_EVENT_STARTED,
  UDP_EVENT_STOPPED, UDP_SCRAPE, UDP_SCRAPE_MAX_HASHES, UdpRequest, decodeUdpRequest, writeAnnounceReplyHead,
  writeAnnounceRequest, writeConnectReply, writeConnectRequest, writeErrorReply, writeScrapeReplyEntry,
  writeScrapeReplyHead, writeScrapeRequest
} from '../src/index.js'
import type { AnnounceRequestFields } from '../src/index.js'
import { int, mulberry32, pick, randomBytes, u32 } from './prng.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const KINDS = [UDP_DROP, UDP_CONNECT, UDP_ANNOUNCE, UDP_SCRAPE]

function decode (buf: Buffer, length = buf.length): UdpRequest {
  const r = new UdpRequest()
  const kind = decodeUdpRequest(buf, length, r)
  assert.equal(r.kind, kind)
  return r
}

/** A packet of `length` bytes (at least 12) with the given action word; connect packets get the magic. */
function packet (action: number, length: number, fill = 0): Buffer {
  const b = Buffer.alloc(length, fill)
  if (length >= 8 && action === ACTION_CONNECT) { b.writeUInt32BE(PROTOCOL_ID_HIGH, 0); b.writeUInt32BE(PROTOCOL_ID_LOW, 4) }
  if (length >= 12) b.writeUInt32BE(action, 8)
  return b
}

describe('UDP golden packets', () => {
  it('connect request', () => {
    const out = Buffer.alloc(16)
    assert.equal(writeConnectRequest(out, 0, 0x12345678), 16)
    assert.deepEqual(out, hex('00000417 27101980 00000000 12345678'))
    const r = decode(out)
    assert.equal(r.kind, UDP_CONNECT)
    assert.equal(r.transactionId, 0x12345678)
    assert.equal(r.connectionIdHigh, 0x417)
    assert.equal(r.connectionIdLow, 0x27101980)
  })
  it('connect with extra bytes is still a connect', () => {
    assert.equal(decode(Buffer.concat([hex('00000417 27101980 00000000 ffffffff'), Buffer.alloc(20, 9)])).kind, UDP_CONNECT)
  })
  it('connect reply', () => {
    const out = Buffer.alloc(20, 0xee)
    assert.equal(writeConnectReply(out, 2, 0xcafebabe, 0xdeadbeef, 0x01020304), 18)
    assert.deepEqual(out, hex('eeee 00000000 cafebabe deadbeef 01020304 eeee'))
  })
  const ANNOUNCE = hex(
    'deadbeef 01020304' + // connection id
    '00000001 a1b2c3d4' + // action, txid
    '0102030405060708090a0b0c0d0e0f1011121314' + // info_hash
    '2d5452333030302d6162636465666768696a6b6c' + // peer_id "-TR3000-abcdefghijkl"
    '0000000000000010' + // downloaded
    '0000000100000000' + // left = 2^32
    '0000000000000020' + // uploaded
    '00000002' + // event started
    'c0a80001' + // ip
    '0badf00d' + // key
    'ffffffff' + // num_want
    '1ae1') // port 6881
  it('a 98-byte announce decodes', () => {
    assert.equal(ANNOUNCE.length, 98)
    const r = decode(ANNOUNCE)
    assert.equal(r.kind, UDP_ANNOUNCE)
    assert.equal(r.connectionIdHigh, 0xdeadbeef)
    assert.equal(r.connectionIdLow, 0x01020304)
    assert.equal(r.transactionId, 0xa1b2c3d4)
    assert.deepEqual(ANNOUNCE.subarray(r.infoHashOffset, r.infoHashOffset + 20), hex('0102030405060708090a0b0c0d0e0f1011121314'))
    assert.equal(ANNOUNCE.toString('latin1', r.peerIdOffset, r.peerIdOffset + 20), '-TR3000-abcdefghijkl')
    assert.equal(r.leftIsZero, false)
    assert.equal(r.event, UDP_EVENT_STARTED)
    assert.equal(r.key, 0x0badf00d)
    assert.equal(r.numWant, 0xffffffff)
    assert.equal(r.port, 6881)
  })
  it('writeAnnounceRequest produces the same 98 bytes', () => {
    const out = Buffer.alloc(100, 0xee)
    const end = writeAnnounceRequest(out, 1, {
      connectionIdHigh: 0xdeadbeef,
      connectionIdLow: 0x01020304,
      transactionId: 0xa1b2c3d4,
      infoHash: hex('0102030405060708090a0b0c0d0e0f1011121314'),
      peerId: Buffer.from('-TR3000-abcdefghijkl'),
      downloaded: 16,
      left: 2 ** 32,
      uploaded: 32,
      event: UDP_EVENT_STARTED,
      ip: 0xc0a80001,
      key: 0x0badf00d,
      numWant: -1,
      port: 6881
    })
    assert.equal(end, 99)
    assert.deepEqual(out.subarray(1, 99), ANNOUNCE)
    assert.equal(out[0], 0xee)
    assert.equal(out[99], 0xee)
  })
  it('announce defaults: downloaded/uploaded/event/ip/key 0, num_want -1', () => {
    const out = Buffer.alloc(98)
    writeAnnounceRequest(out, 0, { connectionIdHigh: 1, connectionIdLow: 2, transactionId: 3, infoHash: Buffer.alloc(20, 1), peerId: Buffer.alloc(20, 2), left: 0, port: 1 })
    assert.deepEqual(out.subarray(56, 96), hex('0000000000000000 0000000000000000 0000000000000000 00000000 00000000 00000000 ffffffff'))
    const r = decode(out)
    assert.equal(r.leftIsZero, true)
    assert.equal(r.event, UDP_EVENT_NONE)
    assert.equal(r.numWant, 0xffffffff)
  })
  it('a longer announce (BEP 41 options) is fine; 97 bytes is dropped', () => {
    const long = Buffer.concat([ANNOUNCE, hex('0208 2f616e6e6f756e6365 00 00 00 00 00 00 00 00 00 00 00 00 00')])
    assert.equal(decode(long).kind, UDP_ANNOUNCE)
    assert.equal(decode(ANNOUNCE.subarray(0, 97)).kind, UDP_DROP)
    assert.equal(decode(ANNOUNCE, 97).kind, UDP_DROP)
  })
  it('a scrape request', () => {
    const hashes = Buffer.concat([Buffer.alloc(20, 0xaa), Buffer.alloc(20, 0xbb)])
    const out = Buffer.alloc(56)
    assert.equal(writeScrapeRequest(out, 0, 0x11111111, 0x22222222, 0x33333333, hashes), 56)
    assert.deepEqual(out, Buffer.concat([hex('11111111 22222222 00000002 33333333'), hashes]))
    const r = decode(out)
    assert.equal(r.kind, UDP_SCRAPE)
    assert.equal(r.scrapeCount, 2)
    assert.equal(r.infoHashOffset, 16)
    assert.equal(r.transactionId, 0x33333333)
    assert.equal(r.connectionIdHigh, 0x11111111)
    assert.equal(r.connectionIdLow, 0x22222222)
  })
  it('announce reply head', () => {
    const out = Buffer.alloc(20)
    assert.equal(writeAnnounceReplyHead(out, 0, 0xa1b2c3d4, 1800, 5, 7), 20)
    assert.deepEqual(out, hex('00000001 a1b2c3d4 00000708 00000005 00000007'))
    writeAnnounceReplyHead(out, 0, 1, 1, 2 ** 40, 2 ** 33)
    assert.deepEqual(out.subarray(12), hex('ffffffff ffffffff'))
  })
  it('scrape reply', () => {
    const out = Buffer.alloc(32)
    let o = writeScrapeReplyHead(out, 0, 0x01020304)
    o = writeScrapeReplyEntry(out, o, 1, 2, 3)
    o = writeScrapeReplyEntry(out, o, 2 ** 40, 0xffffffff, 0)
    assert.equal(o, 32)
    assert.deepEqual(out, hex('00000002 01020304 00000001 00000002 00000003 ffffffff ffffffff 00000000'))
  })
  it('connection id mismatch error reply is 33 bytes', () => {
    const out = Buffer.alloc(40)
    const end = writeErrorReply(out, 0, 0x99887766, ERROR_CONNECTION_ID)
    assert.equal(end, 33)
    assert.deepEqual(out.subarray(0, 33), Buffer.concat([hex('00000003 99887766'), Buffer.from('Connection ID missmatch.\0', 'latin1')]))
  })
})

describe('UDP decode rules', () => {
  it('below 16 bytes → drop, for every action', () => {
    for (let action = 0; action <= 4; action++) {
      for (let len = 0; len < 16; len++) assert.equal(decode(packet(action, 16), len).kind, UDP_DROP)
      for (let len = 12; len < 16; len++) assert.equal(decode(packet(action, len)).kind, UDP_DROP)
    }
  })
  it('a length beyond the buffer → drop', () => {
    assert.equal(decode(packet(ACTION_CONNECT, 16), 17).kind, UDP_DROP)
    assert.equal(decode(packet(ACTION_SCRAPE, 36), 37).kind, UDP_DROP)
  })
  it('connect needs the magic', () => {
    assert.equal(decode(packet(ACTION_CONNECT, 16)).kind, UDP_CONNECT)
    const b = packet(ACTION_CONNECT, 16)
    for (let i = 0; i < 8; i++) {
      const c = Buffer.from(b)
      c[i] = c[i]! ^ 0x01
      assert.equal(decode(c).kind, UDP_DROP, `byte ${i} flipped`)
    }
    assert.equal(decode(packet(ACTION_SCRAPE, 16)).kind, UDP_SCRAPE) // magic not needed elsewhere
  })
  it('announce below 98 bytes → drop', () => {
    for (let len = 16; len < ANNOUNCE_REQUEST_BYTES; len++) assert.equal(decode(packet(ACTION_ANNOUNCE, len)).kind, UDP_DROP)
    assert.equal(decode(packet(ACTION_ANNOUNCE, 98)).kind, UDP_ANNOUNCE)
  })
  it('action > 2 → drop', () => {
    for (const action of [3, 4, 9, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff]) {
      assert.equal(decode(packet(action, 120)).kind, UDP_DROP, `action ${action}`)
    }
  })
  it('event codes: 0..3 kept, anything else none', () => {
    for (const [word, ev] of [[0, UDP_EVENT_NONE], [1, UDP_EVENT_COMPLETED], [2, UDP_EVENT_STARTED], [3, UDP_EVENT_STOPPED],
      [4, UDP_EVENT_NONE], [0xffffffff, UDP_EVENT_NONE], [0x100, UDP_EVENT_NONE]] as const) {
      const b = packet(ACTION_ANNOUNCE, 98)
      b.writeUInt32BE(word, 80)
      assert.equal(decode(b).event, ev, `event word ${word}`)
    }
  })
  it('left: seeder only if all 64 bits are zero', () => {
    for (const [hi, lo, zero] of [[0, 0, true], [0, 1, false], [1, 0, false], [0x80000000, 0, false], [0xffffffff, 0xffffffff, false]] as const) {
      const b = packet(ACTION_ANNOUNCE, 98)
      b.writeUInt32BE(hi, 64)
      b.writeUInt32BE(lo, 68)
      assert.equal(decode(b).leftIsZero, zero, `left ${hi}:${lo}`)
    }
  })
  it('scrape counts only complete 20-byte hashes, at most 75', () => {
    const count = (len: number): number => decode(packet(ACTION_SCRAPE, len)).scrapeCount
    assert.equal(count(16), 0)
    assert.equal(count(35), 0)
    assert.equal(count(36), 1)
    assert.equal(count(37), 1)
    assert.equal(count(16 + 2 * 20 + 19), 2)
    assert.equal(count(16 + 74 * 20), 74)
    assert.equal(count(16 + 75 * 20), 75)
    assert.equal(count(16 + 75 * 20 + 19), 75)
    assert.equal(count(16 + 76 * 20), 75)
    assert.equal(count(16 + 80 * 20), 75)
    assert.equal(count(8192), UDP_SCRAPE_MAX_HASHES)
    for (let len = 16; len < 16 + 80 * 20; len++) assert.equal(count(len), Math.min(75, Math.floor((len - 16) / 20)))
  })
  it('scrape with 80 hashes → 75 (a 908-byte reply)', () => {
    const hashes = Buffer.alloc(80 * 20, 0x5a)
    const out = Buffer.alloc(16 + hashes.length)
    writeScrapeRequest(out, 0, 1, 2, 3, hashes)
    const r = decode(out)
    assert.equal(r.kind, UDP_SCRAPE)
    assert.equal(r.scrapeCount, 75)
    assert.equal(8 + r.scrapeCount * 12, 908)
  })
  it('decoding into a reused UdpRequest: a drop after an announce reports drop', () => {
    const r = new UdpRequest()
    assert.equal(decodeUdpRequest(packet(ACTION_ANNOUNCE, 98), 98, r), UDP_ANNOUNCE)
    assert.equal(decodeUdpRequest(packet(ACTION_ANNOUNCE, 97), 97, r), UDP_DROP)
    assert.equal(r.kind, UDP_DROP)
    assert.equal(decodeUdpRequest(packet(ACTION_SCRAPE, 56), 56, r), UDP_SCRAPE)
    assert.equal(r.scrapeCount, 2)
    assert.equal(decodeUdpRequest(packet(ACTION_SCRAPE, 20), 20, r), UDP_SCRAPE)
    assert.equal(r.scrapeCount, 0)
  })
})

describe('UDP properties', () => {
  it('decode(encode(announce)) round-trips', () => {
    const rng = mulberry32(0xbeef)
    const out = Buffer.alloc(128)
    const lefts = [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1]
    for (let k = 0; k < 5000; k++) {
      const left = rng() < 0.5 ? pick(rng, lefts) : Math.floor(rng() * 2 ** int(rng, 0, 53))
      const numWant = pick(rng, [0, 1, 50, 200, 0xffffffff, -1, u32(rng)])
      const f: AnnounceRequestFields = {
        connectionIdHigh: u32(rng),
        connectionIdLow: u32(rng),
        transactionId: u32(rng),
        infoHash: randomBytes(rng, 20),
        peerId: randomBytes(rng, 20),
        downloaded: Math.floor(rng() * 2 ** 53),
        left,
        uploaded: Math.floor(rng() * 2 ** 53),
        event: int(rng, 0, 3),
        ip: u32(rng),
        key: u32(rng),
        numWant,
        port: pick(rng, [0, 1, 6881, 65535, int(rng, 0, 65535)])
      }
      const off = int(rng, 0, 30)
      const end = writeAnnounceRequest(out, off, f)
      assert.equal(end - off, 98)
      const pkt = out.subarray(off, end)
      const r = decode(pkt)
      assert.equal(r.kind, UDP_ANNOUNCE)
      assert.equal(r.connectionIdHigh, f.connectionIdHigh)
      assert.equal(r.connectionIdLow, f.connectionIdLow)
      assert.equal(r.transactionId, f.transactionId)
      assert.deepEqual(pkt.subarray(r.infoHashOffset, r.infoHashOffset + 20), f.infoHash)
      assert.deepEqual(pkt.subarray(r.peerIdOffset, r.peerIdOffset + 20), f.peerId)
      assert.equal(r.leftIsZero, left === 0, `left ${left}`)
      assert.equal(pkt.readBigUInt64BE(64), BigInt(left))
      assert.equal(pkt.readBigUInt64BE(56), BigInt(f.downloaded!))
      assert.equal(r.event, f.event)
      assert.equal(r.key, f.key)
      assert.equal(r.numWant, numWant >>> 0)
      assert.equal(r.port, f.port)
    }
  })
  it('scrape requests round-trip their count', () => {
    const rng = mulberry32(3)
    for (let k = 0; k < 500; k++) {
      const n = int(rng, 0, 100)
      const hashes = randomBytes(rng, n * 20)
      const out = Buffer.alloc(16 + n * 20 + 19)
      const end = writeScrapeRequest(out, 0, u32(rng), u32(rng), u32(rng), hashes)
      const partial = int(rng, 0, 19)
      const r = decode(out, end + partial)
      assert.equal(r.kind, UDP_SCRAPE)
      assert.equal(r.scrapeCount, Math.min(n, 75))
      assert.deepEqual(out.subarray(16, 16 + r.scrapeCount * 20), hashes.subarray(0, r.scrapeCount * 20))
    }
  })
  it('never throws: every action 0..4 × every length 0..255', () => {
    const rng = mulberry32(11)
    const r = new UdpRequest()
    for (let action = 0; action <= 4; action++) {
      for (let len = 0; len <= 255; len++) {
        for (const magic of [true, false]) {
          const b = randomBytes(rng, len)
          if (len >= 12) b.writeUInt32BE(action, 8)
          if (magic && len >= 8) { b.writeUInt32BE(PROTOCOL_ID_HIGH, 0); b.writeUInt32BE(PROTOCOL_ID_LOW, 4) }
          const kind = decodeUdpRequest(b, len, r)
          assert.ok(KINDS.includes(kind))
          const min = action === ACTION_ANNOUNCE ? 98 : 16
          if (len < min || action > 2) assert.equal(kind, UDP_DROP, `action ${action} len ${len}`)
          else if (action === ACTION_CONNECT) assert.equal(kind, magic ? UDP_CONNECT : UDP_DROP)
          else assert.equal(kind, action === ACTION_ANNOUNCE ? UDP_ANNOUNCE : UDP_SCRAPE)
          if (kind === UDP_SCRAPE) assert.equal(r.scrapeCount, Math.min(75, Math.floor((len - 16) / 20)))
          // a length larger than the buffer is never read past
          assert.equal(decodeUdpRequest(b, len + 1, r), UDP_DROP)
        }
      }
    }
  })
  it('never throws on thousands of random buffers', () => {
    const rng = mulberry32(12)
    const r = new UdpRequest()
    for (let k = 0; k < 20000; k++) {
      const size = int(rng, 0, rng() < 0.1 ? 2000 : 200)
      const b = randomBytes(rng, size)
      if (size >= 12 && rng() < 0.7) b.writeUInt32BE(int(rng, 0, 4), 8)
      const len = rng() < 0.8 ? size : int(rng, 0, size + 5)
      const kind = decodeUdpRequest(b, len, r)
      assert.ok(KINDS.includes(kind))
      assert.equal(r.kind, kind)
      if (kind === UDP_SCRAPE) assert.ok(r.scrapeCount >= 0 && r.scrapeCount <= 75)
    }
  })
})
