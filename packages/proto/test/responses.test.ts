import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  FAILURE_NOT_AUTHORIZED, FAILURE_NO_INFO_HASH, HTTP_HEAD_RESERVE, REPLY_400, REPLY_402, REPLY_403, REPLY_404,
  REPLY_500, REPLY_503, SCRAPE_ENTRY_BOUND, announceBodyBound, decimalLength, decodeBencode, dictAnnounceBodyBound, encodeBencode,
  equalsLowerAscii, failureBody, formatIPv6, hexDigit, redirectReply, writeAnnounceHead, writeBytes, writeDecimal,
  writeDictEnd, writeDictPeer, writeOkHead, writePeers6Key, writePeersKey, writePeersListStart, writeScrapeEntry,
  writeScrapeEnd, writeScrapeStart, writeStoppedBody
} from '../src/index.js'
import { int, mulberry32, randomBytes } from './prng.js'

const latin1 = (b: Buffer): string => b.toString('latin1')

function decode (b: Buffer): unknown {
  const r = decodeBencode(b)
  assert.ok(r.ok, `not bencode: ${latin1(b)} (${r.ok ? '' : r.error})`)
  return r.value
}
/**
 * decode() plus a check that re-encoding gives the same bytes: the body is one complete, canonical
 * bencoded value (the `bencode` package itself ignores trailing bytes).
 */
function canon (b: Buffer): unknown {
  const v = decode(b)
  assert.equal(latin1(encodeBencode(v)), latin1(b), 'not canonical / trailing bytes')
  return v
}
const bytes = (v: unknown): Buffer => {
  assert.ok(v instanceof Uint8Array, 'expected a byte string')
  return Buffer.from(v)
}
/** The bencode package's key for a raw byte string: UTF-8 text, or hex when not valid UTF-8. */
const keyOf = (b: Buffer): string => {
  const t = b.toString('utf8')
  return t.includes('\uFFFD') ? b.toString('hex') : t
}

describe('bytes helpers', () => {
  it('writeDecimal', () => {
    const out = Buffer.alloc(32, 0x2e)
    const cases: Array<[number, string]> = [
      [0, '0'], [9, '9'], [10, '10'], [99, '99'], [100, '100'], [65535, '65535'], [2 ** 31, '2147483648'],
      [2 ** 32, '4294967296'], [2 ** 32 - 1, '4294967295'], [2 ** 53 - 1, '9007199254740991'], [1e15, '1000000000000000']
    ]
    for (const [n, s] of cases) {
      out.fill(0x2e)
      const end = writeDecimal(out, 3, n)
      assert.equal(end, 3 + s.length, s)
      assert.equal(latin1(out.subarray(0, end + 1)), `...${s}.`)
      assert.equal(decimalLength(n), s.length)
    }
  })
  it('writeDecimal agrees with String() on random integers', () => {
    const rng = mulberry32(31)
    const out = Buffer.alloc(20)
    for (let k = 0; k < 20000; k++) {
      const n = Math.floor(rng() * 2 ** int(rng, 0, 53))
      const end = writeDecimal(out, 1, n)
      assert.equal(latin1(out.subarray(1, end)), String(n))
    }
  })
  it('hexDigit', () => {
    const digits = '0123456789abcdefABCDEF'
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c)
      assert.equal(hexDigit(c), digits.includes(ch) ? parseInt(ch, 16) : -1, `byte ${c}`)
    }
  })
  it('equalsLowerAscii', () => {
    const p = Buffer.from('x-forwarded-for:')
    const b = Buffer.from('..X-Forwarded-FOR: 1')
    assert.equal(equalsLowerAscii(b, 2, b.length, p), true)
    assert.equal(equalsLowerAscii(b, 2, 2 + p.length - 1, p), false) // too short
    assert.equal(equalsLowerAscii(b, 1, b.length, p), false)
    // only A-Z fold: '@' (0x40) must not match '`' (0x60), '[' must not match '{'
    assert.equal(equalsLowerAscii(Buffer.from('@['), 0, 2, Buffer.from('`{')), false)
  })
  it('writeBytes', () => {
    const out = Buffer.alloc(6, 0)
    assert.equal(writeBytes(out, 2, Buffer.from('abc')), 5)
    assert.deepEqual([...out], [0, 0, 97, 98, 99, 0])
  })
})

describe('writeOkHead', () => {
  for (const n of [0, 9, 10, 31, 1234, 99999, 1048576]) {
    it(`ends exactly at bodyStart (length ${n})`, () => {
      const out = Buffer.alloc(HTTP_HEAD_RESERVE + 8, 0x7e)
      const bodyStart = HTTP_HEAD_RESERVE
      out.write('BODY', bodyStart)
      const start = writeOkHead(out, bodyStart, n, false)
      const expected = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${n}\r\n\r\n`
      assert.equal(latin1(out.subarray(start, bodyStart)), expected)
      assert.equal(start, bodyStart - expected.length)
      assert.ok(start >= 0)
      assert.equal(latin1(out.subarray(bodyStart, bodyStart + 4)), 'BODY')
      assert.ok(out.subarray(0, start).every((b) => b === 0x7e), 'wrote before start')
    })
  }
  it('adds Connection: keep-alive for HTTP/1.0 keep-alive clients', () => {
    const body = Buffer.from('d14:failure reason4:teste')
    const out = Buffer.alloc(HTTP_HEAD_RESERVE + body.length)
    body.copy(out, HTTP_HEAD_RESERVE)
    const start = writeOkHead(out, HTTP_HEAD_RESERVE, body.length, true)
    assert.equal(latin1(out.subarray(start)),
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\nContent-Length: ${body.length}\r\n\r\n${latin1(body)}`)
    assert.ok(start >= 0)
  })
  it('fits in HTTP_HEAD_RESERVE for any length below 2^53', () => {
    const out = Buffer.alloc(HTTP_HEAD_RESERVE)
    assert.ok(writeOkHead(out, HTTP_HEAD_RESERVE, 2 ** 53 - 1, true) >= 0)
  })
})

describe('error replies', () => {
  const cases: Array<[Buffer, number, string]> = [
    [REPLY_400, 400, 'Invalid Request'], [REPLY_402, 402, 'Payment Required'], [REPLY_403, 403, 'Access Denied'],
    [REPLY_404, 404, 'Not Found'], [REPLY_500, 500, 'Internal Server Error'], [REPLY_503, 503, 'Service Unavailable']
  ]
  for (const [buf, code, reason] of cases) {
    it(`${code} is byte-exact`, () => {
      const body = `<title>${reason}</title>\n`
      assert.equal(body.length, reason.length + 16)
      assert.equal(latin1(buf),
        `HTTP/1.0 ${code} ${reason}\r\nContent-Type: text/html\r\nContent-Length: ${reason.length + 16}\r\n\r\n${body}`)
    })
  }
  it('400 and 404 match the conformance checklist literally', () => {
    assert.equal(latin1(REPLY_400),
      'HTTP/1.0 400 Invalid Request\r\nContent-Type: text/html\r\nContent-Length: 31\r\n\r\n<title>Invalid Request</title>\n')
    assert.equal(latin1(REPLY_404),
      'HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 25\r\n\r\n<title>Not Found</title>\n')
  })
  it('redirect is byte-exact', () => {
    assert.equal(latin1(redirectReply('http://example.com/')),
      'HTTP/1.0 302 Found\r\nContent-Length: 0\r\nLocation: http://example.com/\r\n\r\n')
  })
})

describe('failure bodies', () => {
  it('no info_hash and not authorized are opentracker\'s exact bytes', () => {
    assert.equal(latin1(FAILURE_NO_INFO_HASH),
      "d14:failure reason80:Your client forgot to send your torrent's info_hash. Please upgrade your client.e")
    assert.equal(latin1(FAILURE_NOT_AUTHORIZED),
      'd14:failure reason63:Requested download is not authorized for use with this tracker.e')
  })
  it('length counts UTF-8 bytes and decodes', () => {
    const b = failureBody('zu früh')
    assert.equal(latin1(b.subarray(0, 22)), 'd14:failure reason8:zu')
    const v = canon(b) as Record<string, unknown>
    assert.deepEqual(Object.keys(v), ['failure reason'])
    assert.equal(bytes(v['failure reason']).toString('utf8'), 'zu früh')
    assert.equal(latin1(failureBody('')), 'd14:failure reason0:e')
  })
})

describe('announce bodies', () => {
  it('compact v4 + v6 peers: exact bytes and decoded values', () => {
    const out = Buffer.alloc(announceBodyBound(2, 1))
    const v4 = Buffer.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80])
    const v6 = Buffer.alloc(18, 0xab)
    let o = writeAnnounceHead(out, 0, 3, 7, 2, 1800, 900)
    o = writePeersKey(out, o, 2)
    o = writeBytes(out, o, v4)
    o = writePeers6Key(out, o, 1)
    o = writeBytes(out, o, v6)
    o = writeDictEnd(out, o)
    const body = out.subarray(0, o)
    assert.equal(latin1(body),
      'd8:completei3e10:downloadedi7e10:incompletei2e8:intervali1800e12:min intervali900e' +
      `5:peers12:${latin1(v4)}6:peers618:${latin1(v6)}e`)
    const d = canon(body) as Record<string, unknown>
    assert.deepEqual(Object.keys(d), ['complete', 'downloaded', 'incomplete', 'interval', 'min interval', 'peers', 'peers6'])
    assert.equal(d.complete, 3)
    assert.equal(d.downloaded, 7)
    assert.equal(d.incomplete, 2)
    assert.equal(d.interval, 1800)
    assert.equal(d['min interval'], 900)
    assert.deepEqual(bytes(d.peers), v4)
    assert.deepEqual(bytes(d.peers6), v6)
  })
  it('BEP 24 external ip (v4 and v6) sits between downloaded and incomplete', () => {
    for (const ip of [Buffer.from([192, 0, 2, 7]), Buffer.alloc(16, 0x20)]) {
      const out = Buffer.alloc(announceBodyBound(0, 0))
      const o = writeDictEnd(out, writeAnnounceHead(out, 0, 1, 2, 3, 1800, 900, ip))
      assert.equal(latin1(out.subarray(0, o)),
        `d8:completei1e10:downloadedi2e11:external ip${ip.length}:${latin1(ip)}10:incompletei3e8:intervali1800e12:min intervali900ee`)
      const d = canon(out.subarray(0, o)) as Record<string, unknown>
      assert.deepEqual(Object.keys(d), ['complete', 'downloaded', 'external ip', 'incomplete', 'interval', 'min interval'])
      assert.deepEqual(bytes(d['external ip']), ip)
    }
  })
  it('numwant=0 shape: no peer keys', () => {
    const out = Buffer.alloc(200)
    const o = writeDictEnd(out, writeAnnounceHead(out, 0, 0, 0, 1, 1865, 932))
    assert.equal(latin1(out.subarray(0, o)), 'd8:completei0e10:downloadedi0e10:incompletei1e8:intervali1865e12:min intervali932ee')
    assert.deepEqual(canon(out.subarray(0, o)), { complete: 0, downloaded: 0, incomplete: 1, interval: 1865, 'min interval': 932 })
  })
  it('empty peer keys', () => {
    const out = Buffer.alloc(200)
    let o = writeAnnounceHead(out, 0, 0, 0, 0, 1, 0)
    o = writePeersKey(out, o, 0)
    o = writeDictEnd(out, o)
    assert.equal(latin1(out.subarray(0, o)), 'd8:completei0e10:downloadedi0e10:incompletei0e8:intervali1e12:min intervali0e5:peers0:e')
    const d = canon(out.subarray(0, o)) as Record<string, unknown>
    assert.equal(bytes(d.peers).length, 0)
  })
  it('stopped body, v4 and v6', () => {
    const out = Buffer.alloc(200)
    let o = writeStoppedBody(out, 0, 1, 2, 1700, 850, false)
    assert.equal(latin1(out.subarray(0, o)), 'd8:completei1e10:incompletei2e8:intervali1700e12:min intervali850e5:peers0:e')
    const d4 = canon(out.subarray(0, o)) as Record<string, unknown>
    assert.deepEqual(Object.keys(d4), ['complete', 'incomplete', 'interval', 'min interval', 'peers'])
    assert.equal(d4.complete, 1)
    assert.equal(d4.incomplete, 2)
    o = writeStoppedBody(out, 0, 0, 0, 1620, 810, true)
    assert.equal(latin1(out.subarray(0, o)), 'd8:completei0e10:incompletei0e8:intervali1620e12:min intervali810e6:peers60:e')
    const d6 = canon(out.subarray(0, o)) as Record<string, unknown>
    assert.equal(bytes(d6.peers6).length, 0)
    assert.equal('peers' in d6, false)
  })
  it('dictionary peers (compact=0), with and without peer id', () => {
    const id = Buffer.from('xx-OT0001-abcdefghijklyy', 'latin1') // peer id at offset 2
    const out = Buffer.alloc(dictAnnounceBodyBound(3))
    let o = writeAnnounceHead(out, 0, 1, 0, 2, 1800, 900)
    o = writePeersListStart(out, o)
    o = writeDictPeer(out, o, '1.2.3.4', 6881, id, 2)
    o = writeDictPeer(out, o, '2001:db8::1', 0, null, 0)
    o = writeDictPeer(out, o, '255.255.255.255', 65535, id, 2)
    o = writeDictEnd(out, o) // list
    o = writeDictEnd(out, o) // dict
    const body = out.subarray(0, o)
    assert.ok(latin1(body).endsWith('5:peersld2:ip7:1.2.3.47:peer id20:-OT0001-abcdefghijkl4:porti6881eed2:ip11:2001:db8::14:porti0eed2:ip15:255.255.255.2557:peer id20:-OT0001-abcdefghijkl4:porti65535eeee'), latin1(body))
    const d = canon(body) as Record<string, unknown>
    assert.equal(d.incomplete, 2)
    const peers = d.peers as Array<Record<string, unknown>>
    assert.equal(peers.length, 3)
    assert.deepEqual(Object.keys(peers[0]!), ['ip', 'peer id', 'port'])
    assert.equal(bytes(peers[0]!.ip).toString(), '1.2.3.4')
    assert.deepEqual(bytes(peers[0]!['peer id']), id.subarray(2, 22))
    assert.equal(peers[0]!.port, 6881)
    assert.deepEqual(Object.keys(peers[1]!), ['ip', 'port'])
    assert.equal(bytes(peers[1]!.ip).toString(), '2001:db8::1')
    assert.equal(peers[1]!.port, 0)
    assert.equal(peers[2]!.port, 65535)
  })
  it('an empty dictionary peer list', () => {
    const out = Buffer.alloc(dictAnnounceBodyBound(0))
    let o = writeAnnounceHead(out, 0, 0, 0, 0, 10, 5)
    o = writeDictEnd(out, writePeersListStart(out, o))
    o = writeDictEnd(out, o)
    assert.deepEqual((canon(out.subarray(0, o)) as Record<string, unknown>).peers, [])
  })
  it('random bodies decode to what was written and stay within the bounds', () => {
    const rng = mulberry32(2024)
    const big = (): number => rng() < 0.2 ? 2 ** 53 - 1 : int(rng, 0, rng() < 0.5 ? 9 : 2 ** 40)
    for (let k = 0; k < 300; k++) {
      const n4 = int(rng, 0, 60)
      const n6 = int(rng, 0, 30)
      const S = big(); const D = big(); const L = big(); const I = big(); const M = big()
      const p4 = randomBytes(rng, n4 * 6)
      const p6 = randomBytes(rng, n6 * 18)
      const bound = announceBodyBound(n4, n6)
      const out = Buffer.alloc(bound + 64, 0xff)
      let o = writeAnnounceHead(out, 0, S, D, L, I, M)
      if (n4 > 0) o = writeBytes(out, writePeersKey(out, o, n4), p4)
      if (n6 > 0) o = writeBytes(out, writePeers6Key(out, o, n6), p6)
      o = writeDictEnd(out, o)
      assert.ok(o <= bound, `body ${o} > bound ${bound}`)
      const d = canon(out.subarray(0, o)) as Record<string, unknown>
      assert.equal(d.complete, S)
      assert.equal(d.downloaded, D)
      assert.equal(d.incomplete, L)
      assert.equal(d.interval, I)
      assert.equal(d['min interval'], M)
      if (n4 > 0) assert.deepEqual(bytes(d.peers), p4); else assert.equal('peers' in d, false)
      if (n6 > 0) assert.deepEqual(bytes(d.peers6), p6); else assert.equal('peers6' in d, false)

      // the same counts with dictionary peers, longest IP text and a peer id each
      const n = int(rng, 0, 20)
      const dout = Buffer.alloc(dictAnnounceBodyBound(n) + 64)
      o = writePeersListStart(dout, writeAnnounceHead(dout, 0, S, D, L, I, M))
      const id = randomBytes(rng, 20)
      const ips: string[] = []
      for (let j = 0; j < n; j++) {
        const ip = formatIPv6([0xffffffff, 0xffffffff, 0xffffffff, int(rng, 0, 0xffffffff)])
        ips.push(ip)
        o = writeDictPeer(dout, o, ip, 65535, id, 0)
      }
      o = writeDictEnd(dout, writeDictEnd(dout, o))
      assert.ok(o <= dictAnnounceBodyBound(n), `dict body ${o} > bound ${dictAnnounceBodyBound(n)}`)
      const dd = canon(dout.subarray(0, o)) as Record<string, unknown>
      const peers = dd.peers as Array<Record<string, unknown>>
      assert.equal(peers.length, n)
      peers.forEach((p, j) => {
        assert.equal(bytes(p.ip).toString(), ips[j])
        assert.deepEqual(bytes(p['peer id']), id)
        assert.equal(p.port, 65535)
      })
    }
  })
})

describe('scrape bodies', () => {
  it('empty', () => {
    const out = Buffer.alloc(16)
    const o = writeScrapeEnd(out, writeScrapeStart(out, 0))
    assert.equal(latin1(out.subarray(0, o)), 'd5:filesdee')
    assert.deepEqual(canon(out.subarray(0, o)), { files: {} })
  })
  it('entries: exact bytes and decoded values', () => {
    const h1 = Buffer.from('AAAAAAAAAAAAAAAAAAAA')
    const h2 = Buffer.from('xxBBBBBBBBBBBBBBBBBBBBxx') // hash at offset 2
    const out = Buffer.alloc(9 + 2 * SCRAPE_ENTRY_BOUND + 2)
    let o = writeScrapeStart(out, 0)
    o = writeScrapeEntry(out, o, h1, 0, 1, 2, 3)
    o = writeScrapeEntry(out, o, h2, 2, 0, 10, 0)
    o = writeScrapeEnd(out, o)
    assert.equal(latin1(out.subarray(0, o)),
      'd5:filesd20:AAAAAAAAAAAAAAAAAAAAd8:completei1e10:downloadedi2e10:incompletei3ee' +
      '20:BBBBBBBBBBBBBBBBBBBBd8:completei0e10:downloadedi10e10:incompletei0eeee')
    assert.deepEqual(canon(out.subarray(0, o)), {
      files: {
        AAAAAAAAAAAAAAAAAAAA: { complete: 1, downloaded: 2, incomplete: 3 },
        BBBBBBBBBBBBBBBBBBBB: { complete: 0, downloaded: 10, incomplete: 0 }
      }
    })
  })
  it('random entries decode and stay within SCRAPE_ENTRY_BOUND', () => {
    const rng = mulberry32(77)
    for (let k = 0; k < 200; k++) {
      const n = int(rng, 1, 70)
      const hashes = randomBytes(rng, n * 20)
      const out = Buffer.alloc(9 + n * SCRAPE_ENTRY_BOUND + 2)
      let o = writeScrapeStart(out, 0)
      const expected: Record<string, { complete: number, downloaded: number, incomplete: number }> = {}
      let text = 'd5:filesd'
      for (let j = 0; j < n; j++) {
        const c = rng() < 0.3 ? 2 ** 53 - 1 : int(rng, 0, 1e6)
        const dl = rng() < 0.3 ? 2 ** 53 - 1 : int(rng, 0, 1e6)
        const inc = rng() < 0.3 ? 2 ** 53 - 1 : int(rng, 0, 1e6)
        const before = o
        o = writeScrapeEntry(out, o, hashes, j * 20, c, dl, inc)
        assert.ok(o - before <= SCRAPE_ENTRY_BOUND)
        expected[keyOf(hashes.subarray(j * 20, j * 20 + 20))] = { complete: c, downloaded: dl, incomplete: inc }
        text += `20:${latin1(hashes.subarray(j * 20, j * 20 + 20))}d8:completei${c}e10:downloadedi${dl}e10:incompletei${inc}ee`
      }
      o = writeScrapeEnd(out, o)
      assert.equal(latin1(out.subarray(0, o)), text + 'ee')
      const d = decode(out.subarray(0, o)) as { files: Record<string, unknown> }
      if (Object.keys(expected).length === n) assert.deepEqual(d.files, expected)
    }
  })
})
