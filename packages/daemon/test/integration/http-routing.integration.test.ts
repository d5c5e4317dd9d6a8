// Black-box HTTP framing and routing tests (reference §3.1, §3.2, §3.7; checklist §13.1),
// adapted to otd's deliberate differences (HTTP/1.1 keep-alive, configurable idle timeout).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { asDict, decodeStrict } from '../helpers/bencode-strict.js'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { RawConnection, REPLY_400, REPLY_404, REPLY_500, exchange, get, header, pctAll } from '../helpers/http-raw.js'
import type { Endpoint, RawResponse } from '../helpers/http-raw.js'
import { announce, assertOkFraming, parseAnnounce, parseScrape, testHash } from '../helpers/tracker-client.js'

const H = testHash(1000)
const HQ = pctAll(H)
const ANNOUNCE = `/announce?info_hash=${HQ}&port=1`

let f: Fixture

before(async () => {
  f = await startTracker()
  // make H known so that scrape replies are non-empty
  await announce(f.http4, { infoHash: H, port: 1 })
})

after(async () => {
  await f?.close()
})

function raw(res: RawResponse): string {
  return res.raw.toString('latin1')
}

function isAnnounceBody(res: RawResponse): boolean {
  return parseAnnounce(res).interval > 0
}

async function expectExactReplyThenClose(ep: Endpoint, request: string, expected: string): Promise<void> {
  const res = await exchange(ep, request)
  assert.equal(raw(res), expected, `request ${JSON.stringify(request.slice(0, 120))}`)
}

describe('§13.1.1 basic framing', () => {
  for (const which of ['http4', 'http6'] as const) {
    test(`HTTP/1.0 announce over ${which}: HTTP/1.1 200 OK, exactly Content-Type and Content-Length, bencoded body, then close`, async () => {
      const conn = await RawConnection.connect(f[which])
      try {
        await conn.write(`GET ${ANNOUNCE} HTTP/1.0\r\n\r\n`)
        const res = await conn.readResponse()
        assertOkFraming(res)
        assert.equal(res.headers[0]?.[1], 'text/plain')
        const dict = asDict(decodeStrict(res.body))
        assert.ok(dict.has('interval'))
        assert.equal(res.body.at(-1), 0x65, 'body ends with "e"')
        await conn.waitClosed()
        assert.equal(conn.buffer.length, 0, 'nothing after the body')
      } finally {
        conn.destroy()
      }
    })
  }
})

describe('§13.1.2 request terminators and idle timeout', () => {
  test('request terminated with \\n\\n only is answered like \\r\\n\\r\\n', async () => {
    const res = await exchange(f.http4, `GET ${ANNOUNCE} HTTP/1.0\n\n`)
    assert.ok(isAnnounceBody(res))
  })

  test('request terminated with \\r\\n\\n is answered', async () => {
    const res = await exchange(f.http4, `GET ${ANNOUNCE} HTTP/1.0\r\n\n`)
    assert.ok(isAnnounceBody(res))
  })

  test('request with headers terminated by \\n line ends is answered', async () => {
    const res = await exchange(f.http4, `GET ${ANNOUNCE} HTTP/1.0\nHost: x\nUser-Agent: t\n\n`)
    assert.ok(isAnnounceBody(res))
  })

  describe('with httpIdleTimeoutSeconds: 1 (otd: configurable, opentracker has a fixed 30-40 s)', () => {
    let g: Fixture
    before(async () => {
      g = await startTracker({ httpIdleTimeoutSeconds: 1 })
    })
    after(async () => {
      await g?.close()
    })

    test('a single \\r\\n never completes the request: no reply, closed without data after the idle timeout', async () => {
      const conn = await RawConnection.connect(g.http4)
      try {
        const t0 = Date.now()
        await conn.write(`GET ${ANNOUNCE} HTTP/1.0\r\n`)
        await conn.waitClosed(6000)
        const elapsed = Date.now() - t0
        assert.equal(conn.received.length, 0, `no data expected, got ${JSON.stringify(conn.received.toString('latin1'))}`)
        assert.ok(elapsed >= 800, `closed after ${elapsed} ms, before the 1 s idle timeout`)
      } finally {
        conn.destroy()
      }
    })

    test('a connection that sends nothing is closed without data after the idle timeout (§13.10.72)', async () => {
      const conn = await RawConnection.connect(g.http6)
      try {
        const t0 = Date.now()
        await conn.waitClosed(6000)
        assert.equal(conn.received.length, 0)
        assert.ok(Date.now() - t0 >= 800, 'not before the idle timeout')
      } finally {
        conn.destroy()
      }
    })

    test('an idle keep-alive connection is closed after the idle timeout (otd: keep-alive)', async () => {
      const conn = await RawConnection.connect(g.http4)
      try {
        await conn.write(`GET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\n`)
        const res = await conn.readResponse()
        assert.ok(isAnnounceBody(res))
        const t0 = Date.now()
        await conn.waitClosed(6000)
        assert.ok(Date.now() - t0 >= 700, 'kept open for about the idle timeout')
        assert.equal(conn.buffer.length, 0)
      } finally {
        conn.destroy()
      }
    })
  })
})

describe('§13.1.3 request split over several TCP writes', () => {
  const full = `GET ${ANNOUNCE} HTTP/1.0\r\n\r\n`
  const cases: Array<[string, number[]]> = [
    ['before "HTTP/1.0"', [full.indexOf('HTTP/1.0')]],
    ['inside the \\r\\n\\r\\n terminator', [full.length - 2]],
    ['inside the info_hash escape', [full.indexOf('%') + 1]],
  ]
  for (const [name, cuts] of cases) {
    test(`split ${name} → normal reply`, async () => {
      const conn = await RawConnection.connect(f.http4)
      try {
        let prev = 0
        for (const cut of [...cuts, full.length]) {
          await conn.write(full.slice(prev, cut))
          prev = cut
        }
        assert.ok(isAnnounceBody(await conn.readResponse()))
        await conn.waitClosed()
      } finally {
        conn.destroy()
      }
    })
  }

  test('request written one byte at a time → normal reply', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      for (const ch of full) await conn.write(ch)
      assert.ok(isAnnounceBody(await conn.readResponse()))
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
  })
})

describe('§13.1.4 pipelining and keep-alive', () => {
  test('HTTP/1.0: two pipelined requests → exactly one reply, then close', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(`GET ${ANNOUNCE} HTTP/1.0\r\n\r\nGET /scrape?info_hash=${HQ} HTTP/1.0\r\n\r\n`)
      assert.ok(isAnnounceBody(await conn.readResponse()))
      await conn.waitClosed()
      assert.equal(conn.buffer.length, 0, `second reply must not be sent, got ${JSON.stringify(conn.buffer.toString('latin1'))}`)
    } finally {
      conn.destroy()
    }
  })

  test('HTTP/1.1 without Connection: close: pipelined requests are all answered, in order (otd: better than opentracker)', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(
        `GET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\n` +
          `GET /scrape?info_hash=${HQ} HTTP/1.1\r\nHost: t\r\n\r\n` +
          `GET ${ANNOUNCE}&numwant=0 HTTP/1.1\r\nHost: t\r\n\r\n`,
      )
      const r1 = await conn.readResponse()
      const r2 = await conn.readResponse()
      const r3 = await conn.readResponse()
      assert.ok(isAnnounceBody(r1), 'first reply is the announce')
      assert.ok(parseScrape(r2).has(H.toString('latin1')), 'second reply is the scrape')
      assert.ok(isAnnounceBody(r3), 'third reply is the announce')
      assert.equal(await conn.quietFor(200), true, 'connection stays open and silent')
      // a further request on the same connection, now asking to close
      await conn.write(`GET /scrape?info_hash=${HQ} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)
      assert.ok(parseScrape(await conn.readResponse()).has(H.toString('latin1')))
      await conn.waitClosed()
      assert.equal(conn.buffer.length, 0)
    } finally {
      conn.destroy()
    }
  })

  test('HTTP/1.1 keep-alive: sequential requests on one connection (otd: better than opentracker)', async () => {
    const conn = await RawConnection.connect(f.http6)
    try {
      for (let i = 0; i < 5; i++) {
        await conn.write(`GET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\n`)
        const res = await conn.readResponse()
        assert.ok(isAnnounceBody(res), `reply #${i}`)
        assert.equal(conn.closed, false)
      }
    } finally {
      conn.destroy()
    }
  })

  test('HTTP/1.1 with Connection: close → exactly one reply, then close; a pipelined second request is ignored', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(`GET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\n`)
      assert.ok(isAnnounceBody(await conn.readResponse()))
      await conn.waitClosed()
      assert.equal(conn.buffer.length, 0)
    } finally {
      conn.destroy()
    }
  })

  for (const line of ['connection: close', 'Connection: CLOSE', 'CONNECTION:close']) {
    test(`HTTP/1.1 with "${line}" → one reply, then close (header name and token are case-insensitive)`, async () => {
      const conn = await RawConnection.connect(f.http4)
      try {
        await conn.write(`GET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n${line}\r\n\r\n`)
        assert.ok(isAnnounceBody(await conn.readResponse()))
        await conn.waitClosed()
      } finally {
        conn.destroy()
      }
    })
  }

  test('HTTP/1.1: 300 pipelined announces in one write (about 30 KiB, far above the 8 KiB request limit) are all answered in order', async () => {
    const h = testHash(1001)
    const conn = await RawConnection.connect(f.http4)
    try {
      let batch = ''
      for (let i = 0; i < 300; i++) batch += `GET /announce?info_hash=${pctAll(h)}&port=${10000 + i}&left=1&numwant=0 HTTP/1.1\r\nHost: t\r\n\r\n`
      assert.ok(batch.length > 4 * 8192)
      await conn.write(batch)
      for (let i = 0; i < 300; i++) {
        const r = parseAnnounce(await conn.readResponse())
        assert.equal(r.incomplete, i + 1, `reply #${i} answers request #${i}`)
      }
      assert.equal(conn.closed, false)
    } finally {
      conn.destroy()
    }
  })

  test('HTTP/1.1: a pipelined request split across writes (second request cut in the middle) is answered', async () => {
    const conn = await RawConnection.connect(f.http6)
    try {
      const one = `GET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\n`
      const two = `GET /scrape?info_hash=${HQ} HTTP/1.1\r\nHost: t\r\n\r\n`
      await conn.write(one + two.slice(0, 20))
      assert.ok(isAnnounceBody(await conn.readResponse()))
      await conn.write(two.slice(20))
      assert.ok(parseScrape(await conn.readResponse()).has(H.toString('latin1')))
    } finally {
      conn.destroy()
    }
  })

  test('HTTP/1.0 with Connection: keep-alive keeps the connection open (otd: keep-alive)', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(`GET ${ANNOUNCE} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`)
      const res = await conn.readResponse()
      // An HTTP/1.0 client only knows the connection stays open from a `Connection: keep-alive`
      // reply header, so that one extra header is allowed here.
      assert.equal(res.statusLine, 'HTTP/1.1 200 OK')
      assert.deepEqual(
        res.headers.map(([n]) => n).filter((n) => n !== 'Connection'),
        ['Content-Type', 'Content-Length'],
      )
      const connection = header(res, 'Connection')
      if (connection !== undefined) assert.equal(connection.toLowerCase(), 'keep-alive')
      asDict(decodeStrict(res.body))
      await conn.write(`GET /scrape?info_hash=${HQ} HTTP/1.0\r\n\r\n`)
      assert.ok(parseScrape(await conn.readResponse()).has(H.toString('latin1')))
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
  })

  test('an error reply on a keep-alive connection closes it; the pipelined request after it is not answered', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(`GET /nope HTTP/1.1\r\nHost: t\r\n\r\nGET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\n`)
      const res = await conn.readResponse()
      assert.equal(raw(res), REPLY_404)
      await conn.waitClosed()
      assert.equal(conn.buffer.length, 0)
    } finally {
      conn.destroy()
    }
  })

  test('a 400 reply after a successful keep-alive request closes the connection', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(`GET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\nGET /announce?info_hash=short HTTP/1.1\r\nHost: t\r\n\r\nGET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\n`)
      assert.ok(isAnnounceBody(await conn.readResponse()))
      assert.equal(raw(await conn.readResponse()), REPLY_400)
      await conn.waitClosed()
      assert.equal(conn.buffer.length, 0)
    } finally {
      conn.destroy()
    }
  })
})

describe('§13.1.5 methods other than GET → exact 400', () => {
  for (const req of [
    `POST ${ANNOUNCE} HTTP/1.0\r\n\r\n`,
    `HEAD ${ANNOUNCE} HTTP/1.0\r\n\r\n`,
    `get ${ANNOUNCE} HTTP/1.0\r\n\r\n`,
    `PUT / HTTP/1.0\r\n\r\n`,
    `GETX / HTTP/1.0\r\n\r\n`,
    `GET announce HTTP/1.0\r\n\r\n`,
    ` GET / HTTP/1.0\r\n\r\n`,
  ]) {
    test(`${JSON.stringify(req.slice(0, 24))} → HTTP/1.0 400 Invalid Request, then close`, async () => {
      await expectExactReplyThenClose(f.http4, req, REPLY_400)
    })
  }

  test('the 400 reply is exactly as in reference §3.7', () => {
    assert.equal(
      REPLY_400,
      'HTTP/1.0 400 Invalid Request\r\nContent-Type: text/html\r\nContent-Length: 31\r\n\r\n<title>Invalid Request</title>\n',
    )
  })

  test('a 400 over HTTP/1.1 keep-alive is still HTTP/1.0 400 and closes', async () => {
    await expectExactReplyThenClose(f.http6, `POST / HTTP/1.1\r\nHost: t\r\n\r\n`, REPLY_400)
  })
})

describe('§13.1.6 unknown paths → exact 404', () => {
  const targets = ['/foo', '/', '//', '/?x', `/?info_hash=${HQ}`, `/s?info_hash=${HQ}`, '/synced', '/index.html', '/x/announce?info_hash=1']
  for (const target of targets) {
    test(`GET ${target.slice(0, 40)} → HTTP/1.0 404 Not Found, then close`, async () => {
      await expectExactReplyThenClose(f.http4, `GET ${target} HTTP/1.0\r\n\r\n`, REPLY_404)
    })
  }

  test('the 404 reply is exactly as in reference §3.7 (25-byte body)', () => {
    assert.equal(REPLY_404, 'HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 25\r\n\r\n<title>Not Found</title>\n')
  })

  test('GET / over IPv6 → 404 (no redirect configured)', async () => {
    await expectExactReplyThenClose(f.http6, 'GET / HTTP/1.0\r\n\r\n', REPLY_404)
  })
})

describe('§13.1.8 announce path aliases (first decoded path character "a")', () => {
  for (const path of ['/a', '/announce.php', '/%61nnounce', '/abc/def', '///announce']) {
    test(`GET ${path}?… is processed as announce`, async () => {
      const res = await get(f.http4, `${path}?info_hash=${HQ}&port=2`)
      assert.ok(isAnnounceBody(res))
    })
  }
})

describe('§13.1.9 scrape path aliases (first decoded path characters "sc")', () => {
  for (const path of ['/sc', '/scrape.php', '/scrapeXYZ', '/%73crape']) {
    test(`GET ${path}?info_hash=H is processed as scrape`, async () => {
      const res = await get(f.http4, `${path}?info_hash=${HQ}`)
      const files = parseScrape(res)
      assert.ok(files.has(H.toString('latin1')))
    })
  }
})

describe('§13.1.10 query string location', () => {
  test('GET /announce HTTP/1.0 (no "?") → 400', async () => {
    await expectExactReplyThenClose(f.http4, 'GET /announce HTTP/1.0\r\n\r\n', REPLY_400)
  })

  test('GET /scrape.php HTTP/1.0 (no "?") → 400', async () => {
    await expectExactReplyThenClose(f.http4, 'GET /scrape.php HTTP/1.0\r\n\r\n', REPLY_400)
  })

  test('GET /announce ?info_hash=H&port=1 HTTP/1.0 (space before "?") → normal announce', async () => {
    const res = await exchange(f.http4, `GET /announce ?info_hash=${HQ}&port=1 HTTP/1.0\r\n\r\n`)
    assert.ok(isAnnounceBody(res))
  })
})

describe('§13.1.11 request size limit (httpMaxRequestBytes, default 8192)', () => {
  test('a header accumulating more than 8192 bytes over several writes → exact 500, then close', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(`GET ${ANNOUNCE} HTTP/1.0\r\n`)
      const line = `X-Pad: ${'a'.repeat(1000)}\r\n`
      for (let i = 0; i < 9 && !conn.closed && conn.received.length === 0; i++) await conn.write(line)
      const res = await conn.readResponse()
      assert.equal(raw(res), REPLY_500)
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
  })

  test('the 500 reply is exactly as in reference §3.7', () => {
    assert.equal(
      REPLY_500,
      'HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: 37\r\n\r\n<title>Internal Server Error</title>\n',
    )
  })

  test('a complete request of about 8000 bytes in one write is still answered normally', async () => {
    const head = `GET ${ANNOUNCE} HTTP/1.0\r\n`
    const pad = `X-Pad: ${'b'.repeat(8000 - head.length - 11)}\r\n`
    const req = `${head}${pad}\r\n`
    assert.ok(req.length <= 8000)
    const res = await exchange(f.http4, req)
    assert.ok(isAnnounceBody(res))
  })

  test('boundary: a complete request of exactly 8192 bytes → answered; 8193 bytes → 500', async () => {
    const make = (size: number): string => {
      const head = `GET ${ANNOUNCE} HTTP/1.0\r\n`
      const pad = `X-Pad: ${'e'.repeat(size - head.length - 11)}\r\n`
      const req = `${head}${pad}\r\n`
      assert.equal(req.length, size)
      return req
    }
    assert.ok(isAnnounceBody(await exchange(f.http4, make(8192))))
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(make(8193))
      assert.equal(raw(await conn.readResponse()), REPLY_500)
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
  })

  test('a complete request of 9000 bytes → 500', async () => {
    const head = `GET ${ANNOUNCE} HTTP/1.0\r\n`
    const pad = `X-Pad: ${'c'.repeat(9000 - head.length - 11)}\r\n`
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(`${head}${pad}\r\n`)
      assert.equal(raw(await conn.readResponse()), REPLY_500)
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
  })

  test('a 20000-byte request line → 500', async () => {
    const conn = await RawConnection.connect(f.http4)
    try {
      await conn.write(`GET ${ANNOUNCE}&x=${'d'.repeat(20000)} HTTP/1.0\r\n\r\n`)
      assert.equal(raw(await conn.readResponse()), REPLY_500)
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
  })
})
