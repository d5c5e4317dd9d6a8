import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  FULL_SCRAPE_RECORD_BOUND, SCRAPE_FORMAT_BEN, SCRAPE_FORMAT_BIN, SCRAPE_FORMAT_STATEDUMP, SCRAPE_FORMAT_TXT,
  SCRAPE_FORMAT_TXTP, SCRAPE_FORMAT_URL, decodeBencode, fullScrapeHead, fullScrapeTail, parseScrapeFormat,
  parseStateDump, writeFullScrapeRecord
} from '../src/index.js'
import { int, mulberry32, randomBytes } from './prng.js'

const FORMATS = [SCRAPE_FORMAT_BEN, SCRAPE_FORMAT_TXT, SCRAPE_FORMAT_TXTP, SCRAPE_FORMAT_BIN, SCRAPE_FORMAT_URL, SCRAPE_FORMAT_STATEDUMP]
const HASH = Buffer.from('0123456789abcdef0123456789abcdef01234567', 'hex')
const HEX = '0123456789ABCDEF0123456789ABCDEF01234567'

/** Writes one record with guard bytes around it; checks the bound and that nothing outside is touched. */
function record (format: number, hash: Buffer, s: number, l: number, d: number, base = 0, hashOff = 0): Buffer {
  const out = Buffer.alloc(FULL_SCRAPE_RECORD_BOUND + 8, 0xee)
  const end = writeFullScrapeRecord(format, out, 4, hash, hashOff, s, l, d, base)
  assert.ok(end >= 4 && end - 4 <= FULL_SCRAPE_RECORD_BOUND, `format ${format}: ${end - 4} bytes`)
  assert.equal(out[3], 0xee)
  assert.equal(out[end], 0xee)
  return out.subarray(4, end)
}

/** How the `bencode` package names a dictionary key: its UTF-8 text, or its hex if that is not valid UTF-8. */
function dictKey (key: Buffer): string {
  const text = new TextDecoder().decode(key)
  return text.includes('\uFFFD') ? key.toString('hex') : text
}

/** A whole body: head, records, tail. */
function body (format: number, items: Array<{ hash: Buffer, s: number, l: number, d: number, base: number }>): Buffer {
  const parts: Buffer[] = [fullScrapeHead(format)]
  for (const t of items) parts.push(record(format, t.hash, t.s, t.l, t.d, t.base))
  parts.push(fullScrapeTail(format))
  return Buffer.concat(parts)
}

describe('parseScrapeFormat', () => {
  it('knows the five format names', () => {
    assert.equal(parseScrapeFormat('ben'), SCRAPE_FORMAT_BEN)
    assert.equal(parseScrapeFormat('txt'), SCRAPE_FORMAT_TXT)
    assert.equal(parseScrapeFormat('txtp'), SCRAPE_FORMAT_TXTP)
    assert.equal(parseScrapeFormat('bin'), SCRAPE_FORMAT_BIN)
    assert.equal(parseScrapeFormat('url'), SCRAPE_FORMAT_URL)
  })
  for (const bad of ['', 'BEN', 'Ben', 'statedump', 'tpbs', 'txt ', ' txt', 'txtpp', 'bi', 'xml', 'ben\0']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseScrapeFormat(bad), -1))
  }
  it('uses distinct codes', () => assert.equal(new Set(FORMATS).size, 6))
})

describe('fullScrapeHead / fullScrapeTail', () => {
  it('frame ben only', () => {
    assert.equal(fullScrapeHead(SCRAPE_FORMAT_BEN).toString(), 'd5:filesd')
    assert.equal(fullScrapeTail(SCRAPE_FORMAT_BEN).toString(), 'ee')
    for (const f of [...FORMATS.slice(1), -1, 99]) {
      assert.equal(fullScrapeHead(f).length, 0)
      assert.equal(fullScrapeTail(f).length, 0)
    }
  })
  it('an empty ben scrape is d5:filesdee and decodes', () => {
    const b = body(SCRAPE_FORMAT_BEN, [])
    assert.equal(b.toString(), 'd5:filesdee')
    const r = decodeBencode(b)
    assert.ok(r.ok)
    assert.equal(Object.keys((r.value as { files: object }).files).length, 0)
  })
})

describe('writeFullScrapeRecord', () => {
  it('ben', () => {
    const r = record(SCRAPE_FORMAT_BEN, HASH, 3, 5, 7)
    assert.deepEqual(r, Buffer.concat([Buffer.from('20:'), HASH, Buffer.from('d8:completei3e10:downloadedi7e10:incompletei5ee')]))
  })
  it('txt', () => {
    assert.equal(record(SCRAPE_FORMAT_TXT, HASH, 3, 5, 7).toString(), `${HEX}:3:5\n`)
  })
  it('txtp', () => {
    assert.equal(record(SCRAPE_FORMAT_TXTP, HASH, 3, 5, 7).toString(), `${HEX}:3:5:7\n`)
    assert.equal(record(SCRAPE_FORMAT_TXTP, HASH, 0, 0, 0).toString(), `${HEX}:0:0:0\n`)
  })
  it('bin', () => {
    const r = record(SCRAPE_FORMAT_BIN, HASH, 3, 0x01020304, 7)
    assert.equal(r.length, 28)
    assert.deepEqual(r.subarray(0, 20), HASH)
    assert.equal(r.readUInt32BE(20), 3)
    assert.equal(r.readUInt32BE(24), 0x01020304)
  })
  it('bin clamps counts to u32', () => {
    const r = record(SCRAPE_FORMAT_BIN, HASH, 2 ** 40, -1, 0)
    assert.equal(r.readUInt32BE(20), 0xffffffff)
    assert.equal(r.readUInt32BE(24), 0)
  })
  it('url: lowercase %xx, unreserved characters literal', () => {
    // the reference's example: %01%23Eg%89%ab…
    assert.equal(record(SCRAPE_FORMAT_URL, HASH, 3, 5, 7).toString(), '%01%23Eg%89%ab%cd%ef%01%23Eg%89%ab%cd%ef%01%23Eg:3:5\n')
    const all = Buffer.from('AZaz09-._~ !*\'()%+/:', 'latin1')
    const hash = Buffer.concat([all, Buffer.from([0x00, 0xff])])
    assert.equal(hash.length, 22)
    assert.equal(record(SCRAPE_FORMAT_URL, hash, 1, 2, 3).toString(), 'AZaz09-._~%20%21%2a%27%28%29%25%2b%2f%3a:1:2\n')
  })
  it('url decodes back to the hash', () => {
    const rng = mulberry32(0x52)
    for (let k = 0; k < 500; k++) {
      const hash = randomBytes(rng, 20)
      const text = record(SCRAPE_FORMAT_URL, hash, 1, 2, 3).toString('latin1')
      assert.match(text, /^([A-Za-z0-9\-._~]|%[0-9a-f]{2})+:1:2\n$/)
      const encoded = text.slice(0, text.length - 5)
      assert.deepEqual(Buffer.from(encoded.replace(/%([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1'), hash)
    }
  })
  it('statedump', () => {
    assert.equal(record(SCRAPE_FORMAT_STATEDUMP, HASH, 3, 5, 7, 29000000).toString(), `${HEX}:29000000:7\n`)
  })
  it('honours hashOff', () => {
    const buf = Buffer.concat([Buffer.from('xyz'), HASH])
    for (const f of FORMATS) assert.deepEqual(record(f, buf, 1, 2, 3, 4, 3), record(f, HASH, 1, 2, 3, 4))
  })
  it('writes nothing for an unknown format', () => {
    const out = Buffer.alloc(8, 0xee)
    assert.equal(writeFullScrapeRecord(-1, out, 2, HASH, 0, 1, 2, 3, 4), 2)
    assert.equal(writeFullScrapeRecord(6, out, 2, HASH, 0, 1, 2, 3, 4), 2)
    assert.deepEqual(out, Buffer.alloc(8, 0xee))
  })
  it('stays within FULL_SCRAPE_RECORD_BOUND with the largest counts', () => {
    const big = Number.MAX_SAFE_INTEGER
    const hash = Buffer.alloc(20, 0xff) // all percent-encoded in url
    for (const f of FORMATS) record(f, hash, big, big, big, big)
    assert.equal(record(SCRAPE_FORMAT_BEN, hash, big, big, big).length, FULL_SCRAPE_RECORD_BOUND)
  })
})

describe('full scrape bodies', () => {
  const rng = mulberry32(0xf5)
  const items: Array<{ hash: Buffer, s: number, l: number, d: number, base: number }> = []
  for (let k = 0; k < 200; k++) {
    const big = rng() < 0.1
    items.push({
      hash: randomBytes(rng, 20),
      s: big ? int(rng, 0, Number.MAX_SAFE_INTEGER) : int(rng, 0, 1000),
      l: big ? int(rng, 0, 2 ** 32) : int(rng, 0, 1000),
      d: big ? int(rng, 0, 2 ** 40) : int(rng, 0, 100000),
      base: int(rng, 0, 3e7)
    })
  }
  items.sort((a, b) => Buffer.compare(a.hash, b.hash))

  it('ben decodes with the strict decoder to the same counts', () => {
    const b = body(SCRAPE_FORMAT_BEN, items)
    const r = decodeBencode(b)
    assert.ok(r.ok, r.ok ? '' : r.error)
    const files = (r.value as { files: Record<string, { complete: number, incomplete: number, downloaded: number }> }).files
    assert.equal(Object.keys(files).length, items.length)
    for (const t of items) {
      const f = files[dictKey(t.hash)]
      assert.ok(f !== undefined)
      assert.deepEqual([f.complete, f.incomplete, f.downloaded], [t.s, t.l, t.d])
    }
  })
  it('ben with one entry decodes', () => {
    const r = decodeBencode(body(SCRAPE_FORMAT_BEN, items.slice(0, 1)))
    assert.ok(r.ok)
  })
  it('txt and txtp are one line per torrent', () => {
    const txt = body(SCRAPE_FORMAT_TXT, items).toString('latin1').split('\n')
    const txtp = body(SCRAPE_FORMAT_TXTP, items).toString('latin1').split('\n')
    assert.equal(txt.pop(), '')
    assert.equal(txtp.pop(), '')
    items.forEach((t, k) => {
      const h = t.hash.toString('hex').toUpperCase()
      assert.equal(txt[k], `${h}:${t.s}:${t.l}`)
      assert.equal(txtp[k], `${h}:${t.s}:${t.l}:${t.d}`)
    })
  })
  it('bin is 28 bytes per torrent', () => {
    const b = body(SCRAPE_FORMAT_BIN, items)
    assert.equal(b.length, items.length * 28)
    items.forEach((t, k) => {
      assert.deepEqual(b.subarray(k * 28, k * 28 + 20), t.hash)
      assert.equal(b.readUInt32BE(k * 28 + 20), Math.min(t.s, 0xffffffff))
      assert.equal(b.readUInt32BE(k * 28 + 24), Math.min(t.l, 0xffffffff))
    })
  })
  it('statedump parses back with parseStateDump', () => {
    const small = items.filter((t) => t.d < 1e15)
    const r = parseStateDump(body(SCRAPE_FORMAT_STATEDUMP, small))
    assert.equal(r.rejected, 0)
    assert.deepEqual(r.entries.map((e) => [e.hash, e.baseMinute, e.downloaded]), small.map((t) => [t.hash, t.base, t.d]))
  })
})
