import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { STATE_DUMP_LINE_BOUND, STATE_DUMP_VALUE_MAX, parseStateDump, writeStateDumpLine } from '../src/index.js'
import { int, mulberry32, randomBytes, randomFrom } from './prng.js'

const H = '0123456789ABCDEF0123456789ABCDEF01234567'

function parse (text: string): { entries: Array<[string, number, number]>, rejected: number } {
  const r = parseStateDump(Buffer.from(text, 'latin1'))
  for (const e of r.entries) assert.equal(e.hash.length, 20)
  return { entries: r.entries.map((e) => [e.hash.toString('hex').toUpperCase(), e.baseMinute, e.downloaded]), rejected: r.rejected }
}

function line (hash: Buffer, base: number, downloaded: number, hashOff = 0): string {
  const out = Buffer.alloc(STATE_DUMP_LINE_BOUND + 10, 0xee)
  const end = writeStateDumpLine(out, 5, hash, hashOff, base, downloaded)
  assert.ok(end - 5 <= STATE_DUMP_LINE_BOUND)
  assert.equal(out[4], 0xee)
  assert.equal(out[end], 0xee)
  return out.toString('latin1', 5, end)
}

describe('parseStateDump', () => {
  it('parses lines, either case, CRLF, no final newline', () => {
    const r = parse(`${H}:29000000:42\n${H.toLowerCase()}:1:0\r\n${'F'.repeat(40)}:999999999999999:999999999999999`)
    assert.deepEqual(r.entries, [[H, 29000000, 42], [H, 1, 0], ['F'.repeat(40), 999999999999999, 999999999999999]])
    assert.equal(r.rejected, 0)
  })
  it('ignores blank lines and counts garbage without creating torrents', () => {
    const r = parse([
      '',
      '   ',
      '\r',
      `${H}:1:2`,
      `${H.slice(0, 39)}G:1:2`,
      `${H}0:1:2`,
      `${H}::2`,
      `${H}:1:`,
      `${H}:1`,
      `${H}:1:2:3`,
      `${H}:1:2 `,
      ` ${H}:1:2`,
      `${H}:-1:2`,
      `${H}:+1:2`,
      `${H}:1:1e3`,
      `${H}:1234567890123456:2`,
      `${H}:1:1234567890123456`,
      `${H}:1:2\r\r`,
      `${H}\r:1:2`,
      'garbage',
      '#comment',
      '\0'
    ].join('\n') + '\n')
    assert.deepEqual(r.entries, [[H, 1, 2]])
    assert.equal(r.rejected, 18)
  })
  it('handles an empty buffer', () => {
    assert.deepEqual(parseStateDump(Buffer.alloc(0)), { entries: [], rejected: 0 })
  })
  it('accepts leading zeros and 15-digit values', () => {
    assert.deepEqual(parse(`${H}:000:007\n`).entries, [[H, 0, 7]])
    assert.deepEqual(parse(`${H}:${'9'.repeat(15)}:0\n`).entries, [[H, STATE_DUMP_VALUE_MAX, 0]])
  })
  it('keeps duplicates in order (the loader decides)', () => {
    assert.deepEqual(parse(`${H}:1:2\n${H}:3:4\n`).entries, [[H, 1, 2], [H, 3, 4]])
  })
  it('gives each entry its own hash', () => {
    const r = parseStateDump(Buffer.from(`${'A'.repeat(40)}:1:2\n${'B'.repeat(40)}:3:4\n`))
    assert.equal(r.entries[0]!.hash.toString('hex'), 'aa'.repeat(20))
    assert.equal(r.entries[1]!.hash.toString('hex'), 'bb'.repeat(20))
  })
  it('never throws on random bytes (fuzz)', () => {
    const rng = mulberry32(0x5d)
    for (let k = 0; k < 4000; k++) {
      const buf = rng() < 0.6
        ? randomFrom(rng, int(rng, 0, 300), '0123456789ABCDEFabcdef::\n\r ')
        : randomBytes(rng, int(rng, 0, 200))
      const r = parseStateDump(buf)
      const lines = buf.toString('latin1').split('\n').length
      assert.ok(r.entries.length + r.rejected <= lines)
      for (const e of r.entries) {
        assert.equal(e.hash.length, 20)
        assert.ok(Number.isSafeInteger(e.baseMinute) && e.baseMinute >= 0 && e.baseMinute <= STATE_DUMP_VALUE_MAX)
        assert.ok(Number.isSafeInteger(e.downloaded) && e.downloaded >= 0 && e.downloaded <= STATE_DUMP_VALUE_MAX)
      }
    }
  })
  it('parses mutated valid dumps without throwing, never inventing entries', () => {
    const rng = mulberry32(0x5e)
    for (let k = 0; k < 2000; k++) {
      let text = ''
      const n = int(rng, 0, 6)
      for (let j = 0; j < n; j++) text += line(randomBytes(rng, 20), int(rng, 0, 1e9), int(rng, 0, 1e6))
      const buf = Buffer.from(text, 'latin1')
      for (let m = int(rng, 0, 3); m > 0 && buf.length > 0; m--) buf[int(rng, 0, buf.length - 1)] = int(rng, 0, 255)
      const r = parseStateDump(buf)
      assert.ok(r.entries.length + r.rejected <= n + 3)
    }
  })
})

describe('writeStateDumpLine', () => {
  it('writes uppercase hex and decimals', () => {
    const hash = Buffer.from(H, 'hex')
    assert.equal(line(hash, 29000000, 42), `${H}:29000000:42\n`)
    assert.equal(line(hash, 0, 0), `${H}:0:0\n`)
  })
  it('honours hashOff', () => {
    const buf = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(H, 'hex')])
    assert.equal(line(buf, 3, 5, 3), `${H}:3:5\n`)
  })
  it('clamps values so that the line always parses back', () => {
    const hash = Buffer.alloc(20, 0xab)
    const X = 'AB'.repeat(20)
    assert.equal(line(hash, -5, Number.NaN), `${X}:0:0\n`)
    assert.equal(line(hash, 1.9, Infinity), `${X}:1:${STATE_DUMP_VALUE_MAX}\n`)
    assert.equal(line(hash, Number.MAX_SAFE_INTEGER, 2 ** 60), `${X}:${STATE_DUMP_VALUE_MAX}:${STATE_DUMP_VALUE_MAX}\n`)
    assert.equal(line(hash, STATE_DUMP_VALUE_MAX, STATE_DUMP_VALUE_MAX).length, STATE_DUMP_LINE_BOUND)
  })
  it('round-trips random entries', () => {
    const rng = mulberry32(0x51)
    const out = Buffer.alloc(500 * STATE_DUMP_LINE_BOUND)
    const want: Array<[string, number, number]> = []
    let off = 0
    for (let k = 0; k < 500; k++) {
      const hash = randomBytes(rng, 20)
      const base = rng() < 0.1 ? STATE_DUMP_VALUE_MAX : int(rng, 0, 3e7)
      const downloaded = rng() < 0.1 ? int(rng, 0, STATE_DUMP_VALUE_MAX) : int(rng, 0, 1000)
      const next = writeStateDumpLine(out, off, hash, 0, base, downloaded)
      assert.ok(next - off <= STATE_DUMP_LINE_BOUND)
      off = next
      want.push([hash.toString('hex').toUpperCase(), base, downloaded])
    }
    const r = parse(out.toString('latin1', 0, off))
    assert.deepEqual(r.entries, want)
    assert.equal(r.rejected, 0)
  })
})
