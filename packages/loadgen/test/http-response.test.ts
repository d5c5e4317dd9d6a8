import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ResponseParser } from '../src/http-response.js'

function collect (): { parser: ResponseParser, seen: Array<[number, boolean]> } {
  const seen: Array<[number, boolean]> = []
  return { parser: new ResponseParser((s, f) => seen.push([s, f])), seen }
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\nd8:intervali1800ee'
const FAIL_BODY = 'd14:failure reason23:Requested download is note'
const FAIL = `HTTP/1.0 200 OK\r\ncontent-length: ${FAIL_BODY.length}\r\n\r\n${FAIL_BODY}`

test('one response in one chunk', () => {
  const { parser, seen } = collect()
  assert.equal(parser.feed(Buffer.from(OK)), true)
  assert.deepEqual(seen, [[200, false]])
})

test('pipelined responses in one chunk, and a response split byte by byte', () => {
  const { parser, seen } = collect()
  parser.feed(Buffer.from(OK + FAIL + OK))
  assert.deepEqual(seen, [[200, false], [200, true], [200, false]])
  const b = collect()
  for (const byte of Buffer.from(FAIL + OK)) assert.equal(b.parser.feed(Buffer.from([byte])), true)
  assert.deepEqual(b.seen, [[200, true], [200, false]])
})

test('Content-Length is found in any case and error statuses are reported', () => {
  const { parser, seen } = collect()
  parser.feed(Buffer.from('HTTP/1.0 400 Invalid Request\r\nCONTENT-LENGTH:  3\r\n\r\nbad'))
  parser.feed(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-length: 0\r\n\r\n'))
  assert.deepEqual(seen, [[400, false], [404, false]])
})

test('a body without Content-Length runs to the end of the connection', () => {
  const { parser, seen } = collect()
  parser.feed(Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nd14:failure'))
  parser.feed(Buffer.from(' reason3:no!e'))
  assert.deepEqual(seen, [])
  assert.equal(parser.end(), true)
  assert.deepEqual(seen, [[200, true]])
  assert.equal(parser.end(), false)
})

test('whether the server closes after a response follows RFC 9112', () => {
  const closes: boolean[] = []
  const p = new ResponseParser((_s, _f, close) => closes.push(close))
  p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'))
  p.feed(Buffer.from('HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n'))
  p.feed(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'))
  p.feed(Buffer.from('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\nContent-Length: 0\r\n\r\n'))
  assert.deepEqual(closes, [false, true, true, false])
})

test('garbage is a protocol error, not an exception', () => {
  const { parser } = collect()
  assert.equal(parser.feed(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), false)
  const b = collect()
  assert.equal(b.parser.feed(Buffer.from('HTTP/1.1 2xx OK\r\n\r\n')), false)
  const c = collect()
  assert.equal(c.parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n')), false)
  const d = collect()
  assert.equal(d.parser.feed(Buffer.alloc(20_000, 65)), false)
})
