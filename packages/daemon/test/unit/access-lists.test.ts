// Access lists without sockets: file format (reference §8.1, checklist §13.8 item 63), allow/deny
// semantics with either or both lists, reload keeping the previous list, atomic write-back of
// admin changes, FIFO line handling (§8.3) and the admin endpoint's hash parser.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, describe, test } from 'node:test'
import { pino, type Logger } from 'pino'
import { AccessLists } from '../../src/access/access-lists.js'
import { FifoReader } from '../../src/access/fifo.js'
import { parseHashList } from '../../src/http/admin.js'

const dirs: string[] = []
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'otd-acl-unit-'))
  dirs.push(d)
  return d
}

function file(text: string | Buffer, name = 'list'): string {
  const p = join(dir(), name)
  writeFileSync(p, text)
  return p
}

interface Captured {
  logger: Logger
  lines: Array<{ level: number; msg: string }>
}

function captureLogger(): Captured {
  const lines: Array<{ level: number; msg: string }> = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as { level: number; msg: string })
      cb()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

const silent = pino({ level: 'silent' })

/** Hex `n` as a 40-digit hash: distinct, easy to read. */
function hex(n: number): string {
  return n.toString(16).padStart(2, '0').repeat(20)
}

function key(h: string): string {
  return Buffer.from(h, 'hex').toString('latin1')
}

const H1 = hex(0x11)
const H2 = hex(0x22)
const H3 = hex(0x33)
const H4 = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01'
const H5 = hex(0x55)
const H6 = hex(0x66)

describe('file format (reference §8.1, checklist 63)', () => {
  test('40-hex lines, hash + junk, comments, blanks, CRLF, upper case and a last line without newline are exactly the entries', async () => {
    const text = `${H1}\n${H2} debian-13.iso\n# ${H5} commented out\n\n   \n${H4}\r\n${H6}\tx\n${H3}`
    const a = new AccessLists(file(text), '', silent)
    const [r] = await a.reload()
    assert.deepEqual(r, { list: 'white', file: a.file('white'), ok: true, entries: 5 })
    assert.deepEqual(a.entries('white'), [H1, H2, H3, H6, H4.toLowerCase()].sort())
    assert.equal(a.allows(key(H5)), false, 'a hash in a comment is not listed')
  })

  test('an 80-hex-digit run-on line is not two hashes: the file counts as malformed, naming the line', async () => {
    const a = new AccessLists(file(`${H1}\n# c\n${H2}${H3}\n${H4}\n`), '', silent)
    const [r] = await a.reload()
    assert.equal(r?.ok, false)
    assert.match(r?.error ?? '', /1 line\(s\).*line 3/)
    assert.equal(a.size('white'), 0, 'nothing of a malformed file is taken')
    assert.equal(a.allows(key(H2)), false)
    assert.equal(a.allows(key(H1)), false)
  })

  for (const [name, bad] of [
    ['a short hash', H1.slice(0, 39)],
    ['a hash after leading blanks', `  ${H1}`],
    ['41 hex digits', `${H1}a`],
    ['a non-hex digit inside', `${H1.slice(0, 20)}g${H1.slice(21)}`],
  ]) {
    test(`${name} makes the file malformed`, async () => {
      const a = new AccessLists(file(`${H2}\n${bad}\n`), '', silent)
      const [r] = await a.reload()
      assert.equal(r?.ok, false, JSON.stringify(bad))
      assert.match(r?.error ?? '', /line 2/)
    })
  }

  test('an empty file is a valid empty list', async () => {
    const a = new AccessLists(file(''), '', silent)
    const [r] = await a.reload()
    assert.equal(r?.ok, true)
    assert.equal(a.allows(key(H1)), false, 'an empty allow-list allows nothing')
  })
})

describe('semantics', () => {
  test('no list: everything is allowed and the lists are inactive', () => {
    const a = new AccessLists('', '', silent)
    assert.equal(a.active, false)
    assert.equal(a.allows(key(H1)), true)
    assert.equal(a.dynamicTarget, null)
  })

  test('allow-list only', async () => {
    const a = new AccessLists(file(`${H1}\n`), '', silent)
    await a.reload()
    assert.equal(a.active, true)
    assert.equal(a.allows(key(H1)), true)
    assert.equal(a.allows(key(H2)), false)
  })

  test('deny-list only', async () => {
    const a = new AccessLists('', file(`${H1}\n`), silent)
    await a.reload()
    assert.equal(a.allows(key(H1)), false)
    assert.equal(a.allows(key(H2)), true)
    assert.equal(a.dynamicTarget, 'black')
  })

  test('both lists: allowed iff on the allow-list and not on the deny-list (deny wins)', async () => {
    const a = new AccessLists(file(`${H1}\n${H2}\n`), file(`${H2}\n${H3}\n`), silent)
    const reports = await a.reload()
    assert.deepEqual(reports.map((r) => [r.list, r.ok, r.entries]), [['white', true, 2], ['black', true, 2]])
    assert.equal(a.allows(key(H1)), true, 'white only')
    assert.equal(a.allows(key(H2)), false, 'white and black: deny wins')
    assert.equal(a.allows(key(H3)), false, 'black only')
    assert.equal(a.allows(key(H4)), false, 'neither')
    assert.equal(a.dynamicTarget, 'white', 'the FIFOs change the allow-list when there is one')
  })
})

describe('reload', () => {
  test('replaces the list whole', async () => {
    const p = file(`${H1}\n${H2}\n`)
    const a = new AccessLists(p, '', silent)
    await a.reload()
    writeFileSync(p, `${H3}\n`)
    const [r] = await a.reload()
    assert.equal(r?.ok, true)
    assert.deepEqual(a.entries('white'), [H3])
    assert.equal(a.reloads, 2)
  })

  test('every list is swapped in at once: no request sees the new allow-list with the old deny-list', async () => {
    // The deny-list file is a FIFO, so the reload is held between reading the two files: our
    // open for writing returns once the reload is reading the second file, the first one done.
    const d = dir()
    const w = join(d, 'white')
    const b = join(d, 'black')
    writeFileSync(w, `${H1}\n`)
    execFileSync('mkfifo', [b])
    const a = new AccessLists(w, b, silent)
    const first = a.reload()
    const fh1 = await open(b, 'w')
    await fh1.writeFile(`${H2}\n`)
    await fh1.close()
    await first
    assert.equal(a.allows(key(H1)), true)

    // New lists: H1 moves to the deny-list, H3 is allowed.
    writeFileSync(w, `${H1}\n${H3}\n`)
    const second = a.reload()
    const fh = await open(b, 'w')
    try {
      assert.equal(a.allows(key(H3)), false, 'the new allow-list must not be live before the deny-list is read')
      assert.equal(a.allows(key(H1)), true, 'the old pair still applies')
      await fh.writeFile(`${H1}\n`)
    } finally {
      await fh.close()
    }
    const reports = await second
    assert.deepEqual(reports.map((r) => r.ok), [true, true])
    assert.equal(a.allows(key(H3)), true)
    assert.equal(a.allows(key(H1)), false)
  })

  test('a missing file keeps the previous list and logs why', async () => {
    const p = file(`${H1}\n`)
    const c = captureLogger()
    const a = new AccessLists(p, '', c.logger)
    await a.reload()
    renameSync(p, p + '.gone')
    const [r] = await a.reload()
    assert.equal(r?.ok, false)
    assert.match(r?.error ?? '', /ENOENT/)
    assert.equal(a.allows(key(H1)), true, 'the previous list is kept')
    assert.equal(a.reloadFailures, 1)
    const err = c.lines.find((l) => l.level === 50)
    assert.ok(err !== undefined, 'an error is logged')
    assert.ok(err.msg.includes(p) && /ENOENT/.test(err.msg) && /keeping the previous white list \(1 entries\)/.test(err.msg), err.msg)
  })

  test('a malformed file keeps the previous list and logs the line', async () => {
    const p = file(`${H1}\n`)
    const c = captureLogger()
    const a = new AccessLists('', p, c.logger)
    await a.reload()
    writeFileSync(p, `${H2}\nnot a hash\n`)
    const [r] = await a.reload()
    assert.equal(r?.ok, false)
    assert.deepEqual(a.entries('black'), [H1])
    assert.ok(c.lines.some((l) => l.level === 50 && l.msg.includes(p) && /line 2/.test(l.msg) && /keeping the previous black list/.test(l.msg)),
      JSON.stringify(c.lines))
  })

  test('with two lists, a broken one is kept while the other is replaced', async () => {
    const w = file(`${H1}\n`)
    const b = file(`${H2}\n`)
    const a = new AccessLists(w, b, silent)
    await a.reload()
    writeFileSync(w, `${H3}\n`)
    writeFileSync(b, 'garbage\n')
    const [rw, rb] = await a.reload()
    assert.equal(rw?.ok, true)
    assert.equal(rb?.ok, false)
    assert.deepEqual(a.entries('white'), [H3])
    assert.deepEqual(a.entries('black'), [H2])
  })
})

describe('change (admin endpoint): in memory and written back atomically', () => {
  test('add and remove patch the file: comments and names stay, removed lines go, new hashes are appended; no temporary file is left', async () => {
    const d = dir()
    const p = join(d, 'white')
    writeFileSync(p, `# hand-written\n${H1} comment\n`)
    const a = new AccessLists(p, '', silent)
    await a.reload()
    const r = await a.change('white', true, [key(H2), key(H1), key(H3)])
    assert.deepEqual(r, { list: 'white', changed: 2, unchanged: 1, entries: 3, persisted: true })
    assert.equal(readFileSync(p, 'latin1'), `# hand-written\n${H1} comment\n${H2}\n${H3}\n`)
    assert.deepEqual(readdirSync(d), ['white'])
    assert.equal(a.allows(key(H3)), true)

    const r2 = await a.change('white', false, [key(H1), key(H4.toLowerCase())])
    assert.deepEqual(r2, { list: 'white', changed: 1, unchanged: 1, entries: 2, persisted: true })
    assert.equal(readFileSync(p, 'latin1'), `# hand-written\n${H2}\n${H3}\n`)
    assert.equal(a.allows(key(H1)), false)
    // The written file reloads to the same list.
    const [again] = await a.reload()
    assert.equal(again?.ok, true)
    assert.deepEqual(a.entries('white'), [H2, H3])
  })

  test('a hash in memory only (from a FIFO) is written to the file when the admin adds it; an uppercase line is removed by its lowercase hash', async () => {
    const d = dir()
    const p = join(d, 'white')
    writeFileSync(p, `${H1.toUpperCase()}  Upper case\n`)
    const a = new AccessLists(p, '', silent)
    await a.reload()
    a.applyDynamic(key(H2), true)
    const r = await a.change('white', true, [key(H2)])
    assert.deepEqual(r, { list: 'white', changed: 0, unchanged: 1, entries: 2, persisted: true })
    assert.equal(readFileSync(p, 'latin1'), `${H1.toUpperCase()}  Upper case\n${H2}\n`)
    await a.change('white', false, [key(H1)])
    assert.equal(readFileSync(p, 'latin1'), `${H2}\n`)
  })

  test('the rewrite keeps the file\'s permissions (a private list stays private, a shared one stays writable)', async () => {
    for (const mode of [0o640, 0o666, 0o600]) {
      const d = dir()
      const p = join(d, 'white')
      writeFileSync(p, `${H1}\n`)
      chmodSync(p, mode)
      const a = new AccessLists(p, '', silent)
      await a.reload()
      assert.equal((await a.change('white', true, [key(H2)])).persisted, true)
      assert.equal(statSync(p).mode & 0o777, mode, mode.toString(8))
      assert.equal(readFileSync(p, 'latin1'), `${H1}\n${H2}\n`)
    }
  })

  test('a change of nothing does not touch the file', async () => {
    const p = file(`${H1} keep this comment\n`)
    const a = new AccessLists(p, '', silent)
    await a.reload()
    const r = await a.change('white', true, [key(H1)])
    assert.equal(r.changed, 0)
    assert.equal(readFileSync(p, 'latin1'), `${H1} keep this comment\n`)
  })

  test('an unconfigured list is refused', async () => {
    const a = new AccessLists(file(''), '', silent)
    await a.reload()
    const r = await a.change('black', true, [key(H1)])
    assert.equal(r.persisted, false)
    assert.match(r.error ?? '', /no black list/)
  })

  test('when the file cannot be written the change applies in memory and the report says so', async () => {
    const d = dir()
    const p = join(d, 'white')
    writeFileSync(p, `${H1}\n`)
    const a = new AccessLists(p, '', silent)
    await a.reload()
    rmSync(d, { recursive: true })
    const r = await a.change('white', true, [key(H2)])
    assert.equal(r.persisted, false)
    assert.match(r.error ?? '', /cannot write/)
    assert.equal(a.allows(key(H2)), true)
  })
})

describe('FIFO lines (reference §8.3, without V2024 bugs)', () => {
  test('applyDynamic adds to and removes from the target list, file entries included', async () => {
    const a = new AccessLists(file(`${H1}\n`), '', silent)
    await a.reload()
    assert.equal(a.applyDynamic(key(H2), true), true)
    assert.equal(a.allows(key(H2)), true)
    assert.equal(a.applyDynamic(key(H1), false), true, 'deleting a file-listed hash works')
    assert.equal(a.allows(key(H1)), false)
    assert.equal(a.applyDynamic(key(H2), false), true)
    assert.equal(a.applyDynamic(key(H2), true), true, 'the last line written wins')
    assert.equal(a.allows(key(H2)), true)
    assert.equal(a.applyDynamic(key(H2), true), false, 'no change')
    await a.reload()
    assert.deepEqual(a.entries('white'), [H1], 'a reload returns to the file')
  })

  test('the reader takes lines starting with exactly 40 hex digits, across reads, and counts the rest', () => {
    const got: string[] = []
    const r = new FifoReader('/nonexistent', (k) => got.push(Buffer.from(k, 'latin1').toString('hex')), silent)
    r.feed(`${H1}\ngarbage\n${H2.slice(0, 10)}`)
    r.feed(`${H2.slice(10)} with a comment\n\n${H3}${H4}\n${H4}\r\n${H5.slice(0, 39)}\n`)
    r.feed(H6) // no newline yet: not a complete line
    assert.deepEqual(got, [H1, H2, H4.toLowerCase()])
    assert.deepEqual(r.counters, { lines: 6, applied: 3, rejected: 3 })
    r.feed('\n')
    assert.deepEqual(got, [H1, H2, H4.toLowerCase(), H6])
  })
})

describe('admin hash parser', () => {
  test('blank, comma and newline separated; either case; invalid words reported', () => {
    const { keys, invalid } = parseHashList(` ${H1},${H4}\n\n${H2}\tzz ${H3}${H3} ${H5.slice(1)}`)
    assert.deepEqual(keys.map((k) => Buffer.from(k, 'latin1').toString('hex')), [H1, H4.toLowerCase(), H2])
    assert.deepEqual(invalid, ['zz', (H3 + H3).slice(0, 64) + '...', H5.slice(1)], 'long words are cut at 64 characters')
  })
})
