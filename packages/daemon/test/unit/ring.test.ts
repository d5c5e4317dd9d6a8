// The shared-memory ring between workers (src/workers/ring.ts), in one thread: messages come out
// whole and in order across wrap-arounds, a full ring refuses instead of overwriting, and space
// comes back as the reader reads.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RING_HEADER_BYTES, RingReader, RingShared, RingWriter } from '../../src/workers/ring.js'

function drain (r: RingReader): Array<[number, number, string]> {
  const out: Array<[number, number, string]> = []
  r.poll((kind, aux, buf, start, end) => { out.push([kind, aux, buf.toString('latin1', start, end)]) }, 1 << 30)
  return out
}

function put (w: RingWriter, kind: number, text: string, aux = 0): boolean {
  const o = w.reserve(text.length)
  if (o < 0) return false
  w.buf.write(text, o, 'latin1')
  w.commit(kind, text.length, aux)
  return true
}

test('messages come out in order with their kind, aux and bytes, across many wrap-arounds', () => {
  const ring = new RingShared(4096)
  const w = new RingWriter(ring.sab)
  const r = new RingReader(ring.sab)
  let sent = 0
  let got = 0
  for (let round = 0; round < 200; round++) {
    const batch: string[] = []
    for (let i = 0; i < 7; i++) {
      const text = `m${sent}-`.padEnd(1 + ((sent * 37) % 300), 'x')
      if (!put(w, 1 + (sent % 5), text, sent & 0xffff)) break
      batch.push(text)
      sent++
    }
    const out = drain(r)
    assert.deepEqual(out.map((m) => m[2]), batch)
    out.forEach((m, i) => {
      assert.equal(m[0], 1 + ((got + i) % 5))
      assert.equal(m[1], (got + i) & 0xffff)
    })
    got += out.length
  }
  assert.equal(got, sent)
  assert.ok(sent > 1000, 'the ring wrapped around many times')
  assert.ok(w.empty)
  assert.equal(r.pending, false)
})

test('a full ring refuses new messages, and takes them again once the reader has read', () => {
  const ring = new RingShared(4096)
  const w = new RingWriter(ring.sab)
  const r = new RingReader(ring.sab)
  const text = 'y'.repeat(500)
  let n = 0
  while (put(w, 2, text)) n++
  assert.equal(n, Math.floor(4096 / ((RING_HEADER_BYTES + 500 + 7) & ~7)))
  assert.equal(w.empty, false)
  assert.equal(drain(r).length, n)
  assert.ok(put(w, 2, text))
  assert.equal(drain(r).length, 1)
})

test('a message larger than a quarter of the ring is refused (it goes over the control path)', () => {
  const ring = new RingShared(4096)
  const w = new RingWriter(ring.sab)
  assert.equal(w.reserve(1024), -1)
  assert.ok(w.reserve(1024 - RING_HEADER_BYTES) >= 0)
})

test('a reader handles at most its budget per poll and keeps the rest', () => {
  const ring = new RingShared(4096)
  const w = new RingWriter(ring.sab)
  const r = new RingReader(ring.sab)
  for (let i = 0; i < 10; i++) assert.ok(put(w, 3, `k${i}`))
  const seen: string[] = []
  assert.equal(r.poll((_k, _a, b, s, e) => { seen.push(b.toString('latin1', s, e)) }, 4), 4)
  assert.equal(r.pending, true)
  assert.equal(r.poll((_k, _a, b, s, e) => { seen.push(b.toString('latin1', s, e)) }, 100), 6)
  assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => `k${i}`))
})
