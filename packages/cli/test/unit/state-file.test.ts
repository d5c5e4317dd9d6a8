import assert from 'node:assert/strict'
import { crc32 } from 'node:zlib'
import { describe, test } from 'node:test'
import { StateFileChecker } from '../../src/lib/state/state-file.js'

/** A state file with `records` bytes of (opaque) records, as the daemon's layout describes it. */
function stateFile (records: Buffer, torrents: number, peers: number): Buffer {
  const head = Buffer.alloc(16)
  head.write('OTDSTATE', 0, 'latin1')
  head.writeUInt32LE(1, 8)
  head.writeUInt32LE(1_700_000_000, 12)
  const trailer = Buffer.alloc(28)
  trailer.writeUInt32LE(torrents, 0)
  trailer.writeUInt32LE(peers, 4)
  trailer.writeUInt32LE(records.length, 8)
  trailer.writeUInt32LE(crc32(records, crc32(head)), 16)
  trailer.write('OTDEND\0\0', 20, 'latin1')
  return Buffer.concat([head, records, trailer])
}

function check (file: Buffer, chunk: number): ReturnType<StateFileChecker['finish']> {
  const c = new StateFileChecker()
  for (let o = 0; o < file.length; o += chunk) c.update(file.subarray(o, o + chunk))
  return c.finish()
}

describe('state file check', () => {
  const file = stateFile(Buffer.from('x'.repeat(100)), 2, 5)

  test('a complete file passes however it is chunked, and reports its counts', () => {
    for (const chunk of [1, 7, 28, 29, 1000]) {
      assert.deepEqual(check(file, chunk), { torrents: 2, peers: 5, savedAt: 1_700_000_000, bytes: file.length })
    }
  })

  test('a truncated, padded or corrupted download is refused', () => {
    assert.throws(() => check(file.subarray(0, file.length - 1), 10), /truncated/)
    assert.throws(() => check(file.subarray(0, 60), 10), /truncated|too short/)
    const corrupt = Buffer.from(file)
    corrupt[40] = corrupt[40]! ^ 1
    assert.throws(() => check(corrupt, 10), /checksum/)
    assert.throws(() => check(Buffer.concat([file.subarray(0, 50), file.subarray(60)]), 10), /trailer says/)
    assert.throws(() => check(Buffer.from('x'.repeat(100)), 10), /OTDSTATE/)
  })
})
