import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  AnnounceQuery, EVENT_COMPLETED, EVENT_NONE, EVENT_STARTED, EVENT_STOPPED, QUERY_ERR_PARAM, QUERY_OK,
  ScrapeQuery, parseAnnounceQuery, parseScrapeQuery, percentDecode
} from '../src/index.js'
import { int, mulberry32, pctAll, randomBytes } from './prng.js'

const HASH = Buffer.from('0123456789abcdefghij', 'latin1') // 20 bytes
const H = pctAll(HASH) // fully escaped
const PEER = Buffer.from('-OT0001-abcdefghijkl', 'latin1')

function announce (query: string): { r: number, q: AnnounceQuery } {
  const q = new AnnounceQuery()
  const buf = Buffer.from(query, 'latin1')
  const r = parseAnnounceQuery(buf, 0, buf.length, q)
  return { r, q }
}
const ok = (query: string): AnnounceQuery => {
  const { r, q } = announce(query)
  assert.equal(r, QUERY_OK, `expected OK for ${JSON.stringify(query)}`)
  return q
}
const bad = (query: string): void => {
  assert.equal(announce(query).r, QUERY_ERR_PARAM, `expected 400 for ${JSON.stringify(query)}`)
}

function scrape (query: string, max = 64): { r: number, q: ScrapeQuery } {
  const q = new ScrapeQuery(max)
  const buf = Buffer.from(query, 'latin1')
  return { r: parseScrapeQuery(buf, 0, buf.length, q), q }
}

describe('percentDecode', () => {
  it('decodes either case and keeps + literal', () => {
    const out = Buffer.alloc(16)
    const src = Buffer.from('a%41%6a%6A+%2b%2B')
    const n = percentDecode(src, 0, src.length, out, 0, 16)
    assert.equal(out.subarray(0, n).toString('latin1'), 'aAjj+++')
  })
  it('reports the full length but writes at most max bytes', () => {
    const out = Buffer.alloc(4, 0xee)
    const src = Buffer.from('abcdef')
    assert.equal(percentDecode(src, 0, 6, out, 1, 2), 6)
    assert.deepEqual([...out], [0xee, 97, 98, 0xee])
  })
  for (const s of ['%', '%4', 'a%', '%zz', '%4g', '%g4', 'ab%2']) {
    it(`bad escape ${s} → -1`, () => {
      const src = Buffer.from(s)
      assert.equal(percentDecode(src, 0, src.length, Buffer.alloc(8), 0, 8), -1)
    })
  }
  it('respects end (an escape cut by end is bad)', () => {
    const src = Buffer.from('%414')
    assert.equal(percentDecode(src, 0, 2, Buffer.alloc(8), 0, 8), -1)
    assert.equal(percentDecode(src, 0, 3, Buffer.alloc(8), 0, 8), 1)
  })
})

describe('announce query: info_hash and peer_id', () => {
  it('decodes a fully escaped info_hash', () => {
    const q = ok(`info_hash=${H}`)
    assert.equal(q.hasInfoHash, true)
    assert.deepEqual(q.infoHash, HASH)
  })
  it('accepts raw, mixed and either-case escapes', () => {
    const raw = 'abcdefghij0123456789'
    assert.deepEqual(ok(`info_hash=${raw}`).infoHash, Buffer.from(raw))
    assert.deepEqual(ok('info_hash=%ab%CD%eF%123456789012345678').infoHash,
      Buffer.from([0xab, 0xcd, 0xef, 0x12, ...Buffer.from('3456789012345678')]))
  })
  it('+ is a literal 0x2B', () => {
    assert.deepEqual(ok(`info_hash=${'+'.repeat(20)}`).infoHash, Buffer.alloc(20, 0x2b))
    assert.deepEqual(ok(`info_hash=${'%2B'.repeat(10)}${'+'.repeat(10)}`).infoHash, Buffer.alloc(20, 0x2b))
  })
  it('values may contain = and @', () => {
    assert.deepEqual(ok(`info_hash=${'=@'.repeat(10)}`).infoHash, Buffer.from('=@'.repeat(10)))
  })
  it('info%5Fhash and other escaped names are recognised', () => {
    assert.deepEqual(ok(`info%5Fhash=${H}`).infoHash, HASH)
    assert.deepEqual(ok(`info%5fhash=${H}`).infoHash, HASH)
    assert.deepEqual(ok(`%69%6e%66%6f%5f%68%61%73%68=${H}`).infoHash, HASH)
    assert.equal(ok('%70ort=7').port, 7)
  })
  it('names are case-sensitive', () => {
    const q = ok(`INFO_HASH=${H}&Port=5`)
    assert.equal(q.hasInfoHash, false)
    assert.equal(q.port, 0)
  })
  it('missing info_hash is not a parse error', () => {
    const q = ok('port=1&left=0')
    assert.equal(q.hasInfoHash, false)
    assert.equal(q.hasPeerId, false)
  })
  it('info_hash must decode to exactly 20 bytes', () => {
    bad('info_hash=short')
    bad(`info_hash=${H}%00`)
    bad(`info_hash=${H}a`)
    bad(`info_hash=${pctAll(HASH.subarray(0, 19))}`)
    bad('info_hash=')
    bad('info_hash')
    bad('info_hash&port=1')
    bad(`info_hash=${H.slice(0, -1)}`) // escape cut short
    bad(`info_hash=%zz${H.slice(3)}`)
  })
  it('a second info_hash is an error, even if identical', () => {
    bad(`info_hash=${H}&info_hash=${H}`)
    bad(`info_hash=${H}&info%5Fhash=${H}`)
  })
  it('peer_id is optional but must be 20 bytes', () => {
    const q = ok(`info_hash=${H}&peer_id=${pctAll(PEER)}`)
    assert.equal(q.hasPeerId, true)
    assert.deepEqual(q.peerId, PEER)
    assert.deepEqual(ok(`peer_id=${PEER.toString('latin1')}`).peerId, PEER)
    bad('peer_id=abc')
    bad(`peer_id=${PEER.toString('latin1')}x`)
    bad('peer_id=')
    bad('peer_id')
  })
  it('a second peer_id replaces the first', () => {
    const other = Buffer.alloc(20, 0x41)
    assert.deepEqual(ok(`peer_id=${pctAll(PEER)}&peer_id=${'A'.repeat(20)}`).peerId, other)
  })
})

describe('announce query: port', () => {
  const cases: Array<[string, number]> = [
    ['0', 0], ['1', 1], ['6881', 6881], ['65535', 65535], ['00080', 80], ['%36%38%38%31', 6881],
    ['-1', 65535], ['-2', 65534], ['-65535', 1], ['%2D1', 65535],
    ['-0', 0] // must be +0, not -0
  ]
  for (const [v, port] of cases) {
    it(`port=${v} → ${port}`, () => assert.equal(ok(`port=${v}`).port, port))
  }
  it('defaults to 0 and the last occurrence wins', () => {
    assert.equal(ok(`info_hash=${H}`).port, 0)
    assert.equal(ok('port=1&port=2').port, 2)
  })
  for (const v of ['+5', '12a', 'a12', '', '70000', '65536', '-', '1.5', '1 ', '0x10', '%2B5', '%zz', '1%', '--1', '1-']) {
    it(`port=${v} → 400`, () => bad(`port=${v}`))
  }
  it('valueless port → 400', () => {
    bad('port')
    bad('port&x=1')
    bad(`info_hash=${H}&port`)
  })
})

describe('announce query: left', () => {
  const cases: Array<[string, boolean]> = [
    ['0', true], ['000', true], ['-0', true], ['%30', true], ['1', false], ['-1', false],
    ['4294967296', false], ['18446744073709551616', false], ['99999999999999999999999999999999', false],
    ['0000000000000000000000000000001', false], ['%31', false],
    // values are percent-decoded before parsing (§3.3), so an escaped sign is a sign
    ['%2D1', false], ['%2d0', true]
  ]
  for (const [v, seeder] of cases) {
    it(`left=${v} → ${seeder ? 'seeder' : 'leecher'}`, () => assert.equal(ok(`left=${v}`).leftIsZero, seeder))
  }
  it('absent left means seeder (leftIsZero true)', () => assert.equal(ok(`info_hash=${H}`).leftIsZero, true))
  it('last occurrence wins', () => {
    assert.equal(ok('left=5&left=0').leftIsZero, true)
    assert.equal(ok('left=0&left=5').leftIsZero, false)
  })
  for (const v of ['abc', '', '-', '+1', '1a', '1.0', '%zz', '%3', '--1', '1-', '%2D', '%2B1', ' 1']) {
    it(`left=${JSON.stringify(v)} → 400`, () => bad(`left=${v}`))
  }
  it('valueless left → 400', () => bad('left'))
})

describe('announce query: event', () => {
  const cases: Array<[string, number]> = [
    ['completed', EVENT_COMPLETED], ['stopped', EVENT_STOPPED], ['started', EVENT_STARTED],
    ['%73topped', EVENT_STOPPED], ['%63%6F%6D%70%6C%65%74%65%64', EVENT_COMPLETED],
    ['paused', EVENT_NONE], ['', EVENT_NONE], ['Stopped', EVENT_NONE], ['STOPPED', EVENT_NONE],
    ['Completed', EVENT_NONE], ['stopped+', EVENT_NONE], ['stoppedx', EVENT_NONE], ['stop', EVENT_NONE],
    ['completedcompletedcompleted', EVENT_NONE], ['empty', EVENT_NONE]
  ]
  for (const [v, ev] of cases) {
    it(`event=${v} → ${ev}`, () => assert.equal(ok(`event=${v}`).event, ev))
  }
  it('defaults to none; last occurrence wins', () => {
    assert.equal(ok(`info_hash=${H}`).event, EVENT_NONE)
    assert.equal(ok('event=stopped&event=completed').event, EVENT_COMPLETED)
  })
  it('a bad escape → 400; valueless → 400', () => {
    bad('event=%zz')
    bad('event=stopped%')
    bad('event')
  })
})

describe('announce query: numwant', () => {
  const cases: Array<[string, number]> = [
    ['0', 0], ['1', 1], ['50', 50], ['200', 200], ['100000', 100000], ['-5', -1], ['-1', -1],
    ['999999999999999', 999999999999999],
    ['-0', 0] // must be +0, not -0
  ]
  for (const [v, n] of cases) {
    it(`numwant=${v} → ${n}`, () => assert.equal(ok(`numwant=${v}`).numwant, n))
  }
  it('absent → -1', () => assert.equal(ok(`info_hash=${H}`).numwant, -1))
  for (const v of ['', 'abc', '5x', '+5', '-', '1e3', '%zz']) {
    it(`numwant=${v} → 400`, () => bad(`numwant=${v}`))
  }
  it('valueless → 400', () => bad('numwant'))
})

describe('announce query: compact, compact6, no_peer_id', () => {
  it('compact defaults to true; compact=0 selects the dictionary model', () => {
    assert.equal(ok(`info_hash=${H}`).compact, true)
    assert.equal(ok('compact=1').compact, true)
    assert.equal(ok('compact=2').compact, true)
    assert.equal(ok('compact=-1').compact, true)
    assert.equal(ok('compact=0').compact, false)
    assert.equal(ok('compact=00').compact, false)
    assert.equal(ok('compact=0&compact=1').compact, true)
  })
  it('compact garbage → 400', () => {
    bad('compact=')
    bad('compact=abc')
    bad('compact=1x')
    bad('compact')
  })
  it('compact6=0 is still an error; other integers accepted', () => {
    bad('compact6=0')
    bad('compact6=')
    bad('compact6=x')
    bad('compact6')
    const q = ok('compact6=1')
    assert.equal(q.compact, true)
    ok('compact6=-3')
  })
  it('no_peer_id: valueless or non-zero sets it, 0 clears it, never an error', () => {
    assert.equal(ok(`info_hash=${H}`).noPeerId, false)
    assert.equal(ok('no_peer_id').noPeerId, true)
    assert.equal(ok('no_peer_id&port=1').noPeerId, true)
    assert.equal(ok('no_peer_id=1').noPeerId, true)
    assert.equal(ok('no_peer_id=0').noPeerId, false)
    assert.equal(ok('no_peer_id=').noPeerId, true)
    assert.equal(ok('no_peer_id=yes').noPeerId, true)
  })
})

describe('announce query: grammar', () => {
  it('a full typical query', () => {
    const q = ok(`info_hash=${H}&peer_id=${pctAll(PEER)}&port=51413&uploaded=0&downloaded=0&left=1234&corrupt=0` +
      '&key=ABCD1234&event=started&numwant=80&compact=1&no_peer_id=1&supportcrypto=1&trackerid=&ipv6=%3A%3A1')
    assert.deepEqual(q.infoHash, HASH)
    assert.deepEqual(q.peerId, PEER)
    assert.equal(q.port, 51413)
    assert.equal(q.leftIsZero, false)
    assert.equal(q.event, EVENT_STARTED)
    assert.equal(q.numwant, 80)
    assert.equal(q.compact, true)
    assert.equal(q.noPeerId, true)
  })
  it('empty items, leading/trailing & and valueless unknown names are fine', () => {
    ok('')
    ok('&')
    ok('&&&')
    assert.equal(ok(`&&info_hash=${H}&&port=3&&`).port, 3)
    ok('foo')
    ok('&foo&')
    assert.equal(ok('foo&bar&port=9').port, 9)
  })
  it('unknown values are skipped undecoded: %zz, trailing %', () => {
    assert.equal(ok('x=%zz&port=4').port, 4)
    ok('x=%')
    ok('x=%zz')
    ok('trackerid=')
    ok('x==@=')
  })
  it('unknown names may use every allowed name byte', () => {
    assert.equal(ok("a-_.!~*'()+,/;:<>?=1&port=2").port, 2)
    ok('%41%42')
  })
  for (const ch of ['#', '"', '$', '[', '\\', ']', '^', '`', '{', '|', '}']) {
    it(`unknown value containing ${ch} → 400`, () => {
      bad(`x=a${ch}b`)
      bad(`x=${ch}`)
      bad(`info_hash=${H}&x=a${ch}b&port=1`)
    })
    it(`known value containing ${ch} → 400`, () => bad(`port=1${ch}`))
    it(`name containing ${ch} → 400`, () => bad(`a${ch}b=1`))
  }
  it('bytes >= 0x80 and control bytes end a skipped value; scanning continues with the next name', () => {
    assert.equal(ok('x=a\x80port=5').port, 5)
    assert.equal(ok('x=a\xffport=6').port, 6)
    assert.equal(ok('x=a\x01port=7').port, 7)
    assert.equal(ok('x=a\x7fport=8').port, 8)
    assert.equal(ok('x=a\x09b&port=9').port, 9)
    ok('x=\x80')
  })
  it('the next name after a consumed byte can fail like any name', () => {
    bad('x=a\x80#')
    bad('x=a\x80\x80b=1')
    bad('x=\x01"')
  })
  it('bytes >= 0x80 or control bytes in a name → 400', () => {
    bad('a\x80b=1')
    bad('\xff')
    bad('a\x01=1')
    bad('a@b=1') // @ is allowed in values only
  })
  it('bytes >= 0x80 or control bytes in a parsed value → 400', () => {
    bad(`info_hash=${'\x80'.repeat(20)}`)
    bad('port=1\x01')
    bad('event=stopped\x80')
  })
  it('a bad escape in a name → 400', () => {
    bad('info%5=1')
    bad('%zz=1')
    bad('%')
    bad('x%=1')
  })
  it('long names are unknown', () => {
    assert.equal(ok(`${'info_hash'.repeat(3)}=1&${'a'.repeat(100)}=2&port=3`).port, 3)
    assert.equal(ok(`info_hash${'%00'.repeat(10)}=1`).hasInfoHash, false)
  })
  it('honours start/end and resets the result', () => {
    const q = new AnnounceQuery()
    const buf = Buffer.from(`GET /a?port=77&left=5&event=stopped&compact=0&no_peer_id&numwant=3#junk`, 'latin1')
    const start = buf.indexOf('?') + 1
    const end = buf.indexOf('#')
    assert.equal(parseAnnounceQuery(buf, start, end, q), QUERY_OK)
    assert.equal(q.port, 77)
    assert.equal(q.leftIsZero, false)
    assert.equal(q.event, EVENT_STOPPED)
    assert.equal(q.compact, false)
    assert.equal(q.noPeerId, true)
    assert.equal(q.numwant, 3)
    // reuse: everything goes back to its default
    const e = Buffer.from('x=1')
    assert.equal(parseAnnounceQuery(e, 0, e.length, q), QUERY_OK)
    assert.equal(q.port, 0)
    assert.equal(q.leftIsZero, true)
    assert.equal(q.event, EVENT_NONE)
    assert.equal(q.compact, true)
    assert.equal(q.noPeerId, false)
    assert.equal(q.numwant, -1)
    assert.equal(q.hasInfoHash, false)
    assert.equal(q.hasPeerId, false)
  })
})

describe('scrape query', () => {
  it('collects hashes in order', () => {
    const h2 = Buffer.alloc(20, 7)
    const { r, q } = scrape(`info_hash=${H}&foo=bar&info%5Fhash=${pctAll(h2)}`)
    assert.equal(r, QUERY_OK)
    assert.equal(q.count, 2)
    assert.equal(q.seen, 2)
    assert.deepEqual(q.hashes.subarray(0, 40), Buffer.concat([HASH, h2]))
  })
  it('duplicates are kept', () => {
    const { r, q } = scrape(`info_hash=${H}&info_hash=${H}`)
    assert.equal(r, QUERY_OK)
    assert.equal(q.count, 2)
  })
  it('no info_hash → 400', () => {
    assert.equal(scrape('').r, QUERY_ERR_PARAM)
    assert.equal(scrape('foo=bar').r, QUERY_ERR_PARAM)
    assert.equal(scrape('&&').r, QUERY_ERR_PARAM)
  })
  it('a wrong length or a valueless info_hash → 400', () => {
    assert.equal(scrape('info_hash=short').r, QUERY_ERR_PARAM)
    assert.equal(scrape(`info_hash=${H}&info_hash=${H}00`).r, QUERY_ERR_PARAM)
    assert.equal(scrape(`info_hash=${H}&info_hash`).r, QUERY_ERR_PARAM)
    assert.equal(scrape('info_hash=').r, QUERY_ERR_PARAM)
    assert.equal(scrape('info_hash=%zz').r, QUERY_ERR_PARAM)
  })
  it('announce parameters are unknown in a scrape (even valueless or malformed)', () => {
    const { r, q } = scrape(`port&left=&compact=0&info_hash=${H}`)
    assert.equal(r, QUERY_OK)
    assert.equal(q.count, 1)
  })
  it('unknown values with # → 400 as in announce', () => {
    assert.equal(scrape(`info_hash=${H}&x=#`).r, QUERY_ERR_PARAM)
  })
  it('more than maxHashes: keeps the first maxHashes, validates all', () => {
    const hashes = Array.from({ length: 70 }, (_, k) => Buffer.alloc(20, k))
    const query = hashes.map((h) => `info_hash=${pctAll(h)}`).join('&')
    const { r, q } = scrape(query, 64)
    assert.equal(r, QUERY_OK)
    assert.equal(q.count, 64)
    assert.equal(q.seen, 70)
    assert.deepEqual(q.hashes, Buffer.concat(hashes.slice(0, 64)))
    assert.equal(scrape(query + '&info_hash=short', 64).r, QUERY_ERR_PARAM)
    assert.equal(scrape(query + '&info_hash=%zz', 64).r, QUERY_ERR_PARAM)
    assert.equal(scrape(query + `&info_hash=${H}%41`, 64).r, QUERY_ERR_PARAM)
    assert.equal(scrape(query + '&info_hash', 64).r, QUERY_ERR_PARAM)
  })
  it('resets count and seen on reuse', () => {
    const q = new ScrapeQuery(2)
    const a = Buffer.from(`info_hash=${H}&info_hash=${H}&info_hash=${H}`)
    assert.equal(parseScrapeQuery(a, 0, a.length, q), QUERY_OK)
    assert.equal(q.count, 2)
    assert.equal(q.seen, 3)
    const b = Buffer.from(`info_hash=${H}`)
    assert.equal(parseScrapeQuery(b, 0, b.length, q), QUERY_OK)
    assert.equal(q.count, 1)
    assert.equal(q.seen, 1)
  })
})

describe('query properties', () => {
  it('random 20-byte hashes round-trip through escaping (raw-safe bytes left unescaped)', () => {
    const rng = mulberry32(0xabc)
    const safe = /[A-Za-z0-9\-_.!~*'()+,/;:<>?=@]/
    for (let n = 0; n < 3000; n++) {
      const h = randomBytes(rng, 20)
      let enc = ''
      for (const b of h) {
        const ch = String.fromCharCode(b)
        enc += b < 0x80 && safe.test(ch) && ch !== '%' && rng() < 0.7 ? ch : pctAll(Buffer.from([b]), rng)
      }
      const { r, q } = announce(`info_hash=${enc}&port=${int(rng, 0, 65535)}`)
      assert.equal(r, QUERY_OK, enc)
      assert.deepEqual(q.infoHash, h)
      const s = scrape(`info_hash=${enc}`)
      assert.equal(s.r, QUERY_OK)
      assert.deepEqual(s.q.hashes.subarray(0, 20), h)
    }
  })
  it('port=n for every n in range; n > 65535 errors', () => {
    for (let p = 0; p <= 65535; p += 7) assert.equal(ok(`port=${p}`).port, p)
    for (let p = 1; p <= 65535; p += 11) assert.equal(ok(`port=-${p}`).port, (65536 - p) & 0xffff)
    const rng = mulberry32(5)
    for (let n = 0; n < 500; n++) bad(`port=${int(rng, 65536, 1e12)}`)
  })
})
