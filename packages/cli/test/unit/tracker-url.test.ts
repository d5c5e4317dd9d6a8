import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { OtctlError } from '../../src/errors.js'
import { parseBaseUrl } from '../../src/lib/otd-client.js'
import { parseTrackerUrl, percentEncodeBytes, withQuery } from '../../src/lib/tracker/url.js'

describe('tracker and daemon URLs', () => {
  test('an HTTP announce URL gives its scrape URL by the BEP 48 convention, passkey kept', () => {
    const t = parseTrackerUrl('http://t.example.org:6969/abc123/announce.php?pk=1')
    assert.equal(t.kind, 'http')
    if (t.kind !== 'http') return
    assert.equal(t.announce.href, 'http://t.example.org:6969/abc123/announce.php?pk=1')
    assert.equal(t.scrape?.href, 'http://t.example.org:6969/abc123/scrape.php?pk=1')
  })

  test('a bare host means /announce; a scrape URL works for both', () => {
    const bare = parseTrackerUrl('http://t.example.org:6969')
    assert.equal(bare.kind === 'http' && bare.scrape?.pathname, '/scrape')
    const scrape = parseTrackerUrl('https://t.example.org/scrape')
    assert.equal(scrape.kind === 'http' && scrape.announce.pathname, '/announce')
    const other = parseTrackerUrl('http://t.example.org/tracker')
    assert.equal(other.kind === 'http' && other.scrape, null)
  })

  test('UDP URLs need a port; IPv6 literals lose their brackets', () => {
    assert.deepEqual(parseTrackerUrl('udp://[::1]:6969/announce'), { kind: 'udp', host: '::1', port: 6969, text: 'udp://[::1]:6969/announce' })
    assert.throws(() => parseTrackerUrl('udp://t.example.org'), (e: unknown) => e instanceof OtctlError && e.exitCode === 2)
    assert.throws(() => parseTrackerUrl('gopher://x'), (e: unknown) => e instanceof OtctlError && e.exitCode === 2)
  })

  test('info_hash bytes are percent-encoded except unreserved characters', () => {
    assert.equal(percentEncodeBytes(Buffer.from([0x41, 0x00, 0x7e, 0xff, 0x2d, 0x20])), 'A%00~%ff-%20')
    assert.equal(withQuery(new URL('http://x/a?pk=1'), 'b=2').href, 'http://x/a?pk=1&b=2')
    assert.equal(withQuery(new URL('http://x/a'), 'b=2').href, 'http://x/a?b=2')
  })

  test('--url takes host:port, keeps a path prefix, and refuses other schemes', () => {
    assert.equal(parseBaseUrl('127.0.0.1:6969').href, 'http://127.0.0.1:6969/')
    assert.equal(parseBaseUrl('https://proxy.example.org/tracker').href, 'https://proxy.example.org/tracker/')
    assert.throws(() => parseBaseUrl('ftp://x'), (e: unknown) => e instanceof OtctlError && e.exitCode === 2)
  })
})
