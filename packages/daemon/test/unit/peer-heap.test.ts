// The buddy allocator under every peer list (swarm/peer-heap.ts): deterministic checks of splitting,
// coalescing and page return, and a seeded model test of thousands of random allocs and releases
// that fills every block with its own pattern, so any two blocks that overlap (or a free-list link
// written into a live block) show up as a damaged pattern.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CLASS_RECORDS, PAGE_SHIFT, PeerHeap, classFor } from '../../src/swarm/peer-heap.js'
import { Prng } from '../helpers/prng.js'

const OFFSET_MASK = (1 << PAGE_SHIFT) - 1

interface Block { handle: number, cls: number, tag: number }

/** Word `i` of the block tagged `tag`: unique per (tag, i) in practice, never the free-list NIL. */
const pattern = (tag: number, i: number): number => (Math.imul(tag, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca77)) >>> 1

function fill (heap: PeerHeap, b: Block): void {
  const w = heap.page(b.handle)
  const o = heap.offset(b.handle)
  const n = heap.blockWords(b.cls)
  for (let i = 0; i < n; i++) w[o + i] = pattern(b.tag, i)
}

function assertIntact (heap: PeerHeap, b: Block, what: string): void {
  const w = heap.page(b.handle)
  const o = heap.offset(b.handle)
  const n = heap.blockWords(b.cls)
  for (let i = 0; i < n; i++) {
    if (w[o + i] !== pattern(b.tag, i)) assert.fail(`${what}: block ${b.tag} (order ${b.cls}, handle 0x${b.handle.toString(16)}) word ${i} overwritten`)
  }
}

/** A handle points into a live page, at a record boundary, aligned to its order, with the whole block inside the page. */
function assertHandle (heap: PeerHeap, h: number, cls: number): void {
  assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `handle ${h} is an unsigned 32-bit integer`)
  const p = h >>> PAGE_SHIFT
  const off = h & OFFSET_MASK
  const page = heap.pages[p]
  assert.ok(page !== null && page !== undefined, `page ${p} of handle 0x${h.toString(16)} is live`)
  assert.equal(heap.page(h), page)
  assert.equal(heap.offset(h), off)
  const words = heap.blockWords(cls)
  if (cls >= heap.largeOrder) {
    assert.equal(off, 0, 'a large block starts its own array')
    assert.equal(page.length, words, 'a large block has an array of exactly its size')
  } else {
    assert.equal(page.length, CLASS_RECORDS[heap.pageOrder]! * heap.stride, 'small blocks live in full pages')
    assert.equal(off % heap.stride, 0, 'at a record boundary')
    assert.equal((off / heap.stride) % CLASS_RECORDS[cls]!, 0, `order ${cls} block aligned to its size`)
    assert.ok(off + words <= page.length, 'inside its page')
  }
}

function livePages (heap: PeerHeap): { count: number, words: number } {
  let count = 0
  let words = 0
  for (const p of heap.pages) if (p !== null) { count++; words += p.length }
  return { count, words }
}

/** No two live blocks share a word (checked on intervals, independent of the patterns). */
function assertDisjoint (heap: PeerHeap, live: Iterable<Block>): void {
  const byPage = new Map<number, Array<[number, number, number]>>()
  for (const b of live) {
    const p = b.handle >>> PAGE_SHIFT
    let list = byPage.get(p)
    if (list === undefined) byPage.set(p, list = [])
    list.push([heap.offset(b.handle), heap.offset(b.handle) + heap.blockWords(b.cls), b.tag])
  }
  for (const [p, list] of byPage) {
    list.sort((a, b) => a[0] - b[0])
    for (let i = 1; i < list.length; i++) {
      if (list[i]![0] < list[i - 1]![1]) assert.fail(`page ${p}: blocks ${list[i - 1]![2]} and ${list[i]![2]} overlap`)
    }
  }
}

describe('PeerHeap (buddy allocator)', () => {
  test('geometry: pages of at most 2^20 words, large orders above the page', () => {
    for (const stride of [3, 6]) {
      const heap = new PeerHeap(stride)
      const pageWords = CLASS_RECORDS[heap.pageOrder]! * stride
      assert.ok(pageWords <= 1 << PAGE_SHIFT, 'page offsets fit the handle')
      assert.ok(pageWords * 2 > 1 << PAGE_SHIFT, 'the largest page that fits')
      assert.ok(heap.largeOrder < heap.pageOrder)
      assert.equal(heap.blockWords(0), stride)
      assert.equal(heap.blockWords(5), 32 * stride)
    }
    assert.deepEqual([classFor(0), classFor(1), classFor(2), classFor(3), classFor(4), classFor(5), classFor(1024), classFor(1025)], [0, 0, 1, 2, 2, 3, 10, 11])
  })

  test('splitting and coalescing: buddies merge back, a freed page is returned when another is free', () => {
    for (const stride of [3, 6]) {
      const heap = new PeerHeap(stride)
      const pageWords = CLASS_RECORDS[heap.pageOrder]! * stride
      const big = heap.largeOrder - 1 // the largest order cut from pages: 8 per page
      const perPage = CLASS_RECORDS[heap.pageOrder]! / CLASS_RECORDS[big]!
      assert.equal(perPage, 8)
      const first: number[] = []
      for (let i = 0; i < perPage; i++) first.push(heap.alloc(big))
      assert.equal(livePages(heap).count, 1, 'eight of the largest small blocks fill one page')
      assert.deepEqual(first.map((h) => h >>> PAGE_SHIFT), Array(perPage).fill(first[0]! >>> PAGE_SHIFT))
      assert.deepEqual([...first.map((h) => heap.offset(h))].sort((a, b) => a - b), Array.from({ length: perPage }, (_, i) => i * heap.blockWords(big)))
      const ninth = heap.alloc(big)
      assert.equal(livePages(heap).count, 2)
      assert.notEqual(ninth >>> PAGE_SHIFT, first[0]! >>> PAGE_SHIFT)
      assert.equal(heap.pageWords, 2 * pageWords)
      assert.equal(heap.usedWords, 9 * heap.blockWords(big))
      for (const h of first) heap.release(h, big)
      assert.equal(livePages(heap).count, 2, 'the first page, whole again, is kept: it is the only free one')
      heap.release(ninth, big)
      assert.equal(livePages(heap).count, 1, 'a second free page is given back')
      assert.equal(heap.pageWords, pageWords)
      assert.equal(heap.usedWords, 0)

      // Two buddies freed merge: the next block of twice the size is exactly where they were.
      const a = heap.alloc(3)
      const b = heap.alloc(3)
      assert.equal(heap.offset(b) ^ heap.offset(a), heap.blockWords(3), 'consecutive order-3 blocks are buddies')
      heap.release(a, 3)
      heap.release(b, 3)
      const c = heap.alloc(4)
      assert.equal(c, Math.min(a, b))
      heap.release(c, 4)
      // Everything merged up to the page again: the largest small block is the page's first.
      const d = heap.alloc(big)
      assert.equal(heap.offset(d), 0)
      heap.release(d, big)
      assert.equal(heap.pageWords, pageWords)
    }
  })

  test('large blocks get arrays of their own, dropped when freed; their page slots are reused', () => {
    for (const stride of [3, 6]) {
      const heap = new PeerHeap(stride)
      const l1 = heap.alloc(heap.largeOrder)
      const l2 = heap.alloc(heap.largeOrder + 2)
      assertHandle(heap, l1, heap.largeOrder)
      assertHandle(heap, l2, heap.largeOrder + 2)
      assert.equal(heap.pageWords, heap.blockWords(heap.largeOrder) + heap.blockWords(heap.largeOrder + 2))
      assert.equal(heap.usedWords, heap.pageWords)
      heap.release(l1, heap.largeOrder)
      assert.equal(heap.pages[l1 >>> PAGE_SHIFT], null)
      assert.equal(heap.pageWords, heap.blockWords(heap.largeOrder + 2))
      const small = heap.alloc(0)
      assert.equal(small >>> PAGE_SHIFT, l1 >>> PAGE_SHIFT, 'the freed slot is reused')
      heap.release(l2, heap.largeOrder + 2)
      heap.release(small, 0)
      assert.equal(heap.usedWords, 0)
      assert.equal(heap.pageWords, CLASS_RECORDS[heap.pageOrder]! * stride, 'one (small) page left')
      assert.equal(heap.pages.length, 2)
    }
  })

  for (const stride of [3, 6]) {
    test(`random allocs and releases keep blocks disjoint and the accounting exact (stride ${stride})`, () => {
      const rng = new Prng(0x5eed0000 + stride)
      const heap = new PeerHeap(stride)
      const pageWords = CLASS_RECORDS[heap.pageOrder]! * stride
      const live: Block[] = []
      let tag = 0
      let used = 0
      let maxPages = 0
      let largeLive = 0
      let largeSeen = 0

      const randomOrder = (): number => {
        const r = rng.int(1000)
        if (r < 600) return rng.int(6) // 1-32 records: most torrents
        if (r < 900) return rng.range(6, 10)
        if (r < 985) return rng.range(11, heap.largeOrder - 1)
        return rng.range(heap.largeOrder, heap.largeOrder + 2) // one huge swarm
      }

      const check = (deep: boolean): void => {
        assert.equal(heap.usedWords, used, 'usedWords is the sum of live blocks')
        const pages = livePages(heap)
        assert.equal(heap.pageWords, pages.words, 'pageWords is the sum of live pages')
        assert.ok(heap.usedWords <= heap.pageWords)
        if (pages.count > maxPages) maxPages = pages.count
        assert.equal(heap.pages.length, maxPages, 'page slots are reused before new ones are added')
        if (deep) {
          assertDisjoint(heap, live)
          for (const b of live) assertIntact(heap, b, 'deep check')
        }
      }

      const alloc = (cls: number): void => {
        if (cls >= heap.largeOrder && largeLive >= 3) cls = rng.int(4)
        const b: Block = { handle: heap.alloc(cls), cls, tag: ++tag }
        assertHandle(heap, b.handle, cls)
        fill(heap, b)
        live.push(b)
        used += heap.blockWords(cls)
        if (cls >= heap.largeOrder) { largeLive++; largeSeen++ }
      }

      const release = (i: number): void => {
        const b = live[i]!
        live[i] = live[live.length - 1]!
        live.pop()
        assertIntact(heap, b, 'at release')
        heap.release(b.handle, b.cls)
        used -= heap.blockWords(b.cls)
        if (b.cls >= heap.largeOrder) largeLive--
      }

      for (let round = 0; round < 3; round++) {
        // Grow to a few thousand blocks with churn, then shrink back to almost nothing.
        for (let step = 0; step < 4000; step++) {
          const growing = step < 2500
          if (live.length === 0 || rng.chance(growing ? 0.65 : 0.25)) alloc(randomOrder())
          else release(rng.int(live.length))
          check(step % 500 === 0)
          // Bursts of one size: lists that grow together (a flood of new torrents).
          if (rng.chance(0.01)) {
            const cls = rng.int(8)
            for (let k = 0; k < 200; k++) alloc(cls)
            check(false)
          }
        }
        check(true)
      }
      assert.ok(tag > 10_000, `${tag} blocks allocated`)
      assert.ok(largeSeen > 0, 'large blocks were exercised')

      // Release everything in random order: every pattern intact, and the buddies merge back into one page.
      while (live.length > 0) {
        release(rng.int(live.length))
        if (live.length % 256 === 0) check(false)
      }
      check(true)
      assert.equal(heap.usedWords, 0)
      assert.equal(heap.pageWords, pageWords, 'everything coalesced: one page is kept, the rest were given back')
      assert.equal(livePages(heap).count, 1)

      // The heap is whole again: the page's largest blocks can all be handed out from it.
      const big = heap.largeOrder - 1
      for (let i = 0; i < 8; i++) alloc(big)
      assert.equal(livePages(heap).count, 1, 'no fragment left over from before')
      check(true)
      while (live.length > 0) release(live.length - 1)
      check(true)
      assert.equal(heap.pageWords, pageWords)
    })
  }
})
