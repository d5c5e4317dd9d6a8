/**
 * Property tests (fast-check) of the line formats read from files and pipes: the state dump
 * (`-l file`, `/stats?mode=statedump`), the access list (whitelist/blacklist files and FIFOs) and
 * the full-scrape records. Each reader is checked against a reference written with regular
 * expressions over the same lines, on arbitrary, line-shaped and damaged input; each writer's
 * output reads back to what was written.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  FULL_SCRAPE_RECORD_BOUND, SCRAPE_FORMAT_BEN, SCRAPE_FORMAT_BIN, SCRAPE_FORMAT_STATEDUMP, SCRAPE_FORMAT_TXT, SCRAPE_FORMAT_TXTP,
  SCRAPE_FORMAT_URL, STATE_DUMP_LINE_BOUND, STATE_DUMP_VALUE_MAX, accessListLineHash, decodeBencode, formatAccessList,
  fullScrapeHead, fullScrapeTail, parseAccessList, parseHashHex, parseScrapeFormat, parseStateDump, percentDecode,
  writeFullScrapeRecord, writeStateDumpLine
} from '../src/index.js'
import { assertFast, bytes, bytesFrom, fixedBytes, mutated, params, propertySuite } from './fc-harness.js'
import type { Cases } from './fc-harness.js'

const HEX = '0123456789abcdefABCDEF'
const hexString = (n: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...HEX), minLength: n, maxLength: n })

// ---------------------------------------------------------------------------------------------
// State dump.

const STATE_LINE = /^([0-9a-fA-F]{40}):([0-9]{1,15}):([0-9]{1,15})\r?$/

/** Reference reader: the module comment's rules as regular expressions over the lines. */
function refStateDump (b: Buffer): { entries: Array<[string, number, number]>, rejected: number } {
  const entries: Array<[string, number, number]> = []
  let rejected = 0
  for (const line of b.toString('latin1').split('\n')) {
    const m = STATE_LINE.exec(line)
    if (m !== null) entries.push([m[1]!.toLowerCase(), Number(m[2]), Number(m[3])])
    else if (!/^[ \t\n\v\f\r]*$/.test(line)) rejected++
  }
  return { entries, rejected }
}

function checkStateDump (b: Buffer): void {
  const got = parseStateDump(b)
  const want = refStateDump(b)
  assert.equal(got.rejected, want.rejected)
  assert.deepEqual(got.entries.map((e) => [e.hash.toString('hex'), e.baseMinute, e.downloaded]), want.entries)
  for (const e of got.entries) assert.equal(e.hash.length, 20)
}

const stateLine = fc.tuple(hexString(40), fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 17 }),
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 17 }), fc.constantFrom('\n', '\r\n', '\n\n', ' \n', '\r\r\n'))
  .map(([h, a, d, eol]) => `${h}:${a}:${d}${eol}`)
const stateDumpText = fc.array(fc.oneof({ weight: 8, arbitrary: stateLine }, { weight: 1, arbitrary: fc.constantFrom('\n', '  \t\n', '#x\n', 'garbage\n') }),
  { maxLength: 20, size: 'medium' }).map((l) => Buffer.from(l.join(''), 'latin1'))

// ---------------------------------------------------------------------------------------------
// Access list.

const isHex = (c: string | undefined): boolean => c !== undefined && /[0-9a-fA-F]/.test(c)

/** Reference reader of an access list (module comment of access-list.ts). */
function refAccessList (b: Buffer): { hashes: string[], rejected: number, firstRejectedLine: number } {
  const set = new Set<string>()
  let rejected = 0
  let first = 0
  const lines = b.toString('latin1').split('\n')
  if (lines[lines.length - 1] === '') lines.pop() // the newline ending the last line
  lines.forEach((line, k) => {
    if (line.length >= 40 && /^[0-9a-fA-F]{40}/.test(line) && !isHex(line[40])) { set.add(line.slice(0, 40).toLowerCase()); return }
    if (/^[ \t\n\v\f\r]*(#|$)/.test(line)) return
    if (rejected++ === 0) first = k + 1
  })
  return { hashes: [...set].sort(), rejected, firstRejectedLine: first }
}

function checkAccessList (b: Buffer): void {
  const got = parseAccessList(b)
  const want = refAccessList(b)
  assert.equal(got.count, want.hashes.length)
  assert.equal(got.hashes.length, got.count * 20)
  const hexes: string[] = []
  for (let k = 0; k < got.count; k++) hexes.push(got.hashes.toString('hex', k * 20, k * 20 + 20))
  assert.deepEqual(hexes, want.hashes)
  assert.equal(got.rejected, want.rejected)
  assert.equal(got.firstRejectedLine, want.firstRejectedLine)
}

const accessLine = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(hexString(40), fc.constantFrom('', '\r', ' comment', '\t#x', 'g', 'a', '0123')).map(([h, t]) => h + t) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '# comment', '  # indented', ' ' + 'a'.repeat(40), 'a'.repeat(39), 'a'.repeat(80), 'x') }
)
const accessListText = fc.tuple(fc.array(accessLine, { maxLength: 30, size: 'medium' }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, eol, last]) => Buffer.from(lines.join(eol) + (last ? eol : ''), 'latin1'))

// ---------------------------------------------------------------------------------------------

const count = fc.oneof(fc.integer({ min: 0, max: 99 }), fc.maxSafeNat(), fc.constantFrom(0xffffffff, 0x100000000, 2 ** 53 - 1))

export const cases: Cases = {
  'parseStateDump agrees with a regex reference on arbitrary, line-shaped and damaged dumps': () => {
    fc.assert(fc.property(fc.oneof(bytes(300), bytesFrom('0123456789abcdefABCDEF:\r\n \t', 300), stateDumpText, mutated(stateDumpText)), checkStateDump), params(4000))
  },

  'writeStateDumpLine: any values (clamped) read back with parseStateDump, within the line bound': () => {
    const value = fc.oneof(fc.maxSafeNat(), fc.double(), fc.constantFrom(-1, NaN, Infinity, -Infinity, 1e300, 0.5, STATE_DUMP_VALUE_MAX, STATE_DUMP_VALUE_MAX + 1))
    const clamp = (n: number): number => !(n > 0) ? 0 : n >= STATE_DUMP_VALUE_MAX ? STATE_DUMP_VALUE_MAX : Math.floor(n)
    fc.assert(fc.property(fc.array(fc.tuple(fixedBytes(20), value, value), { maxLength: 20, size: 'medium' }), fc.boolean(), (rows, crlf) => {
      const out = Buffer.alloc(rows.length * (STATE_DUMP_LINE_BOUND + 1))
      let o = 0
      for (const [h, base, d] of rows) {
        const before = o
        o = writeStateDumpLine(out, o, h, 0, base, d)
        assert.ok(o - before <= STATE_DUMP_LINE_BOUND)
        if (crlf) { out.copy(out, o, o - 1, o); out[o - 1] = 13; o++ }
      }
      const r = parseStateDump(out.subarray(0, o))
      assert.equal(r.rejected, 0)
      assert.deepEqual(r.entries.map((e) => [e.hash.toString('hex'), e.baseMinute, e.downloaded]),
        rows.map(([h, base, d]) => [h.toString('hex'), clamp(base), clamp(d)]))
    }), params(1500))
  },

  'parseAccessList agrees with a regex reference on arbitrary, line-shaped and damaged lists': () => {
    fc.assert(fc.property(fc.oneof(bytes(300), bytesFrom('0123456789abcdefABCDEF# \r\n\tg', 300), accessListText, mutated(accessListText)), checkAccessList), params(4000))
  },

  'formatAccessList / parseAccessList round-trip, decorated or not; accessListLineHash agrees line by line': () => {
    fc.assert(fc.property(fc.array(fixedBytes(20), { maxLength: 40, size: 'medium' }), (hashes) => {
      const packed = Buffer.concat(hashes)
      const text = formatAccessList(packed, hashes.length)
      const r = parseAccessList(Buffer.from(text, 'latin1'))
      const want = [...new Set(hashes.map((h) => h.toString('hex')))].sort()
      assert.deepEqual(Array.from({ length: r.count }, (_, k) => r.hashes.toString('hex', k * 20, k * 20 + 20)), want)
      assert.equal(r.rejected, 0)
      // formatting what was parsed gives the canonical text back
      assert.equal(formatAccessList(r.hashes, r.count), want.map((h) => h + '\n').join(''))
    }), params(1000))
    fc.assert(fc.property(accessLine, (line) => {
      const viaFile = parseAccessList(Buffer.from(line, 'latin1'))
      const h = accessListLineHash(line)
      assert.equal(h === null ? 0 : 1, viaFile.count)
      if (h !== null) assert.ok(h.equals(viaFile.hashes))
    }), params(2000))
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 50 }), hexString(40), hexString(41), bytes(45).map((b) => b.toString('latin1'))), (s) => {
      const h = parseHashHex(s)
      assert.equal(h !== null, /^[0-9a-fA-F]{40}$/.test(s))
      if (h !== null) assert.equal(h.toString('hex'), s.toLowerCase())
      accessListLineHash(s)
    }), params(2000))
    fc.assert(fc.property(bytes(100), fc.oneof(fc.integer({ min: -5, max: 10 }), fc.constantFrom(NaN, Infinity, 2.5, 1e9)), (b, n) => {
      const text = formatAccessList(b, n)
      assert.equal(text.length % 41, 0)
    }), params(500))
  },

  'state dump and access list readers are linear on MiBs of adversarial input': () => {
    const n = 2 << 20
    const inputs: Buffer[] = [
      Buffer.alloc(n, 'a'), Buffer.alloc(n, '\n'), Buffer.alloc(n, ' '), Buffer.from('a'.repeat(40) + ':' + '9'.repeat(n), 'latin1'),
      Buffer.from(('a'.repeat(40) + '\n').repeat(Math.floor(n / 41)), 'latin1'),
      Buffer.from(('A'.repeat(40) + ':1:1\n').repeat(Math.floor(n / 45)), 'latin1')
    ]
    for (const b of inputs) {
      assertFast(`parseStateDump ${JSON.stringify(b.toString('latin1', 0, 12))}...`, 3000, () => { parseStateDump(b) })
      assertFast(`parseAccessList ${JSON.stringify(b.toString('latin1', 0, 12))}...`, 3000, () => { parseAccessList(b) })
    }
  },

  'full-scrape records: every format reads back, within FULL_SCRAPE_RECORD_BOUND; format names': () => {
    fc.assert(fc.property(fc.array(fc.tuple(fixedBytes(20), count, count, count, count), { maxLength: 12 }), (rows) => {
      const parts: Record<number, Buffer[]> = {}
      for (const f of [SCRAPE_FORMAT_BEN, SCRAPE_FORMAT_TXT, SCRAPE_FORMAT_TXTP, SCRAPE_FORMAT_BIN, SCRAPE_FORMAT_URL, SCRAPE_FORMAT_STATEDUMP]) {
        parts[f] = [fullScrapeHead(f)]
        for (const [h, s, l, d, base] of rows) {
          const out = Buffer.alloc(FULL_SCRAPE_RECORD_BOUND + 8, 0xee)
          const end = writeFullScrapeRecord(f, out, 4, h, 0, s, l, d, base)
          assert.ok(end - 4 <= FULL_SCRAPE_RECORD_BOUND && out[3] === 0xee && out[end] === 0xee)
          parts[f]!.push(out.subarray(4, end))
        }
        parts[f]!.push(fullScrapeTail(f))
      }
      const ben = decodeBencode(Buffer.concat(parts[SCRAPE_FORMAT_BEN]!))
      assert.ok(ben.ok)
      assert.equal(Object.keys((ben.value as { files: object }).files).length, new Set(rows.map(([h]) => h.toString('hex'))).size)
      const txt = Buffer.concat(parts[SCRAPE_FORMAT_TXT]!).toString('latin1')
      const txtp = Buffer.concat(parts[SCRAPE_FORMAT_TXTP]!).toString('latin1')
      assert.equal(txt, rows.map(([h, s, l]) => `${h.toString('hex').toUpperCase()}:${s}:${l}\n`).join(''))
      assert.equal(txtp, rows.map(([h, s, l, d]) => `${h.toString('hex').toUpperCase()}:${s}:${l}:${d}\n`).join(''))
      const bin = Buffer.concat(parts[SCRAPE_FORMAT_BIN]!)
      assert.equal(bin.length, rows.length * 28)
      rows.forEach(([h, s, l], k) => {
        assert.ok(bin.subarray(k * 28, k * 28 + 20).equals(h))
        assert.deepEqual([bin.readUInt32BE(k * 28 + 20), bin.readUInt32BE(k * 28 + 24)], [Math.min(s, 0xffffffff), Math.min(l, 0xffffffff)])
      })
      const url = Buffer.concat(parts[SCRAPE_FORMAT_URL]!).toString('latin1').split('\n')
      rows.forEach(([h, s, l], k) => {
        const [enc, ss, ll] = url[k]!.split(':')
        const decoded = Buffer.alloc(20)
        const raw = Buffer.from(enc!, 'latin1')
        assert.equal(percentDecode(raw, 0, raw.length, decoded, 0, 20), 20)
        assert.ok(decoded.equals(h))
        assert.deepEqual([Number(ss), Number(ll)], [s, l])
      })
      const sd = parseStateDump(Buffer.concat(parts[SCRAPE_FORMAT_STATEDUMP]!))
      assert.equal(sd.rejected, 0)
      assert.deepEqual(sd.entries.map((e) => e.hash.toString('hex')), rows.map(([h]) => h.toString('hex')))
    }), params(800))
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('ben', 'txt', 'txtp', 'bin', 'url', 'BEN', 'statedump', 'txt ')), (s) => {
      const f = parseScrapeFormat(s)
      assert.equal(f, ['ben', 'txt', 'txtp', 'bin', 'url'].indexOf(s))
    }), params(1000))
  }
}

propertySuite('state dump, access list and full-scrape formats', import.meta.url, cases)
