// limits/rate-limit.ts: per-address token buckets (GCRA) in a fixed table, and their config keys.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { resolveOptions } from '../../src/config.js'
import {
  KIND_ANNOUNCE, KIND_FULLSCRAPE, KIND_SCRAPE, PROBE_SLOTS, RateLimiter, perSecond, type RateLimit
} from '../../src/limits/rate-limit.js'
import { applyConfigText, formatSettings, newSettings } from '../../src/settings.js'

const NOW = 1_700_000_000
const NONE: RateLimit = perSecond(0, 1)
const ip4 = (n: number): Uint32Array => new Uint32Array([(0x0a000000 + n) >>> 0])
const ip6 = (a: number, b: number, c: number, d: number): Uint32Array => new Uint32Array([a, b, c, d])

function limiter (o: { announce?: RateLimit, scrape?: RateLimit, fullScrape?: RateLimit, slots?: number, prefix?: number } = {}): RateLimiter {
  return new RateLimiter({
    announce: o.announce ?? NONE,
    scrape: o.scrape ?? NONE,
    fullScrape: o.fullScrape ?? NONE,
    slots: o.slots ?? 1024,
    ipv6PrefixBits: o.prefix ?? 64
  })
}

/** How many of `n` requests at `now` are allowed. */
function allowed (l: RateLimiter, kind: number, family: number, ip: Uint32Array, now: number, n: number): number {
  let ok = 0
  for (let i = 0; i < n; i++) if (l.take(kind, family, ip, now) === 0) ok++
  return ok
}

describe('token buckets', () => {
  test('a kind without a rate is never limited and touches no slot', () => {
    const l = limiter()
    assert.equal(l.limits(KIND_ANNOUNCE), false)
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, ip4(1), NOW, 10_000), 10_000)
    assert.equal(l.liveEntries(NOW - 1), 0)
  })

  test('the burst is allowed at once, then the rate per second, and the wait says when', () => {
    const l = limiter({ announce: perSecond(10, 20) })
    const a = ip4(1)
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, a, NOW, 50), 20)
    assert.equal(l.take(KIND_ANNOUNCE, 4, a, NOW), 1)
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, a, NOW + 1, 50), 10)
    // A steady flood gets exactly the rate, second after second.
    for (let s = 2; s < 60; s++) assert.equal(allowed(l, KIND_ANNOUNCE, 4, a, NOW + s, 1000), 10)
    // Idle time refills up to the burst, not beyond.
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, a, NOW + 3600, 1000), 20)
  })

  test('a client at the rate is never limited; one twice as fast gets half through', () => {
    const l = limiter({ announce: perSecond(5, 5) })
    for (let s = 0; s < 600; s++) assert.equal(allowed(l, KIND_ANNOUNCE, 4, ip4(1), NOW + s, 5), 5)
    let through = 0
    for (let s = 0; s < 600; s++) through += allowed(l, KIND_ANNOUNCE, 4, ip4(2), NOW + s, 10)
    assert.equal(through, 5 * 600)
  })

  test('fractional rates: 0.5/s with burst 1 allows one request every other second', () => {
    const l = limiter({ scrape: perSecond(0.5, 1) })
    const a = ip4(1)
    assert.equal(l.take(KIND_SCRAPE, 4, a, NOW), 0)
    assert.equal(l.take(KIND_SCRAPE, 4, a, NOW + 1), 1)
    assert.equal(l.take(KIND_SCRAPE, 4, a, NOW + 2), 0)
    assert.equal(l.take(KIND_SCRAPE, 4, a, NOW + 2), 2)
  })

  test('one full scrape per 300 s: exact Retry-After, and a burst of 3 allows three at once', () => {
    const l = limiter({ fullScrape: { secondsPerRequest: 300, burst: 3 } })
    const a = ip4(1)
    assert.equal(allowed(l, KIND_FULLSCRAPE, 4, a, NOW, 10), 3)
    assert.equal(l.take(KIND_FULLSCRAPE, 4, a, NOW), 300)
    assert.equal(l.take(KIND_FULLSCRAPE, 4, a, NOW + 299), 1)
    assert.equal(l.take(KIND_FULLSCRAPE, 4, a, NOW + 300), 0)
    assert.equal(l.take(KIND_FULLSCRAPE, 4, a, NOW + 300), 300)
  })

  test('kinds have separate buckets: a spent announce bucket leaves scrapes alone', () => {
    const l = limiter({ announce: perSecond(1, 1), scrape: perSecond(1, 2) })
    const a = ip4(1)
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, a, NOW, 5), 1)
    assert.equal(allowed(l, KIND_SCRAPE, 4, a, NOW, 5), 2)
    assert.equal(allowed(l, KIND_FULLSCRAPE, 4, a, NOW, 5), 5, 'no full-scrape limit configured')
  })
})

describe('addresses', () => {
  test('each IPv4 address has its own bucket', () => {
    const l = limiter({ announce: perSecond(1, 3) })
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, ip4(1), NOW, 10), 3)
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, ip4(2), NOW, 10), 3)
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, ip4(1), NOW, 10), 0)
  })

  test('IPv6 addresses share a bucket per /64 by default, and per address with a /128 prefix', () => {
    const l = limiter({ announce: perSecond(1, 3) })
    assert.equal(allowed(l, KIND_ANNOUNCE, 6, ip6(0x20010db8, 1, 0, 1), NOW, 2), 2)
    assert.equal(allowed(l, KIND_ANNOUNCE, 6, ip6(0x20010db8, 1, 0xdead, 0xbeef), NOW, 10), 1, 'same /64')
    assert.equal(allowed(l, KIND_ANNOUNCE, 6, ip6(0x20010db8, 2, 0, 1), NOW, 10), 3, 'another /64')
    const exact = limiter({ announce: perSecond(1, 3), prefix: 128 })
    assert.equal(allowed(exact, KIND_ANNOUNCE, 6, ip6(0x20010db8, 1, 0, 1), NOW, 10), 3)
    assert.equal(allowed(exact, KIND_ANNOUNCE, 6, ip6(0x20010db8, 1, 0, 2), NOW, 10), 3)
    const p48 = limiter({ announce: perSecond(1, 3), prefix: 48 })
    assert.equal(allowed(p48, KIND_ANNOUNCE, 6, ip6(0x20010db8, 0x00010000, 0, 1), NOW, 10), 3)
    assert.equal(allowed(p48, KIND_ANNOUNCE, 6, ip6(0x20010db8, 0x0001ffff, 7, 1), NOW, 10), 0, 'same /48')
  })

  test('an IPv4 address and an IPv6 address with the same low word are different keys', () => {
    const l = limiter({ announce: perSecond(1, 1), prefix: 128 })
    assert.equal(l.take(KIND_ANNOUNCE, 4, new Uint32Array([1]), NOW), 0)
    assert.equal(l.take(KIND_ANNOUNCE, 6, ip6(0, 0, 0, 1), NOW), 0)
  })
})

describe('bounded memory', () => {
  test('the table size is fixed (rounded up to a power of two), whatever the number of addresses', () => {
    const l = limiter({ announce: perSecond(1, 2), slots: 1500 })
    assert.equal(l.slots, 2048)
    for (let i = 0; i < 200_000; i++) l.take(KIND_ANNOUNCE, 4, ip4(i), NOW)
    assert.equal(l.slots, 2048)
    assert.ok(l.liveEntries(NOW) <= 2048)
    assert.ok(l.evictions > 150_000, `${l.evictions} evictions`)
  })

  test('a flooding address stays limited while 100 000 other addresses churn through a small table', () => {
    const l = limiter({ announce: perSecond(10, 10), slots: 1024 })
    const flooder = ip4(0xffffff)
    let through = 0
    let others = 0
    for (let s = 0; s < 100; s++) {
      for (let i = 0; i < 1000; i++) {
        if (l.take(KIND_ANNOUNCE, 4, flooder, NOW + s) === 0) through++
        if (l.take(KIND_ANNOUNCE, 4, ip4(s * 1000 + i), NOW + s) === 0) others++
      }
    }
    assert.equal(through, 10 * 100, 'the flooder got its rate, not a fresh burst after an eviction')
    assert.equal(others, 100_000, 'every newcomer got its first request through')
  })

  test('an evicted address is forgiven: it comes back with a full burst', () => {
    // One request per 100 s, burst 2: `a` spends its burst and would wait 100 s.
    const l = limiter({ announce: { secondsPerRequest: 100, burst: 2 }, slots: 1024 })
    const a = ip4(1)
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, a, NOW, 5), 2)
    assert.equal(l.take(KIND_ANNOUNCE, 4, a, NOW + 1), 99)
    // Others spend theirs a second later, so `a` is the stalest entry of its window: it goes.
    for (let i = 2; i < 1024 * PROBE_SLOTS * 4; i++) allowed(l, KIND_ANNOUNCE, 4, ip4(i), NOW + 1, 2)
    assert.ok(l.evictions > 0)
    assert.equal(allowed(l, KIND_ANNOUNCE, 4, a, NOW + 1, 5), 2)
  })

  test('a slot whose buckets refilled is reused without counting an eviction', () => {
    const l = limiter({ announce: perSecond(1, 1), slots: 1024 })
    for (let i = 0; i < 1024; i++) l.take(KIND_ANNOUNCE, 4, ip4(i), NOW)
    const before = l.evictions
    for (let i = 0; i < 64; i++) l.take(KIND_ANNOUNCE, 4, ip4(100_000 + i), NOW + 10)
    assert.equal(l.evictions, before)
  })
})

describe('config', () => {
  test('defaults: every announce and scrape limit off, full scrapes unlimited', () => {
    const o = resolveOptions({})
    assert.equal(o.announceRatePerSecond, 0)
    assert.equal(o.scrapeRatePerSecond, 0)
    assert.equal(o.fullScrapeIntervalSeconds, 0)
    assert.equal(o.rateLimitTableSlots, 65536)
    assert.equal(o.rateLimitIPv6PrefixBits, 64)
  })

  test('a burst below the rate is refused (the clock ticks once a second)', () => {
    assert.throws(() => resolveOptions({ announceRatePerSecond: 50, announceBurst: 10 }), /announceBurst 10 \(limits.announce_burst\) must be at least announceRatePerSecond 50 \(limits.announce_rate\)/)
    assert.throws(() => resolveOptions({ scrapeRatePerSecond: -1 }), /invalid scrapeRatePerSecond/)
    assert.throws(() => resolveOptions({ rateLimitTableSlots: 10 }), /rateLimitTableSlots/)
    assert.throws(() => resolveOptions({ rateLimitIPv6PrefixBits: 129 }), /rateLimitIPv6PrefixBits/)
    assert.throws(() => resolveOptions({ fullScrapeBurst: 0 }), /fullScrapeBurst/)
    assert.doesNotThrow(() => resolveOptions({ announceRatePerSecond: 0.5, announceBurst: 1 }))
  })

  test('limits.* keys set the options and --print-config prints them back', () => {
    const s = newSettings()
    const err = applyConfigText(s, [
      'limits.announce_rate 20', 'limits.announce_burst 600', 'limits.scrape_rate 0.5', 'limits.scrape_burst 30',
      'limits.fullscrape_burst 2', 'limits.table_size 4096', 'limits.ipv6_prefix 56', 'access.fullscrape_interval 300'
    ].join('\n'), 'x.conf')
    assert.equal(err, null)
    const t = s.tracker
    assert.deepEqual([t.announceRatePerSecond, t.announceBurst, t.scrapeRatePerSecond, t.scrapeBurst, t.fullScrapeBurst, t.rateLimitTableSlots, t.rateLimitIPv6PrefixBits, t.fullScrapeIntervalSeconds],
      [20, 600, 0.5, 30, 2, 4096, 56, 300])
    const back = newSettings()
    assert.equal(applyConfigText(back, formatSettings(s), 'printed'), null)
    assert.deepEqual(back.tracker, s.tracker)
    for (const [line, why] of [['limits.announce_rate fast', /requests per second/], ['limits.announce_rate 1e3', /requests per second/],
      ['limits.scrape_burst 0', />= 1/], ['limits.table_size 100', />= 1024/], ['limits.ipv6_prefix 8', /16 to 128/]] as const) {
      assert.match(applyConfigText(newSettings(), line, 'y.conf') ?? '', why, line)
    }
  })
})
