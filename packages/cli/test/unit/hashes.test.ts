import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isHashHex, parseHashArgs, parseHashText } from '../../src/lib/access/hashes.js'

const H = '0123456789abcdef0123456789abcdef01234567'
const G = '89ABCDEF0123456789ABCDEF0123456789ABCDEF'

describe('info_hash input', () => {
  test('isHashHex accepts exactly 40 hex digits in either case', () => {
    assert.equal(isHashHex(H), true)
    assert.equal(isHashHex(G), true)
    assert.equal(isHashHex(H.slice(1)), false)
    assert.equal(isHashHex(H + '0'), false)
    assert.equal(isHashHex(H.slice(1) + 'g'), false)
  })

  test('arguments may hold several hashes separated by commas or blanks, lowercased', () => {
    assert.deepEqual(parseHashArgs([`${H},${G}`, ` ${H} `]), { hashes: [H, G.toLowerCase(), H], invalid: [] })
  })

  test('a bad argument is reported with its position', () => {
    assert.deepEqual(parseHashArgs([H, 'xyz']).invalid, ['argument 2: "xyz" is not 40 hex digits'])
  })

  test('list files: comments, blank lines and trailing names are skipped; bad lines named by line number', () => {
    const r = parseHashText(`# header\n\n${H}  debian.iso\n${G}:comment\r\n  ${H} ${G}\nnope\n`, 'list.txt')
    assert.deepEqual(r.hashes, [H, G.toLowerCase(), H, G.toLowerCase()])
    assert.deepEqual(r.invalid, ['list.txt:6: "nope" does not start with 40 hex digits'])
  })

  test('80 hex digits run together are not a hash', () => {
    assert.equal(parseHashText(H + H, 'x').invalid.length, 1)
  })
})
