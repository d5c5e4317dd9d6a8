// Closed and half-closed trackers through real sockets (reference §8, checklist §13.8 items 63-66):
// allow-list, deny-list and both at once; the refusal over HTTP (failure reason) and UDP (BEP 15
// error packet, not opentracker's bare 8 bytes); stopped events and scrapes unchecked; SIGHUP
// reloads of a spawned otd; missing/malformed files at start-up and on reload; the FIFOs.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { appendFileSync, lstatSync, renameSync, writeFileSync } from 'node:fs'
import { open, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { asDict, decodeStrict, getInt } from '../helpers/bencode-strict.js'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { exchange, pctAll } from '../helpers/http-raw.js'
import type { Endpoint } from '../helpers/http-raw.js'
import { cleanup, runOtd, spawnOtd, startOtd, tempDir, writeWorldFile } from '../helpers/otd-child.js'
import type { RunningOtd } from '../helpers/otd-child.js'
import { announce, assertIntervals, assertOkFraming, rawAnnounce, scrape, testHash } from '../helpers/tracker-client.js'
import { ACTION_ERROR, EVENT_STOPPED, UdpClient, announcePacket, freshTxid, parseAnnounceReply } from '../helpers/udp-raw.js'

const DENIED_BODY = 'd14:failure reason63:Requested download is not authorized for use with this tracker.e'
const DENIED_TEXT = 'Requested download is not authorized for use with this tracker.'

let hashNo = 63000
function freshHash(): Buffer {
  return testHash(hashNo++)
}
const hex = (h: Buffer): string => h.toString('hex')

const dirs: string[] = []
after(() => {
  for (const d of dirs) cleanup(d)
})
function dir(): string {
  const d = tempDir('otd-acl-')
  dirs.push(d)
  return d
}

/** The exact HTTP refusal: 200, normal framing, the failure reason body. */
async function assertDeniedHttp(ep: Endpoint, h: Buffer, port = 6881): Promise<void> {
  const res = await rawAnnounce(ep, { infoHash: h, port, left: 1000 })
  assert.equal(res.status, 200)
  assertOkFraming(res)
  assert.equal(res.body.toString('latin1'), DENIED_BODY, `announce of ${hex(h)} must be refused`)
}

/** The exact UDP refusal: action 3, the request's transaction id, the text (BEP 15 error). */
async function assertDeniedUdp(ep: Endpoint, h: Buffer): Promise<void> {
  const c = await UdpClient.open(ep)
  try {
    const connId = await c.connect()
    const txid = freshTxid()
    const reply = await c.request(announcePacket({ connId, txid, infoHash: h, port: 6881 }))
    const expected = Buffer.alloc(8)
    expected.writeUInt32BE(ACTION_ERROR, 0)
    expected.writeUInt32BE(txid, 4)
    assert.deepEqual(reply, Buffer.concat([expected, Buffer.from(DENIED_TEXT, 'latin1')]), `UDP announce of ${hex(h)} must be refused`)
  } finally {
    c.close()
  }
}

async function udpAnnounceOk(ep: Endpoint, h: Buffer, port = 6881): Promise<void> {
  const c = await UdpClient.open(ep)
  try {
    const r = await c.announce({ infoHash: h, port })
    assert.ok(r.interval > 0)
  } finally {
    c.close()
  }
}

describe('allow-list, deny-list and both (in-process)', () => {
  const W1 = freshHash() // white only
  const WB = freshHash() // white and black
  const B1 = freshHash() // black only
  const N = freshHash() // neither
  let white: Fixture
  let black: Fixture
  let both: Fixture

  before(async () => {
    const d = dir()
    const w = writeWorldFile(d, 'white', `${hex(W1)}\n${hex(WB)}\n`)
    const b = writeWorldFile(d, 'black', `${hex(WB)}\n${hex(B1)}\n`)
    white = await startTracker({ whitelistFile: w })
    black = await startTracker({ blacklistFile: b })
    both = await startTracker({ whitelistFile: w, blacklistFile: b })
  })
  after(async () => {
    await Promise.all([white?.close(), black?.close(), both?.close()])
  })

  test('whitelist: listed hashes announce over HTTP and UDP, others are refused', async () => {
    await announce(white.http4, { infoHash: W1, port: 7001 })
    await announce(white.http6, { infoHash: WB, port: 7001 })
    await udpAnnounceOk(white.udp4, W1)
    await assertDeniedHttp(white.http4, N)
    await assertDeniedHttp(white.http6, B1)
    await assertDeniedUdp(white.udp4, N)
    await assertDeniedUdp(white.udp6, B1)
  })

  test('blacklist: listed hashes are refused, others announce', async () => {
    await announce(black.http4, { infoHash: N, port: 7002 })
    await announce(black.http4, { infoHash: W1, port: 7002 })
    await udpAnnounceOk(black.udp6, N)
    await assertDeniedHttp(black.http4, B1)
    await assertDeniedHttp(black.http4, WB)
    await assertDeniedUdp(black.udp4, B1)
  })

  test('both lists at once: on the allow-list and not on the deny-list (deny wins)', async () => {
    await announce(both.http4, { infoHash: W1, port: 7003 })
    await udpAnnounceOk(both.udp4, W1)
    for (const h of [WB, B1, N]) {
      await assertDeniedHttp(both.http4, h)
      await assertDeniedUdp(both.udp4, h)
    }
    const s = await scrape(both.http4, [W1, WB, B1, N])
    assert.deepEqual([...s.keys()], [W1.toString('latin1')], 'only the allowed hash was ever stored')
  })

  test('refusals create nothing: a refused hash scrapes empty', async () => {
    const res = await exchange(white.http4, `GET /scrape?info_hash=${pctAll(N)} HTTP/1.0\r\n\r\n`)
    assert.equal(res.body.toString('latin1'), 'd5:filesdee')
  })

  test('§8.2: stopped events are not checked (normal stopped reply over HTTP and UDP)', async () => {
    const res = await rawAnnounce(white.http4, { infoHash: N, port: 7004, left: 0, event: 'stopped' })
    assertOkFraming(res)
    const d = asDict(decodeStrict(res.body), 'stopped reply')
    assert.ok(!d.has('failure reason'), res.body.toString('latin1'))
    assertIntervals(d)
    assert.equal(getInt(d, 'complete'), 0)

    const c = await UdpClient.open(white.udp4)
    try {
      const connId = await c.connect()
      const txid = freshTxid()
      const reply = await c.request(announcePacket({ connId, txid, infoHash: N, port: 7004, event: EVENT_STOPPED }))
      const r = parseAnnounceReply(reply, 'IPv4')
      assert.equal(r.txid, txid)
      assert.deepEqual([r.seeders, r.leechers, r.peers], [0, 0, []])
    } finally {
      c.close()
    }
  })

  test('§8.2: scrapes are not checked (a stored hash scrapes even after it is refused)', async () => {
    // Deny-list tracker: N is allowed now, stored, then denied by a reload; the scrape still shows it.
    const d = dir()
    const b = writeWorldFile(d, 'black', '')
    const f = await startTracker({ blacklistFile: b })
    try {
      const h = freshHash()
      await announce(f.http4, { infoHash: h, port: 7005, left: 0 })
      writeFileSync(b, `${hex(h)}\n`)
      const [r] = await f.tracker.reload()
      assert.equal(r?.ok, true)
      await assertDeniedHttp(f.http4, h, 7006)
      const s = await scrape(f.http4, [h])
      assert.deepEqual(s.get(h.toString('latin1')), { complete: 1, downloaded: 0, incomplete: 0 })
      const c = await UdpClient.open(f.udp4)
      try {
        assert.deepEqual(await c.scrape([h]), [{ seeders: 1, completed: 0, leechers: 0 }])
      } finally {
        c.close()
      }
    } finally {
      await f.close()
    }
  })
})

describe('checklist 63: the list file format', () => {
  test('hash lines, hash + junk, comments, blank lines, upper case and a last line without newline', async () => {
    const [a, b, c, d, unlisted] = [freshHash(), freshHash(), freshHash(), freshHash(), freshHash()]
    const text = `# my torrents\n${hex(a)}\n${hex(b)} some junk after a blank\n\n${hex(c).toUpperCase()}\t# upper case\n${hex(d)}`
    const f = await startTracker({ whitelistFile: writeWorldFile(dir(), 'white', text) })
    try {
      for (const h of [a, b, c, d]) await announce(f.http4, { infoHash: h, port: 7010 })
      await assertDeniedHttp(f.http4, unlisted)
    } finally {
      await f.close()
    }
  })

  test('an 80-hex-digit run-on line: otd refuses the file at start-up, naming file and line (opentracker skips the line)', async () => {
    const [a, b, c] = [freshHash(), freshHash(), freshHash()]
    const path = writeWorldFile(dir(), 'white', `${hex(a)}\n${hex(b)}${hex(c)}\n`)
    await assert.rejects(startTracker({ whitelistFile: path }), (err: Error) => {
      assert.ok(err.message.includes(path), err.message)
      assert.match(err.message, /line 2/)
      return true
    })
  })
})

describe('a spawned otd: start-up errors', () => {
  test('a missing list file is a fatal configuration error naming the file', async () => {
    const path = join(dir(), 'no-such-white')
    const r = await runOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-w', path])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /^otd: /m)
    assert.ok(r.stderr.includes(path) && r.stderr.includes('ENOENT'), r.stderr)
  })

  test('a malformed list file is a fatal configuration error naming the file and line', async () => {
    const path = writeWorldFile(dir(), 'black', `${hex(freshHash())}\nthis is not a hash\n`)
    const r = await runOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-b', path])
    assert.equal(r.code, 1, r.stderr)
    assert.ok(r.stderr.includes(path), r.stderr)
    assert.match(r.stderr, /line 2/)
  })
})

describe('a spawned otd: SIGHUP (checklist 66)', () => {
  let otd: RunningOtd
  let listPath: string
  const listed = freshHash()
  const added = freshHash()
  let http: Endpoint
  let udp: Endpoint

  before(async () => {
    listPath = writeWorldFile(dir(), 'white', `${hex(listed)}\n`)
    otd = await startOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-w', listPath])
    http = otd.http[0] as Endpoint
    udp = otd.udp[0] as Endpoint
  })
  after(async () => {
    await otd?.proc.stop()
  })

  async function hup(): Promise<string> {
    const from = otd.proc.logs.length
    otd.proc.signal('SIGHUP')
    const line = await otd.proc.waitLog(/^access lists reloaded: /, from)
    return line.msg
  }

  test('append a hash and SIGHUP: announces for it succeed', async () => {
    await announce(http, { infoHash: listed, port: 7020 })
    await assertDeniedHttp(http, added)
    await assertDeniedUdp(udp, added)
    appendFileSync(listPath, `${hex(added)}\n`)
    assert.match(await hup(), /white 2 entries/)
    await announce(http, { infoHash: added, port: 7021 })
    await udpAnnounceOk(udp, added, 7022)
  })

  test('remove it and SIGHUP: new announces fail, the torrent stays scrapable', async () => {
    writeFileSync(listPath, `${hex(listed)}\n`)
    assert.match(await hup(), /white 1 entries/)
    await assertDeniedHttp(http, added, 7023)
    await assertDeniedUdp(udp, added)
    const s = await scrape(http, [added])
    assert.deepEqual(s.get(added.toString('latin1')), { complete: 0, downloaded: 0, incomplete: 2 })
  })

  test('a missing file on reload keeps the previous list and logs why', async () => {
    renameSync(listPath, listPath + '.moved')
    const from = otd.proc.logs.length
    assert.match(await hup(), /white kept \(cannot read .*ENOENT\)/)
    const err = otd.proc.logs.slice(from).find((l) => l.level === 50)
    assert.ok(err !== undefined && err.msg.includes(listPath) && /ENOENT/.test(err.msg) && /keeping the previous white list/.test(err.msg),
      JSON.stringify(otd.proc.logs.slice(from)))
    await announce(http, { infoHash: listed, port: 7024 })
    await assertDeniedHttp(http, added)
    renameSync(listPath + '.moved', listPath)
  })

  test('a malformed file on reload keeps the previous list and logs the line', async () => {
    writeFileSync(listPath, `${hex(added)}\n${hex(listed).slice(0, 30)}\n`)
    const from = otd.proc.logs.length
    assert.match(await hup(), /white kept/)
    const err = otd.proc.logs.slice(from).find((l) => l.level === 50)
    assert.ok(err !== undefined && err.msg.includes(listPath) && /line 2/.test(err.msg), JSON.stringify(otd.proc.logs.slice(from)))
    await announce(http, { infoHash: listed, port: 7025 })
    await assertDeniedHttp(http, added)
    // Fixed file: the next SIGHUP takes it.
    writeFileSync(listPath, `${hex(added)}\n`)
    assert.match(await hup(), /white 1 entries/)
    await announce(http, { infoHash: added, port: 7026 })
    await assertDeniedHttp(http, listed)
  })

  test('the tracker still runs after every reload', () => {
    assert.equal(otd.proc.exit, undefined)
  })
})

describe('a spawned otd: SIGHUP during start-up', () => {
  test('does not kill the daemon; the reload happens once start-up is done', async () => {
    // The whitelist is a FIFO so that start-up is held while it is being read: our open for
    // writing returns exactly when otd is reading it.
    const d = dir()
    const list = join(d, 'white')
    execFileSync('mkfifo', ['-m', '0666', list])
    const h = freshHash()
    const proc = spawnOtd(['-i', '127.0.0.1', '-p', '0', '-P', '0', '-w', list])
    try {
      const fh = await open(list, 'w')
      try {
        proc.signal('SIGHUP')
        await proc.waitFor(() => proc.exit !== undefined || proc.logs.some((l) => /^SIGHUP during start-up/.test(l.msg)), 'the SIGHUP to be handled')
        assert.equal(proc.exit, undefined, `otd died of the SIGHUP: ${JSON.stringify(proc.exit)}`)
        await fh.writeFile(`${hex(h)}\n`)
      } finally {
        await fh.close()
      }
      const line = await proc.waitLog(/ listening: /)
      const http = (line.http as Endpoint[])[0] as Endpoint
      await announce({ address: http.address, port: http.port, family: 'IPv4' }, { infoHash: h, port: 7040 })
      // The replayed reload reads the FIFO again: feed it, then the reload completes.
      const fh2 = await open(list, 'w')
      await fh2.writeFile(`${hex(h)}\n`)
      await fh2.close()
      assert.match((await proc.waitLog(/^access lists reloaded: /)).msg, /white 1 entries/)
    } finally {
      await proc.stop()
    }
  })
})

describe('a spawned otd: FIFOs from a -f config file (reference §8.3)', () => {
  let otd: RunningOtd
  let http: Endpoint
  let addFifo: string
  let delFifo: string
  const inFile = freshHash()
  const viaFifo = freshHash()
  const runOn1 = freshHash()
  const runOn2 = freshHash()
  const marker = freshHash()
  const marker2 = freshHash()

  before(async () => {
    const d = dir()
    addFifo = join(d, 'add')
    delFifo = join(d, 'delete')
    const white = writeWorldFile(d, 'white', `${hex(inFile)}\n`)
    const conf = writeWorldFile(d, 'otd.conf',
      `listen.tcp 127.0.0.1:0\nlisten.udp 127.0.0.1:0\naccess.whitelist ${white}\naccess.fifo_add ${addFifo}\naccess.fifo_delete ${delFifo}\n`)
    otd = await startOtd(['-f', conf])
    http = otd.http[0] as Endpoint
  })
  after(async () => {
    await otd?.proc.stop()
  })

  /** Polls until an announce of `h` succeeds (FIFO lines apply asynchronously). */
  async function untilAllowed(h: Buffer, deadlineMs = 5000): Promise<void> {
    const end = Date.now() + deadlineMs
    for (;;) {
      const res = await rawAnnounce(http, { infoHash: h, port: 7030, left: 1000 })
      if (!res.body.toString('latin1').includes('failure reason')) return
      if (Date.now() > end) assert.fail(`${hex(h)} was never allowed`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  async function untilDenied(h: Buffer, deadlineMs = 5000): Promise<void> {
    const end = Date.now() + deadlineMs
    for (;;) {
      const res = await rawAnnounce(http, { infoHash: h, port: 7031, left: 1000 })
      if (res.body.toString('latin1') === DENIED_BODY) return
      if (Date.now() > end) assert.fail(`${hex(h)} was never denied`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  test('missing FIFOs are created', () => {
    assert.ok(lstatSync(addFifo).isFIFO())
    assert.ok(lstatSync(delFifo).isFIFO())
  })

  test('a line written to the add FIFO allows that hash', async () => {
    await assertDeniedHttp(http, viaFifo)
    await writeFile(addFifo, `${hex(viaFifo)}\n`)
    await untilAllowed(viaFifo)
  })

  test('garbage lines are ignored (an 80-hex-digit line adds neither hash) and logged', async () => {
    const from = otd.proc.logs.length
    await writeFile(addFifo, `garbage\n${hex(runOn1)}${hex(runOn2)}\n${hex(marker).slice(0, 39)}\n${hex(marker)} comment\n`)
    await untilAllowed(marker) // written after the garbage: once it applies, the garbage was read
    await assertDeniedHttp(http, runOn1)
    await assertDeniedHttp(http, runOn2)
    assert.equal(otd.proc.logs.slice(from).filter((l) => /ignored a line/.test(l.msg)).length, 3)
  })

  test('the delete FIFO removes hashes, a file-listed one included (V2024 bug not reproduced)', async () => {
    await announce(http, { infoHash: inFile, port: 7032 })
    await writeFile(delFifo, `${hex(inFile)}\n${hex(viaFifo)}\n`)
    await untilDenied(viaFifo)
    await assertDeniedHttp(http, inFile)
  })

  test('a hash added after being deleted is allowed again (the last line wins)', async () => {
    await writeFile(delFifo, `${hex(marker2)}\n`)
    await writeFile(addFifo, `${hex(marker2)}\n`)
    await untilAllowed(marker2)
  })

  test('SIGHUP empties the dynamic changes: the file list applies again', async () => {
    const from = otd.proc.logs.length
    otd.proc.signal('SIGHUP')
    await otd.proc.waitLog(/^access lists reloaded: white 1 entries/, from)
    await announce(http, { infoHash: inFile, port: 7033 })
    await assertDeniedHttp(http, marker2)
  })

  test('a regular file at a FIFO path is a start-up error', async () => {
    const d = dir()
    const white = writeWorldFile(d, 'white', '')
    const notFifo = writeWorldFile(d, 'add', 'just a file\n')
    const conf = writeWorldFile(d, 'otd.conf', `listen.tcp 127.0.0.1:0\naccess.whitelist ${white}\naccess.fifo_add ${notFifo}\n`)
    const r = await runOtd(['-f', conf])
    assert.equal(r.code, 1, r.stderr)
    assert.ok(r.stderr.includes(`${notFifo} exists and is not a FIFO`), r.stderr)
  })

  test('a FIFO without an access list is a start-up error', async () => {
    const d = dir()
    const conf = writeWorldFile(d, 'otd.conf', `listen.tcp 127.0.0.1:0\naccess.fifo_delete ${join(d, 'del')}\n`)
    const r = await runOtd(['-f', conf])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /access\.fifo_delete needs an access list/)
  })
})
