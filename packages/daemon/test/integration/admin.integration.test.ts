// The admin endpoint (/otd/..., http/admin.ts) through real sockets: who may use it (MAY_ADMIN
// from -A or access.admin, exact addresses, CIDR, IPv6), listing, adding and removing with POST
// bodies and atomic write-back to the list file, checks, reloads, and the error statuses.
// Blessings come from a real config file and flags through parseArgs.

import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { parseArgs } from '../../src/cli-args.js'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { connectFrom, exchangeFrom, httpRequest, jsonBody } from '../helpers/http-from.js'
import type { Endpoint, RawResponse } from '../helpers/http-raw.js'
import { cleanup, startOtd, tempDir, writeWorldFile } from '../helpers/otd-child.js'
import { announce, rawAnnounce, testHash } from '../helpers/tracker-client.js'

const DENIED_BODY = 'd14:failure reason63:Requested download is not authorized for use with this tracker.e'

let hashNo = 64000
const fresh = (): Buffer => testHash(hashNo++)
const hex = (h: Buffer): string => h.toString('hex')

let f: Fixture
let dir: string
let whitePath: string
let blackPath: string
const W0 = fresh()
const B0 = fresh()

/** A blessed IPv4 source (inside access.admin 127.0.0.4/30). */
const ADMIN4 = '127.0.0.5'

before(async () => {
  dir = tempDir('otd-admin-')
  whitePath = writeWorldFile(dir, 'white', `${hex(W0)}\n`)
  blackPath = writeWorldFile(dir, 'black', `${hex(B0)}\n`)
  const conf = writeWorldFile(dir, 'otd.conf', 'access.admin 127.0.0.4/30\naccess.proxy 127.0.0.2\naccess.stats 127.0.0.3\n')
  const r = parseArgs(['-f', conf, '-A', '::1', '-w', whitePath, '-b', blackPath])
  if (r.kind !== 'run') throw new Error(JSON.stringify(r))
  const t = r.settings.tracker
  f = await startTracker({ blessed: t.blessed, whitelistFile: t.whitelistFile, blacklistFile: t.blacklistFile, statsRestricted: t.statsRestricted })
})

after(async () => {
  await f?.close()
  cleanup(dir)
})

function req(from: string | undefined, method: string, target: string, body?: string, ep: Endpoint = f.http4): Promise<RawResponse> {
  return exchangeFrom(ep, from, httpRequest(method, target, body))
}

async function json(from: string | undefined, method: string, target: string, body?: string, ep?: Endpoint): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await req(from, method, target, body, ep)
  return { status: res.status, body: jsonBody(res) }
}

async function whiteEntries(): Promise<string[]> {
  const r = await json(ADMIN4, 'GET', '/otd/access/white')
  assert.equal(r.status, 200)
  return r.body.entries as string[]
}

describe('who may use it', () => {
  for (const [name, from] of [
    ['an unblessed address', '127.0.0.1'],
    ['a proxy-only address (access.proxy)', '127.0.0.2'],
    ['a stats-only address (access.stats)', '127.0.0.3'],
    ['an address just outside the CIDR', '127.0.0.8'],
  ] as const) {
    test(`${name} gets 403 with a JSON error, for reads and writes`, async () => {
      for (const [method, target, body] of [['GET', '/otd/status'], ['GET', '/otd/access/white'], ['POST', '/otd/access/white/add', hex(fresh())]] as const) {
        const res = await req(from, method, target, body)
        assert.equal(res.status, 403, `${method} ${target} from ${from}`)
        assert.match(String(jsonBody(res).error), /may not use the admin endpoint/)
      }
      assert.equal(readFileSync(whitePath, 'latin1'), `${hex(W0)}\n`, 'nothing was written')
    })
  }

  for (const from of ['127.0.0.4', ADMIN4, '127.0.0.7']) {
    test(`access.admin 127.0.0.4/30 admits ${from}`, async () => {
      const r = await json(from, 'GET', '/otd/status')
      assert.equal(r.status, 200)
      assert.equal(r.body.name, 'otd')
      assert.equal(r.body.pid, process.pid)
    })
  }

  test('-A ::1 admits IPv6 loopback', async () => {
    const r = await json(undefined, 'GET', '/otd/access', undefined, f.http6)
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, {
      lists: [{ list: 'white', file: whitePath, entries: 1 }, { list: 'black', file: blackPath, entries: 1 }],
      dynamic: 'white',
    })
  })
})

describe('list, add, remove, check, reload', () => {
  test('GET /otd/access/{white,black} lists the entries; ?format=txt gives the list file format', async () => {
    assert.deepEqual(await whiteEntries(), [hex(W0)])
    const b = await json(ADMIN4, 'GET', '/otd/access/black')
    assert.deepEqual(b.body, { list: 'black', file: blackPath, entries: [hex(B0)] })
    const txt = await req(ADMIN4, 'GET', '/otd/access/white?format=txt')
    assert.equal(txt.status, 200)
    assert.equal(txt.body.toString('latin1'), `${hex(W0)}\n`)
  })

  test('POST add: in memory at once, written to the file atomically, and the hash may be announced', async () => {
    const [a, b, c] = [fresh(), fresh(), fresh()]
    const denied = await rawAnnounce(f.http4, { infoHash: a, port: 8001, left: 1 })
    assert.equal(denied.body.toString('latin1'), DENIED_BODY)
    const r = await json(ADMIN4, 'POST', '/otd/access/white/add', `${hex(a)}\n${hex(b).toUpperCase()}, ${hex(c)}\n${hex(W0)}\n`)
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, { list: 'white', changed: 3, unchanged: 1, entries: 4, persisted: true })
    const expected = [W0, a, b, c].map(hex).sort()
    assert.deepEqual(await whiteEntries(), expected)
    // The file is patched: existing lines stay first, new hashes are appended in request order.
    assert.equal(readFileSync(whitePath, 'latin1'), [W0, a, b, c].map((h) => hex(h) + '\n').join(''), 'the list file holds the new list')
    assert.deepEqual(readdirSync(dir).sort(), ['black', 'otd.conf', 'white'], 'no temporary file is left behind')
    for (const h of [a, b, c]) await announce(f.http4, { infoHash: h, port: 8002 })
  })

  test('POST add with ?info_hash= in the query', async () => {
    const h = fresh()
    const r = await json('::1', 'POST', `/otd/access/white/add?info_hash=${hex(h)}`, '', f.http6)
    assert.equal(r.status, 200)
    assert.equal(r.body.changed, 1)
    assert.ok(readFileSync(whitePath, 'latin1').includes(hex(h)))
    await announce(f.http6, { infoHash: h, port: 8003 })
  })

  test('a body arriving after the head, in a separate segment, is read whole', async () => {
    const h = fresh()
    const body = `${hex(h)}\n`
    const conn = await connectFrom(f.http4, ADMIN4)
    try {
      await conn.write(`POST /otd/access/white/add HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`)
      await conn.write(body.slice(0, 17))
      await conn.write(body.slice(17))
      const res = await conn.readResponse()
      assert.equal(res.status, 200, res.body.toString())
      assert.equal(jsonBody(res).changed, 1)
    } finally {
      conn.destroy()
    }
    await announce(f.http4, { infoHash: h, port: 8004 })
  })

  test('POST remove: the hash is refused again and gone from the file', async () => {
    const h = fresh()
    assert.equal((await json(ADMIN4, 'POST', '/otd/access/white/add', hex(h))).status, 200)
    await announce(f.http4, { infoHash: h, port: 8005 })
    const r = await json(ADMIN4, 'POST', '/otd/access/white/remove', `${hex(h)} ${hex(fresh())}`)
    assert.equal(r.status, 200)
    assert.equal(r.body.changed, 1)
    assert.equal(r.body.unchanged, 1)
    assert.equal(r.body.persisted, true)
    assert.ok(!readFileSync(whitePath, 'latin1').includes(hex(h)))
    assert.ok(!(await whiteEntries()).includes(hex(h)))
    const res = await rawAnnounce(f.http4, { infoHash: h, port: 8006, left: 1 })
    assert.equal(res.body.toString('latin1'), DENIED_BODY)
    assert.deepEqual(readdirSync(dir).sort(), ['black', 'otd.conf', 'white'])
  })

  test('POST add to the deny-list refuses the hash even though it is allowed', async () => {
    const h = fresh()
    await json(ADMIN4, 'POST', '/otd/access/white/add', hex(h))
    await announce(f.http4, { infoHash: h, port: 8007 })
    const r = await json(ADMIN4, 'POST', '/otd/access/black/add', hex(h))
    assert.equal(r.status, 200)
    assert.equal(readFileSync(blackPath, 'latin1'), [B0, h].map(hex).sort().map((x) => x + '\n').join(''))
    const res = await rawAnnounce(f.http4, { infoHash: h, port: 8008, left: 1 })
    assert.equal(res.body.toString('latin1'), DENIED_BODY)
  })

  test('GET /otd/access/check tells whether and why', async () => {
    const unknown = fresh()
    const r = await json(ADMIN4, 'GET', `/otd/access/check?info_hash=${hex(W0)}&info_hash=${hex(B0).toUpperCase()}&info_hash=${hex(unknown)}`)
    assert.equal(r.status, 200)
    assert.deepEqual(r.body.results, [
      { info_hash: hex(W0), allowed: true, whitelisted: true, blacklisted: false, in_memory: false },
      { info_hash: hex(B0), allowed: false, whitelisted: false, blacklisted: true, in_memory: false },
      { info_hash: hex(unknown), allowed: false, whitelisted: false, blacklisted: false, in_memory: false },
    ])
    await announce(f.http4, { infoHash: W0, port: 8009 })
    const again = await json(ADMIN4, 'GET', `/otd/access/check?info_hash=${hex(W0)}`)
    assert.equal((again.body.results as Array<{ in_memory: boolean }>)[0]?.in_memory, true)
  })

  test('POST /otd/reload re-reads the files (as SIGHUP)', async () => {
    const h = fresh()
    const before = readFileSync(whitePath, 'latin1')
    writeFileSync(whitePath, before + `${hex(h)}\n`)
    const r = await json(ADMIN4, 'POST', '/otd/reload')
    assert.equal(r.status, 200)
    const reloaded = r.body.reloaded as Array<{ list: string; ok: boolean; entries: number }>
    assert.deepEqual(reloaded.map((l) => [l.list, l.ok]), [['white', true], ['black', true]])
    assert.equal(reloaded[0]?.entries, before.split('\n').length, 'one entry per line of the old file, plus the new one')
    await announce(f.http4, { infoHash: h, port: 8010 })
  })

  test('POST /otd/reload with a broken file keeps the list and says why', async () => {
    const good = readFileSync(whitePath, 'latin1')
    writeFileSync(whitePath, good + 'broken line\n')
    try {
      const r = await json(ADMIN4, 'POST', '/otd/reload')
      assert.equal(r.status, 200)
      const w = (r.body.reloaded as Array<{ list: string; ok: boolean; error?: string }>)[0]
      assert.equal(w?.ok, false)
      assert.match(w?.error ?? '', /line \d+/)
      await announce(f.http4, { infoHash: W0, port: 8011 })
    } finally {
      writeFileSync(whitePath, good)
    }
  })
})

describe('errors change nothing', () => {
  async function unchanged(fn: () => Promise<void>): Promise<void> {
    const file = readFileSync(whitePath, 'latin1')
    const entries = await whiteEntries()
    await fn()
    assert.equal(readFileSync(whitePath, 'latin1'), file, 'the file is unchanged')
    assert.deepEqual(await whiteEntries(), entries, 'the list is unchanged')
  }

  for (const [name, body] of [
    ['a short hash', 'abc'],
    ['a valid hash next to an invalid one', `${'a1'.repeat(20)} ${'zz'.repeat(20)}`],
    ['41 hex digits', `${'b2'.repeat(20)}c`],
  ]) {
    test(`add with ${name} → 400, nothing changed`, async () => {
      await unchanged(async () => {
        const r = await json(ADMIN4, 'POST', '/otd/access/white/add', body)
        assert.equal(r.status, 400)
        assert.match(String(r.body.error), /not a 40-hex-digit info_hash.*nothing changed/)
      })
      const res = await rawAnnounce(f.http4, { infoHash: Buffer.from('a1'.repeat(20), 'hex'), port: 8020, left: 1 })
      assert.equal(res.body.toString('latin1'), DENIED_BODY)
    })
  }

  test('remove with an invalid hash → 400, nothing removed', async () => {
    await unchanged(async () => {
      const r = await json(ADMIN4, 'POST', '/otd/access/white/remove', `${hex(W0)} nothex`)
      assert.equal(r.status, 400)
    })
    await announce(f.http4, { infoHash: W0, port: 8021 })
  })

  test('an empty body → 400', async () => {
    await unchanged(async () => {
      const r = await json(ADMIN4, 'POST', '/otd/access/white/add', '')
      assert.equal(r.status, 400)
      assert.match(String(r.body.error), /no info_hash/)
    })
  })

  test('check with an invalid hash → 400', async () => {
    const r = await json(ADMIN4, 'GET', '/otd/access/check?info_hash=1234')
    assert.equal(r.status, 400)
  })

  for (const [method, target, body] of [
    ['GET', `/otd/access/white/add?info_hash=${'c3'.repeat(20)}`, undefined],
    ['GET', `/otd/access/white/remove?info_hash=${hex(W0)}`, undefined],
    ['GET', '/otd/reload', undefined],
    ['POST', '/otd/status', ''],
    ['POST', '/otd/access/white', ''],
  ] as const) {
    test(`${method} ${target.split('?')[0]} → 405, nothing changed`, async () => {
      await unchanged(async () => {
        const r = await json(ADMIN4, method, target, body)
        assert.equal(r.status, 405)
        assert.match(String(r.body.error), /needs (GET|POST)/)
      })
    })
  }

  test('unknown list or path → 404', async () => {
    for (const target of ['/otd/access/grey', '/otd/nothing', '/otd/access/white/frobnicate']) {
      const r = await json(ADMIN4, 'GET', target)
      assert.equal(r.status, 404, target)
    }
  })

  test('a list that is not configured → 409', async () => {
    const g = await startTracker({ whitelistFile: whitePath, blessed: [{ net: '127.0.0.1', perms: 16 }] })
    try {
      const r = await json(undefined, 'POST', '/otd/access/black/add', hex(fresh()), g.http4)
      assert.equal(r.status, 409)
      assert.match(String(r.body.error), /no black list is configured/)
    } finally {
      await g.close()
    }
  })

  test('nobody blessed: the endpoint is closed to everyone, loopback included', async () => {
    const g = await startTracker({ whitelistFile: whitePath })
    try {
      const r = await json(undefined, 'GET', '/otd/status', undefined, g.http4)
      assert.equal(r.status, 403)
      const r6 = await json(undefined, 'GET', '/otd/status', undefined, g.http6)
      assert.equal(r6.status, 403)
    } finally {
      await g.close()
    }
  })
})

describe('the real command: dual-stack listener, -A, privilege drop', () => {
  test('an IPv4 admin on the default [::] listener adds a hash: written by the dropped user, kept across a restart', async () => {
    const d = tempDir('otd-admin-bin-')
    try {
      const h = fresh()
      const list = writeWorldFile(d, 'white', `${hex(W0)}\n`)
      const args = ['-i', '::', '-p', '0', '-P', '0', '-A', '127.0.0.2/31', '-A', '::1', '-w', list]
      let otd = await startOtd(args)
      try {
        const port = otd.http[0]?.port ?? 0
        const ep4: Endpoint = { address: '127.0.0.1', port, family: 'IPv4' }
        const ep6: Endpoint = { address: '::1', port, family: 'IPv6' }
        assert.equal((await req('127.0.0.1', 'POST', '/otd/access/white/add', hex(h), ep4)).status, 403, 'v4-mapped 127.0.0.1 is not blessed')
        const denied = await rawAnnounce(ep4, { infoHash: h, port: 8101, left: 1 })
        assert.equal(denied.body.toString('latin1'), DENIED_BODY)
        const r = await json('127.0.0.3', 'POST', '/otd/access/white/add', hex(h), ep4)
        assert.equal(r.status, 200, JSON.stringify(r.body))
        assert.equal(r.body.persisted, true)
        assert.equal(readFileSync(list, 'latin1'), [W0, h].map(hex).map((x) => x + '\n').join(''))
        assert.deepEqual(readdirSync(d), ['white'], 'no temporary file is left behind')
        await announce(ep4, { infoHash: h, port: 8102 })
        await announce(ep6, { infoHash: h, port: 8103 })
        const st = await json(undefined, 'GET', '/otd/status', undefined, ep6)
        assert.equal(st.body.pid, otd.proc.pid)
      } finally {
        await otd.proc.stop()
      }
      otd = await startOtd(args)
      try {
        const ep4: Endpoint = { address: '127.0.0.1', port: otd.http[0]?.port ?? 0, family: 'IPv4' }
        await announce(ep4, { infoHash: h, port: 8104 })
      } finally {
        await otd.proc.stop()
      }
    } finally {
      cleanup(d)
    }
  })
})
