import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseListeningLine } from '../src/spawn.js'
import { hostPort, parseTarget } from '../src/target.js'

test('UDP and HTTP targets, IPv4, IPv6 and names', () => {
  const u = parseTarget('udp://[::1]:6969')
  assert.ok(u.ok)
  assert.deepEqual(u.ok && [u.target.protocol, u.target.host, u.target.port], ['udp', '::1', 6969])
  const h = parseTarget('http://tracker.example:8080/announce')
  assert.ok(h.ok)
  assert.deepEqual(h.ok && [h.target.host, h.target.port, h.target.announcePath, h.target.scrapePath], ['tracker.example', 8080, '/announce', '/scrape'])
})

test('the scrape path follows the BEP 48 convention and an empty path means /announce', () => {
  const p = parseTarget('http://h:1/x/announce.php')
  assert.ok(p.ok && p.target.scrapePath === '/x/scrape.php')
  const e = parseTarget('http://h:1')
  assert.ok(e.ok && e.target.announcePath === '/announce' && e.target.scrapePath === '/scrape')
})

test('bad targets explain themselves', () => {
  for (const bad of ['nonsense', 'ftp://h:1', 'udp://h', 'http://:1/announce']) {
    const r = parseTarget(bad)
    assert.equal(r.ok, false, bad)
  }
})

test('IPv6 addresses get brackets in host:port', () => {
  assert.equal(hostPort('::1', 80), '[::1]:80')
  assert.equal(hostPort('127.0.0.1', 80), '127.0.0.1:80')
})

test('otd\'s listening log line gives the bound addresses; other lines give nothing', () => {
  const line = '{"level":30,"http":[{"address":"127.0.0.1","port":34295,"family":"IPv4"}],"udp":[{"address":"127.0.0.1","port":56011,"family":"IPv4"}],"msg":"otd listening"}'
  assert.deepEqual(parseListeningLine(line), { http: [{ address: '127.0.0.1', port: 34295 }], udp: [{ address: '127.0.0.1', port: 56011 }] })
  assert.equal(parseListeningLine('{"level":30,"msg":"running as nobody"}'), null)
  assert.equal(parseListeningLine('opentracker starting'), null)
  assert.equal(parseListeningLine('{"http":[{"address":1}],"udp":[]}'), null)
  assert.equal(parseListeningLine('{broken'), null)
})
