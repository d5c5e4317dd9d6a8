/**
 * Differential property test: parseAnnounceQuery / parseScrapeQuery against a small reference model
 * written straight from opentracker-behaviour.md §3.3–3.4 plus otd's deliberate differences
 * (left decimal-only, compact=0 → dictionary model, no_peer_id known and valueless-allowed) and
 * otd's integer limit (at most 15 digits, port within ±65535).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  AnnounceQuery, EVENT_COMPLETED, EVENT_NONE, EVENT_STARTED, EVENT_STOPPED, QUERY_ERR_PARAM, QUERY_OK,
  ScrapeQuery, parseAnnounceQuery, parseScrapeQuery
} from '../src/index.js'
import { int, mulberry32, pick, randomBytes } from './prng.js'
import type { Rng } from './prng.js'

const NAME_CHARS = new Set<number>()
for (const ch of "-_.!~*'()%+,/;:<>?") NAME_CHARS.add(ch.charCodeAt(0))
for (let c = 48; c <= 57; c++) NAME_CHARS.add(c)
for (let c = 65; c <= 90; c++) NAME_CHARS.add(c)
for (let c = 97; c <= 122; c++) NAME_CHARS.add(c)
const isName = (c: number): boolean => NAME_CHARS.has(c)
const isValue = (c: number): boolean => isName(c) || c === 61 || c === 64
const isFatal = (c: number): boolean => '#"$[\\]^`{|}'.includes(String.fromCharCode(c))

function pctDecode (b: Buffer): Buffer | null {
  const out: number[] = []
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 37) { out.push(b[i]!); continue }
    const h = b.toString('latin1', i + 1, i + 3)
    if (!/^[0-9a-fA-F]{2}$/.test(h)) return null
    out.push(parseInt(h, 16))
    i += 2
  }
  return Buffer.from(out)
}

interface Item { name: string, value: Buffer | null }

/** Splits a query into items following §3.3; returns null for a 400. */
function items (b: Buffer, known: Set<string>): Item[] | null {
  const res: Item[] = []
  let i = 0
  while (i < b.length) {
    if (b[i] === 38) { i++; continue }
    const ns = i
    while (i < b.length && b[i] !== 61 && b[i] !== 38) {
      if (!isName(b[i]!)) return null
      i++
    }
    const decoded = pctDecode(b.subarray(ns, i))
    if (decoded === null) return null
    const name = decoded.toString('latin1')
    const isKnown = known.has(name)
    if (i === b.length || b[i] === 38) {
      if (isKnown) res.push({ name, value: null })
      continue
    }
    i++
    if (!isKnown) {
      while (i < b.length && isValue(b[i]!)) i++
      if (i < b.length) {
        if (isFatal(b[i]!)) return null
        i++
      }
      continue
    }
    const vs = i
    while (i < b.length && b[i] !== 38) {
      if (!isValue(b[i]!)) return null
      i++
    }
    res.push({ name, value: b.subarray(vs, i) })
  }
  return res
}

interface Model {
  hasInfoHash: boolean, infoHash: Buffer | null, hasPeerId: boolean, peerId: Buffer | null, port: number,
  leftIsZero: boolean, event: number, numwant: number, compact: boolean, noPeerId: boolean
}

const ANNOUNCE_NAMES = new Set(['info_hash', 'peer_id', 'port', 'left', 'event', 'numwant', 'compact', 'compact6', 'no_peer_id'])

function integer (v: Buffer): number | null {
  const d = pctDecode(v)
  if (d === null) return null
  const s = d.toString('latin1')
  return /^-?[0-9]{1,15}$/.test(s) ? Number(s) : null
}

function modelAnnounce (b: Buffer): Model | null {
  const list = items(b, ANNOUNCE_NAMES)
  if (list === null) return null
  const m: Model = { hasInfoHash: false, infoHash: null, hasPeerId: false, peerId: null, port: 0, leftIsZero: true, event: EVENT_NONE, numwant: -1, compact: true, noPeerId: false }
  for (const { name, value } of list) {
    if (value === null) {
      if (name === 'no_peer_id') { m.noPeerId = true; continue }
      return null
    }
    switch (name) {
      case 'info_hash': {
        if (m.hasInfoHash) return null
        const d = pctDecode(value)
        if (d === null || d.length !== 20) return null
        m.hasInfoHash = true; m.infoHash = d
        break
      }
      case 'peer_id': {
        const d = pctDecode(value)
        if (d === null || d.length !== 20) return null
        m.hasPeerId = true; m.peerId = d
        break
      }
      case 'port': {
        const n = integer(value)
        if (n === null || n > 65535 || n < -65535) return null
        m.port = (n + 65536) % 65536
        break
      }
      case 'left': {
        const d = pctDecode(value)
        if (d === null) return null
        const s = d.toString('latin1')
        if (!/^-?[0-9]+$/.test(s)) return null
        m.leftIsZero = /^-?0+$/.test(s)
        break
      }
      case 'event': {
        const d = pctDecode(value)
        if (d === null) return null
        const s = d.toString('latin1')
        m.event = s === 'completed' ? EVENT_COMPLETED : s === 'stopped' ? EVENT_STOPPED : s === 'started' ? EVENT_STARTED : EVENT_NONE
        break
      }
      case 'numwant': {
        const n = integer(value)
        if (n === null) return null
        m.numwant = n < 0 ? -1 : n + 0 // +0 for "-0"
        break
      }
      case 'compact': {
        const n = integer(value)
        if (n === null) return null
        m.compact = n !== 0
        break
      }
      case 'compact6': {
        const n = integer(value)
        if (n === null || n === 0) return null
        break
      }
      case 'no_peer_id': {
        const n = integer(value)
        m.noPeerId = n === null || n !== 0
        break
      }
    }
  }
  return m
}

function modelScrape (b: Buffer, max: number): { count: number, seen: number, hashes: Buffer } | null {
  const list = items(b, new Set(['info_hash']))
  if (list === null) return null
  const hashes: Buffer[] = []
  for (const { value } of list) {
    if (value === null) return null
    const d = pctDecode(value)
    if (d === null || d.length !== 20) return null
    hashes.push(d)
  }
  if (hashes.length === 0) return null
  return { count: Math.min(max, hashes.length), seen: hashes.length, hashes: Buffer.concat(hashes.slice(0, max)) }
}

// Generator of query strings that hit the interesting corners.
const KNOWN = [...ANNOUNCE_NAMES]
const UNKNOWN = ['uploaded', 'downloaded', 'key', 'ip', 'x', 'info_hashx', 'Port', 'compact66', 'a+b', "'()*", '<>?', '']

function escapeSome (rng: Rng, s: string): string {
  let o = ''
  for (const ch of s) o += rng() < 0.2 ? '%' + ch.charCodeAt(0).toString(16).padStart(2, '0')[rng() < 0.5 ? 'toUpperCase' : 'toLowerCase']() : ch
  return o
}

function genName (rng: Rng): string {
  const r = rng()
  if (r < 0.6) return pick(rng, KNOWN)
  if (r < 0.75) return escapeSome(rng, pick(rng, KNOWN))
  if (r < 0.9) return pick(rng, UNKNOWN)
  return pick(rng, ['a@b', 'x#', '%zz', 'a%', '\x80', 'a\x01', 'info%5', 'p"', 'q{'])
}

function genValue (rng: Rng, hashy = false): string {
  const r = hashy ? 0.35 + rng() * 0.3 : rng()
  if (r < 0.35) {
    // integers
    let s = ''
    const n = int(rng, 0, rng() < 0.9 ? 6 : 20)
    for (let k = 0; k < n; k++) s += String.fromCharCode(48 + (rng() < 0.3 ? 0 : int(rng, 0, 9)))
    const sign = rng()
    if (sign < 0.2) s = '-' + s
    else if (sign < 0.25) s = '+' + s
    else if (sign < 0.3) s = '%2D' + s
    if (rng() < 0.1) s += pick(rng, ['a', ' ', '.', '-', '%', '%zz', '\x80', '#'])
    return rng() < 0.2 ? escapeSome(rng, s) : s
  }
  if (r < 0.6) {
    // 19..21 byte strings
    const len = pick(rng, [20, 20, 20, 19, 21, 0])
    const bytes = randomBytes(rng, len)
    let s = ''
    for (const byte of bytes) {
      const ch = String.fromCharCode(byte)
      s += byte < 0x80 && isValue(byte) && ch !== '%' && rng() < 0.5 ? ch : '%' + byte.toString(16).padStart(2, '0')
    }
    if (rng() < 0.05) s = s.slice(0, -1)
    return s
  }
  if (r < 0.75) return escapeSome(rng, pick(rng, ['completed', 'stopped', 'started', 'Stopped', 'paused', '', 'stopped ']))
  // arbitrary short junk
  const alphabet = 'az09%=@+-&#"\x80\x01\x7f\xff{}|^`$[]\\:;,/?'
  let s = ''
  const n = int(rng, 0, 6)
  for (let k = 0; k < n; k++) s += alphabet[int(rng, 0, alphabet.length - 1)]
  return s
}

function genQuery (rng: Rng, scrape: boolean): Buffer {
  const parts: string[] = []
  const n = int(rng, 0, scrape ? 5 : 8)
  for (let k = 0; k < n; k++) {
    const hashName = scrape && rng() < 0.7
    const name = hashName ? pick(rng, ['info_hash', 'info%5Fhash', 'info_hash']) : genName(rng)
    const r = rng()
    parts.push(r < 0.05 ? name : r < 0.07 ? '' : `${name}=${genValue(rng, hashName && rng() < 0.95)}`)
  }
  let q = ''
  parts.forEach((p, k) => {
    q += p
    if (k < parts.length - 1) q += rng() < 0.9 ? '&' : pick(rng, ['&&', '\x80', '\x01', ''])
  })
  if (rng() < 0.1) q = '&' + q
  return Buffer.from(q, 'latin1')
}

function same (a: Model, q: AnnounceQuery): string | null {
  if (a.hasInfoHash !== q.hasInfoHash) return 'hasInfoHash'
  if (a.infoHash !== null && !a.infoHash.equals(q.infoHash)) return 'infoHash'
  if (a.hasPeerId !== q.hasPeerId) return 'hasPeerId'
  if (a.peerId !== null && !a.peerId.equals(q.peerId)) return 'peerId'
  if (!Object.is(a.port, q.port)) return `port ${q.port} (model ${a.port})`
  if (a.leftIsZero !== q.leftIsZero) return 'leftIsZero'
  if (a.event !== q.event) return 'event'
  if (!Object.is(a.numwant, q.numwant)) return `numwant ${q.numwant} (model ${a.numwant})`
  if (a.compact !== q.compact) return 'compact'
  if (a.noPeerId !== q.noPeerId) return 'noPeerId'
  return null
}

describe('query parsers agree with the reference model', () => {
  it('announce: 40000 generated queries', () => {
    const rng = mulberry32(0xfeed)
    const q = new AnnounceQuery()
    let ok = 0
    for (let k = 0; k < 40000; k++) {
      const b = genQuery(rng, false)
      const r = parseAnnounceQuery(b, 0, b.length, q)
      assert.ok(r === QUERY_OK || r === QUERY_ERR_PARAM)
      const check = (m: Model | null): string | null => {
        if (m === null) return r === QUERY_ERR_PARAM ? null : 'parser accepted, model rejects'
        if (r !== QUERY_OK) return 'parser rejects, model accepts'
        return same(m, q)
      }
      const diff = check(modelAnnounce(b))
      if (diff !== null) assert.fail(`${diff} for ${JSON.stringify(b.toString('latin1'))}`)
      if (r === QUERY_OK) ok++
    }
    assert.ok(ok > 5000, `only ${ok} accepted queries: the generator is too hostile`)
  })

  it('scrape: 20000 generated queries', () => {
    const rng = mulberry32(0xface)
    let ok = 0
    for (let k = 0; k < 20000; k++) {
      const b = genQuery(rng, true)
      const max = int(rng, 1, 4)
      const q = new ScrapeQuery(max)
      const r = parseScrapeQuery(b, 0, b.length, q)
      const m = modelScrape(b, max)
      const label = JSON.stringify(b.toString('latin1'))
      if (m === null) { assert.equal(r, QUERY_ERR_PARAM, label); continue }
      assert.equal(r, QUERY_OK, label)
      assert.equal(q.count, m.count, label)
      assert.equal(q.seen, m.seen, label)
      assert.deepEqual(q.hashes.subarray(0, q.count * 20), m.hashes, label)
      ok++
    }
    assert.ok(ok > 1500, `only ${ok} accepted scrapes`)
  })
})
