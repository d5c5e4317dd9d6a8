// Black-box HTTP scrape tests (reference §3.6; checklist §13.4), adapted to otd's
// deliberate difference: scrape replies have sorted, de-duplicated keys (opentracker bug 11 fixed).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTracker } from '../helpers/fixture.js'
import type { Fixture } from '../helpers/fixture.js'
import { REPLY_400, exchange, pctAll } from '../helpers/http-raw.js'
import { announce, assertOkFraming, parseScrape, pool, rawAnnounce, scrape, scrapeTarget, testHash } from '../helpers/tracker-client.js'

let f: Fixture
let hashNo = 3000

function freshHash(): Buffer {
  return testHash(hashNo++)
}

before(async () => {
  f = await startTracker()
})

after(async () => {
  await f?.close()
})

function scrapeEntry(h: Buffer, s: number, d: number, l: number): Buffer {
  return Buffer.concat([
    Buffer.from('20:', 'latin1'),
    h,
    Buffer.from(`d8:completei${s}e10:downloadedi${d}e10:incompletei${l}ee`, 'latin1'),
  ])
}

function scrapeBody(entries: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('d5:filesd', 'latin1'), ...entries, Buffer.from('ee', 'latin1')])
}

describe('§13.4 scrape', () => {
  test('36: scrape of an announced torrent → exact body d5:filesd20:<H>d8:completei<S>e10:downloadedi<D>e10:incompletei<L>eeee', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1, left: 0, event: 'completed' })
    await announce(f.http4, { infoHash: h, port: 2 })
    await announce(f.http6, { infoHash: h, port: 3 })
    for (const ep of [f.http4, f.http6]) {
      const res = await exchange(ep, `GET ${scrapeTarget([h])} HTTP/1.0\r\n\r\n`)
      assertOkFraming(res)
      assert.deepEqual(res.body, scrapeBody([scrapeEntry(h, 1, 1, 2)]))
    }
  })

  test('37: scrape of an unknown hash → exactly d5:filesdee', async () => {
    const res = await exchange(f.http4, `GET ${scrapeTarget([freshHash()])} HTTP/1.0\r\n\r\n`)
    assertOkFraming(res)
    assert.equal(res.body.toString('latin1'), 'd5:filesdee')
  })

  test('37: known and unknown mixed, unsorted, with duplicates → only the known ones, sorted and de-duplicated (otd: better than opentracker)', async () => {
    const known = [freshHash(), freshHash(), freshHash()]
    for (const [i, h] of known.entries()) await announce(f.http4, { infoHash: h, port: 100 + i })
    const sorted = [...known].sort(Buffer.compare)
    const [a, b, c] = sorted as [Buffer, Buffer, Buffer]
    const request = [c, freshHash(), a, c, freshHash(), b, a]
    const res = await exchange(f.http4, `GET ${scrapeTarget(request)} HTTP/1.0\r\n\r\n`)
    assertOkFraming(res)
    // parseScrape decodes strictly: unsorted or duplicate keys would be rejected
    const files = parseScrape(res)
    assert.deepEqual([...files.keys()], sorted.map((h) => h.toString('latin1')))
    assert.deepEqual(res.body, scrapeBody(sorted.map((h) => scrapeEntry(h, 0, 0, 1))))
  })

  describe('38: invalid scrape requests → 400', () => {
    for (const [name, target] of [
      ['no info_hash parameter', '/scrape?foo=bar'],
      ['info_hash of 5 bytes', '/scrape?info_hash=short'],
      ['info_hash of 19 bytes', `/scrape?info_hash=${pctAll(Buffer.alloc(19, 7))}`],
      ['info_hash of 21 bytes', `/scrape?info_hash=${pctAll(Buffer.alloc(21, 7))}`],
      ['a valid and an invalid info_hash', `/scrape?info_hash=${pctAll(Buffer.alloc(20, 7))}&info_hash=abc`],
      ['empty info_hash', '/scrape?info_hash='],
      ['info_hash with a bad escape', `/scrape?info_hash=${pctAll(Buffer.alloc(19, 7))}%zz`],
    ] as const) {
      test(`${name} → 400`, async () => {
        const res = await exchange(f.http4, `GET ${target} HTTP/1.0\r\n\r\n`)
        assert.equal(res.raw.toString('latin1'), REPLY_400)
      })
    }
  })

  test('38: scrape ignores other parameters (including an unknown one with %zz)', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1 })
    const res = await exchange(f.http4, `GET /scrape?peer_id=x&info_hash=${pctAll(h)}&foo=%zz&port=abc HTTP/1.0\r\n\r\n`)
    assert.deepEqual(parseScrape(res).get(h.toString('latin1')), { complete: 0, downloaded: 0, incomplete: 1 })
  })

  test('39: 70 known info_hashes → at most 64 entries', async () => {
    const hashes = Array.from({ length: 70 }, () => freshHash())
    await pool(hashes.length, 8, (i) => announce(f.http4, { infoHash: hashes[i] as Buffer, port: 1, numwant: 0 }))
    const res = await exchange(f.http4, `GET ${scrapeTarget(hashes)} HTTP/1.0\r\n\r\n`)
    const files = parseScrape(res)
    assert.equal(files.size, 64)
    const requested = new Set(hashes.map((h) => h.toString('latin1')))
    for (const k of files.keys()) assert.ok(requested.has(k))
    for (const v of files.values()) assert.deepEqual(v, { complete: 0, downloaded: 0, incomplete: 1 })
  })

  test('40: immediately after the only peer stops, the scrape still lists the torrent with zeros', async () => {
    const h = freshHash()
    await announce(f.http4, { infoHash: h, port: 1 })
    await rawAnnounce(f.http4, { infoHash: h, port: 1, event: 'stopped' })
    const files = await scrape(f.http4, [h])
    assert.deepEqual(files.get(h.toString('latin1')), { complete: 0, downloaded: 0, incomplete: 0 })
  })

  test('scrape never creates a torrent', async () => {
    const h = freshHash()
    assert.equal((await scrape(f.http4, [h])).size, 0)
    assert.equal((await scrape(f.http4, [h])).size, 0)
  })

  test('scrape of 64 hashes with some unknown → only known ones (sorted)', async () => {
    const hashes = Array.from({ length: 64 }, () => freshHash())
    const known = hashes.filter((_, i) => i % 3 === 0)
    for (const h of known) await announce(f.http4, { infoHash: h, port: 5, left: 0, numwant: 0 })
    const files = await scrape(f.http4, hashes)
    assert.deepEqual([...files.keys()], [...known].sort(Buffer.compare).map((h) => h.toString('latin1')))
  })
})
