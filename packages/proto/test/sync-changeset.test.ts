import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  CHANGESET_RECORD4_BYTES, CHANGESET_RECORD6_BYTES, SYNC_FLAG_COMPLETED, SYNC_FLAG_SEEDING, SYNC_FLAG_STOPPED,
  type ChangesetEntry, decodeBencode, decodeChangeset, decodeChangesets, encodeChangeset, writeChangesetEnd,
  writeChangesetRecord4, writeChangesetRecord6, writeChangesetSection6, writeChangesetStart, writeChangesetTorrent
} from '../src/index.js'
import { int, mulberry32, pick, randomBytes, randomFrom } from './prng.js'
import type { Rng } from './prng.js'
import { decodedRecords, expectedRecords } from './changeset-maps.js'

const H1 = Buffer.alloc(20, 0x11)
const H2 = Buffer.alloc(20, 0x22)

function rec4 (ip: string, port: number, flags: number, age = 0): Buffer {
  const b = Buffer.alloc(8)
  const parts = ip.split('.').map(Number)
  writeChangesetRecord4(b, 0, ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0, port, flags, age)
  return b
}

function rec6 (words: number[], port: number, flags: number, age = 0): Buffer {
  const b = Buffer.alloc(20)
  writeChangesetRecord6(b, 0, words, port, flags, age)
  return b
}

function latin1 (s: string): Buffer {
  return Buffer.from(s, 'latin1')
}

/** What a decoded changeset says, as plain values. */
function summary (buf: Buffer, offset = 0): Array<{ hash: string, family: number, records: string[] }> {
  const r = decodeChangeset(buf, offset)
  assert.ok(r.ok, r.ok ? '' : r.error)
  return r.torrents.map((t) => {
    const size = t.family === 4 ? 8 : 20
    const records: string[] = []
    for (let i = 0; i < t.count; i++) records.push(buf.toString('hex', t.recordsOffset + i * size, t.recordsOffset + (i + 1) * size))
    return { hash: buf.toString('hex', t.hashOffset, t.hashOffset + 20), family: t.family, records }
  })
}

describe('changeset: opentracker format (reference §10.1)', () => {
  it('the empty changeset is d4:syncdee', () => {
    const b = encodeChangeset([])
    assert.equal(b.toString('latin1'), 'd4:syncdee')
    const r = decodeChangeset(b)
    assert.ok(r.ok)
    assert.equal(r.torrents.length, 0)
    assert.equal(r.end, 10)
  })

  it('a golden IPv4 changeset decodes to its records: 4 ip, 2 port, flags byte, age byte', () => {
    const golden = Buffer.concat([latin1('d4:syncd20:'), H1, latin1('16:'),
      Buffer.from('0a000001' + '1ae1' + '80' + '00', 'hex'), // 10.0.0.1:6881 seeding, 0 min
      Buffer.from('c0a80102' + '0050' + '20' + '03', 'hex'), // 192.168.1.2:80 stopped, 3 min
      latin1('ee')])
    const r = decodeChangeset(golden)
    assert.ok(r.ok, r.ok ? '' : r.error)
    assert.equal(r.peers, 2)
    assert.deepEqual(r.torrents, [{ family: 4, hashOffset: 11, recordsOffset: 34, count: 2 }])
    assert.equal(golden.readUInt32BE(34), 0x0a000001)
    assert.equal(golden.readUInt16BE(38), 6881)
    assert.equal(golden[40], SYNC_FLAG_SEEDING)
    assert.equal(golden[49], 3)
    assert.equal(r.end, golden.length)
    // What the encoder produces for the same peers, byte for byte.
    assert.deepEqual(encodeChangeset([{ infoHash: H1, family: 4, records: Buffer.concat([rec4('10.0.0.1', 6881, 0x80), rec4('192.168.1.2', 80, 0x20, 3)]) }]), golden)
  })

  it('is valid bencode that a generic decoder reads (sorted keys)', () => {
    const b = encodeChangeset([
      { infoHash: H2, family: 4, records: rec4('1.2.3.4', 1, 0) },
      { infoHash: H1, family: 4, records: rec4('1.2.3.5', 2, 0) },
      { infoHash: H1, family: 6, records: rec6([0x20010db8, 0, 0, 1], 3, SYNC_FLAG_SEEDING) }
    ])
    const r = decodeBencode(b)
    assert.ok(r.ok)
    assert.deepEqual(Object.keys(r.value as object), ['sync', 'sync6'])
    assert.deepEqual(summary(b).map((t) => [t.hash.slice(0, 2), t.family]), [['11', 4], ['22', 4], ['11', 6]])
  })
})

describe('changeset: IPv6 extension (sync6)', () => {
  it('round-trips IPv6 records of 16 ip + 2 port + flags + age bytes', () => {
    const records = Buffer.concat([rec6([0x20010db8, 1, 2, 3], 6881, SYNC_FLAG_SEEDING | SYNC_FLAG_COMPLETED, 7), rec6([0xfe800000, 0, 0, 9], 1, 0, 255)])
    const b = encodeChangeset([{ infoHash: H2, family: 6, records }])
    assert.match(b.toString('latin1'), /^d4:syncde5:sync6d20:/)
    const s = summary(b)
    assert.deepEqual(s, [{ hash: H2.toString('hex'), family: 6, records: [records.toString('hex', 0, 20), records.toString('hex', 20, 40)] }])
  })

  it('the age byte saturates at 255 and clamps negatives to 0', () => {
    assert.equal(rec4('1.1.1.1', 1, 0, 1000)[7], 255)
    assert.equal(rec4('1.1.1.1', 1, 0, -3)[7], 0)
    assert.equal(rec6([1, 2, 3, 4], 1, 0, 300)[19], 255)
  })
})

describe('changeset: strict validation, with a reason and no partial result', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', latin1(''), /at least 10 bytes/],
    ['too short', latin1('d4:syncde'), /at least 10 bytes/],
    ['wrong start', latin1('d4:synxdee'), /starts with "d4:syncd"/],
    ['a list instead of a dictionary', latin1('d4:syncleee'), /starts with "d4:syncd"/],
    ['unterminated', Buffer.concat([latin1('d4:syncd20:'), H1, latin1('8:'), rec4('1.1.1.1', 1, 0)]), /not terminated/],
    ['missing outer e', latin1('d4:syncde'+ 'x'), /only "sync" and "sync6"/],
    ['hash of 19 bytes', Buffer.concat([latin1('d4:syncd19:'), H1.subarray(1), latin1('8:'), rec4('1.1.1.1', 1, 0), latin1('ee')]), /not a 20-byte info_hash/],
    ['peer string of 7 bytes', Buffer.concat([latin1('d4:syncd20:'), H1, latin1('7:'), rec4('1.1.1.1', 1, 0).subarray(1), latin1('ee')]), /not a non-zero multiple of 8/],
    ['empty peer string', Buffer.concat([latin1('d4:syncd20:'), H1, latin1('0:ee')]), /not a non-zero multiple of 8/],
    ['peer string past the end', Buffer.concat([latin1('d4:syncd20:'), H1, latin1('16:'), rec4('1.1.1.1', 1, 0), latin1('ee')]), /runs past the end/],
    ['hash past the end', Buffer.concat([latin1('d4:syncd20:'), H1.subarray(0, 12)]), /runs past the end/],
    ['leading zero length', Buffer.concat([latin1('d4:syncd020:'), H1, latin1('8:'), rec4('1.1.1.1', 1, 0), latin1('ee')]), /expected an info_hash key/],
    ['integer value', Buffer.concat([latin1('d4:syncd20:'), H1, latin1('i8eee')]), /expected a peer string/],
    ['duplicate hash', Buffer.concat([latin1('d4:syncd20:'), H1, latin1('8:'), rec4('1.1.1.1', 1, 0), latin1('20:'), H1, latin1('8:'), rec4('1.1.1.2', 1, 0), latin1('ee')]), /appears twice/],
    ['unknown top-level key', latin1('d4:syncde3:fooi1ee'), /only "sync" and "sync6"/],
    ['sync6 with 8-byte records', Buffer.concat([latin1('d4:syncde5:sync6d20:'), H1, latin1('8:'), rec4('1.1.1.1', 1, 0), latin1('ee')]), /multiple of 20/],
    ['huge length', latin1('d4:syncd99999999999999999:ee'), /expected an info_hash key/]
  ]
  for (const [name, input, reason] of cases) {
    it(`rejects ${name}`, () => {
      const r = decodeChangeset(input)
      assert.equal(r.ok, false)
      if (!r.ok) assert.match(r.error, reason)
    })
  }

  it('decodes one changeset and reports where it ends, leaving trailing bytes to the caller', () => {
    const one = encodeChangeset([{ infoHash: H1, family: 4, records: rec4('1.1.1.1', 1, 0) }])
    const r = decodeChangeset(Buffer.concat([one, latin1('junk')]))
    assert.ok(r.ok)
    assert.equal(r.end, one.length)
  })
})

describe('decodeChangesets: concatenated changesets (a POST /sync body)', () => {
  it('reads several, with optional whitespace between them', () => {
    const a = encodeChangeset([{ infoHash: H1, family: 4, records: rec4('1.1.1.1', 1, 0) }])
    const b = encodeChangeset([{ infoHash: H2, family: 4, records: Buffer.concat([rec4('1.1.1.2', 1, 0), rec4('1.1.1.3', 1, 0)]) }])
    const r = decodeChangesets(Buffer.concat([a, latin1('\r\n'), b, latin1('\n')]))
    assert.ok(r.ok)
    assert.equal(r.changesets.length, 2)
    assert.equal(r.peers, 3)
  })

  it('is all or nothing: one bad changeset rejects the input and is named', () => {
    const a = encodeChangeset([{ infoHash: H1, family: 4, records: rec4('1.1.1.1', 1, 0) }])
    const r = decodeChangesets(Buffer.concat([a, a, latin1('d4:syncd3:abcee')]))
    assert.equal(r.ok, false)
    if (!r.ok) assert.match(r.error, /^changeset 3: /)
    const none = decodeChangesets(latin1('  \n'))
    assert.equal(none.ok, false)
  })
})

describe('writers', () => {
  it('writeChangesetTorrent takes the hash as bytes or as the store key string', () => {
    const out = Buffer.alloc(200)
    const records = rec4('9.9.9.9', 9, SYNC_FLAG_STOPPED)
    let o = writeChangesetStart(out, 0)
    o = writeChangesetTorrent(out, o, H1.toString('latin1'), 0, records, 0, 8)
    o = writeChangesetSection6(out, o)
    o = writeChangesetTorrent(out, o, Buffer.concat([Buffer.alloc(3), H2]), 3, rec6([1, 2, 3, 4], 5, 0), 0, 20)
    o = writeChangesetEnd(out, o)
    const s = summary(out.subarray(0, o))
    assert.deepEqual(s.map((t) => [t.hash, t.family, t.records.length]), [[H1.toString('hex'), 4, 1], [H2.toString('hex'), 6, 1]])
  })
})

function randomEntries (rng: Rng): ChangesetEntry[] {
  const out: ChangesetEntry[] = []
  const n = int(rng, 0, 6)
  for (let i = 0; i < n; i++) {
    const family = pick(rng, [4, 6] as const)
    const size = family === 4 ? CHANGESET_RECORD4_BYTES : CHANGESET_RECORD6_BYTES
    out.push({ infoHash: randomBytes(rng, 20), family, records: randomBytes(rng, size * int(rng, 1, 5)) })
  }
  return out
}

describe('changeset properties (seeded)', () => {
  it('decode(encode(x)) gives back every record, grouped by hash and family', () => {
    const rng = mulberry32(0x5ca1ab1e)
    for (let iter = 0; iter < 500; iter++) {
      const entries = randomEntries(rng)
      const b = encodeChangeset(entries)
      const r = decodeChangeset(b)
      assert.ok(r.ok, r.ok ? '' : r.error)
      assert.equal(r.end, b.length)
      assert.deepEqual(decodedRecords(b, r.torrents), expectedRecords(entries))
      assert.ok(decodeBencode(b).ok)
    }
  })

  it('never throws on random or changeset-shaped bytes, and anything accepted re-encodes', () => {
    const rng = mulberry32(0xdecade)
    const alphabet = 'd4:syncde5:sync6d20:8:16:0123456789e'
    for (let iter = 0; iter < 5000; iter++) {
      let b: Buffer
      const kind = iter % 3
      if (kind === 0) b = randomBytes(rng, int(rng, 0, 80))
      else if (kind === 1) b = randomFrom(rng, int(rng, 0, 120), alphabet)
      else {
        b = Buffer.from(encodeChangeset(randomEntries(rng)))
        const flips = int(rng, 1, 3)
        for (let k = 0; k < flips && b.length > 0; k++) b[int(rng, 0, b.length - 1)] = int(rng, 0, 255)
        if (rng() < 0.3) b = b.subarray(0, int(rng, 0, b.length))
      }
      const r = decodeChangeset(b)
      const rs = decodeChangesets(b)
      if (r.ok) {
        assert.ok(r.end <= b.length)
        for (const t of r.torrents) {
          const size = t.family === 4 ? 8 : 20
          assert.ok(t.recordsOffset + t.count * size <= b.length)
          assert.ok(t.count > 0)
        }
      }
      if (rs.ok) assert.ok(rs.changesets.every((c) => c.end <= b.length))
    }
  })
})
