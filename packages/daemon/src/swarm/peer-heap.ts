/**
 * The arena every peer list of one address family lives in: a few large Uint32Array pages cut into
 * blocks by a buddy allocator, instead of one typed array per torrent.
 *
 * Why pages: a typed array costs ~500 bytes of RSS beyond its data in V8 (the JS object, its
 * ArrayBuffer, the BackingStore and the malloc'd block), so with one per torrent a million peers
 * in 100k torrents took ~280 bytes per peer, most of it overhead. In pages a list costs nothing
 * beyond its records: a block handle, a count and an order in the torrent table's columns.
 *
 * Why a buddy allocator: lists grow by doubling, and on a busy tracker many grow at the same pace
 * (a flood of new torrents, or the benchmark's preload). With plain per-size free lists every
 * outgrown block waits for a list of exactly its size, so the small blocks all torrents left behind
 * stayed resident (~29 B per peer). Buddies merge back into larger blocks as soon as both halves
 * are free, so outgrown blocks are reused by the next growth.
 *
 *  - A block of order k holds 2^k records. Pages hold 2^PAGE_ORDER records (about 3 MiB);
 *    a block of order ≥ LARGE_ORDER (one huge swarm) gets an array of its own, dropped when freed.
 *  - Free blocks are on a doubly linked list per order, linked through their first two words, and
 *    marked in a byte per record (order + 1 at a free block's first record) so a release can see
 *    whether its buddy is free in O(1).
 *  - Blocks never move while allocated, and a page is never reallocated, so a page reference
 *    stays valid for as long as the block does. Pages are zero-filled by calloc: untouched parts
 *    cost no RSS.
 *
 * A handle is `page << 20 | word offset`: pages are at most 2^20 words and large blocks start at
 * offset 0, so 4,096 pages (16 GiB) fit in an unsigned 32-bit handle.
 */

export const PAGE_SHIFT = 20
const OFFSET_MASK = (1 << PAGE_SHIFT) - 1
const MAX_PAGES = 4096
/** End of a free list (never a block start: no block is one word long). */
const NIL = 0xffffffff
/** Orders up to 2^26 records (more peers than any swarm has had). */
const MAX_ORDER = 26

/** Records per block of each order (the size classes). */
export const CLASS_RECORDS: readonly number[] = Array.from({ length: MAX_ORDER + 1 }, (_, k) => 2 ** k)

/** The smallest order holding `records` records. */
export function classFor (records: number): number {
  let c = 0
  while (CLASS_RECORDS[c]! < records) c++
  return c
}

export class PeerHeap {
  readonly pages: Array<Uint32Array | null> = []
  /** Per small page: order + 1 at the first record of each free block, 0 elsewhere. */
  private readonly freeMarks: Array<Uint8Array | null> = []
  /** Free list heads (handles) per order below PAGE_ORDER + 1. */
  private readonly heads: number[]
  /** Page indexes returned whole, for reuse. */
  private readonly freePages: number[] = []
  /** Records per small page, as a power of two. */
  readonly pageOrder: number
  /** Orders from this one up get arrays of their own. */
  readonly largeOrder: number
  /** Words in pages (small and large) now allocated from the system. */
  pageWords = 0
  /** Words in blocks handed out. */
  usedWords = 0

  constructor (readonly stride: number) {
    let order = 0
    while ((2 ** (order + 1)) * stride <= 1 << PAGE_SHIFT) order++
    this.pageOrder = order
    this.largeOrder = order - 2
    this.heads = new Array<number>(order + 1).fill(NIL)
  }

  /** Words in one block of order `cls`. */
  blockWords (cls: number): number { return CLASS_RECORDS[cls]! * this.stride }

  /** The page a handle points into. */
  page (handle: number): Uint32Array { return this.pages[handle >>> PAGE_SHIFT]! }

  /** The word offset of a handle in its page. */
  offset (handle: number): number { return handle & OFFSET_MASK }

  alloc (cls: number): number {
    if (cls >= this.largeOrder) {
      const p = this.takePageIndex()
      this.usedWords += this.blockWords(cls)
      const words = this.blockWords(cls)
      this.pages[p] = new Uint32Array(words)
      this.freeMarks[p] = null
      this.pageWords += words
      return (p << PAGE_SHIFT) >>> 0
    }
    let o = cls
    while (o <= this.pageOrder && this.heads[o] === NIL) o++
    if (o > this.pageOrder) { this.newPage(); o = this.pageOrder }
    this.usedWords += this.blockWords(cls)
    const handle = this.heads[o]!
    this.unlink(handle, o)
    const p = handle >>> PAGE_SHIFT
    const marks = this.freeMarks[p]!
    const rec = (handle & OFFSET_MASK) / this.stride
    marks[rec] = 0
    // Split down to the order asked for; the upper halves go on their free lists.
    while (o > cls) {
      o--
      const buddy = rec + (1 << o)
      marks[buddy] = o + 1
      this.push(((p << PAGE_SHIFT) | (buddy * this.stride)) >>> 0, o)
    }
    return handle
  }

  release (handle: number, cls: number): void {
    this.usedWords -= this.blockWords(cls)
    const p = handle >>> PAGE_SHIFT
    if (cls >= this.largeOrder) {
      this.pageWords -= this.pages[p]!.length
      this.pages[p] = null
      this.freePages.push(p)
      return
    }
    const marks = this.freeMarks[p]!
    let rec = (handle & OFFSET_MASK) / this.stride
    let o = cls
    while (o < this.pageOrder) {
      const buddy = rec ^ (1 << o)
      if (marks[buddy] !== o + 1) break
      marks[buddy] = 0
      this.unlink(((p << PAGE_SHIFT) | (buddy * this.stride)) >>> 0, o)
      if (buddy < rec) rec = buddy
      o++
    }
    if (o === this.pageOrder && this.heads[o] !== NIL) {
      // A whole page is free and another free page is on hand: give this one back.
      this.pageWords -= this.pages[p]!.length
      this.pages[p] = null
      this.freeMarks[p] = null
      this.freePages.push(p)
      return
    }
    marks[rec] = o + 1
    this.push(((p << PAGE_SHIFT) | (rec * this.stride)) >>> 0, o)
  }

  private push (handle: number, o: number): void {
    const w = this.page(handle)
    const at = handle & OFFSET_MASK
    const head = this.heads[o]!
    w[at] = head
    w[at + 1] = NIL
    if (head !== NIL) this.page(head)[(head & OFFSET_MASK) + 1] = handle
    this.heads[o] = handle
  }

  private unlink (handle: number, o: number): void {
    const w = this.page(handle)
    const at = handle & OFFSET_MASK
    const next = w[at]!
    const prev = w[at + 1]!
    if (prev === NIL) this.heads[o] = next
    else this.page(prev)[prev & OFFSET_MASK] = next
    if (next !== NIL) this.page(next)[(next & OFFSET_MASK) + 1] = prev
  }

  private newPage (): void {
    const p = this.takePageIndex()
    const words = (2 ** this.pageOrder) * this.stride
    this.pages[p] = new Uint32Array(words)
    const marks = new Uint8Array(2 ** this.pageOrder)
    marks[0] = this.pageOrder + 1
    this.freeMarks[p] = marks
    this.pageWords += words
    this.push((p << PAGE_SHIFT) >>> 0, this.pageOrder)
  }

  private takePageIndex (): number {
    if (this.freePages.length > 0) return this.freePages.pop()!
    if (this.pages.length >= MAX_PAGES) throw new RangeError('peer heap is full (16 GiB)')
    this.pages.push(null)
    this.freeMarks.push(null)
    return this.pages.length - 1
  }
}
