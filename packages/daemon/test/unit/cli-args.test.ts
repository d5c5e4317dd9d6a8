import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseArgs } from '../../src/cli-args.js'

test('no flags: TCP and UDP 6969 on :: (dual stack)', () => {
  assert.deepEqual(parseArgs([]), { kind: 'run', http: [{ host: '::', port: 6969 }], udp: [{ host: '::', port: 6969 }], logLevel: 'info' })
})

test('-i applies to the -p/-P that follow it, in order, like opentracker', () => {
  const r = parseArgs(['-i', '127.0.0.1', '-p', '80', '-i', '::1', '-P', '6969', '-p', '8080'])
  assert.deepEqual(r, { kind: 'run', http: [{ host: '127.0.0.1', port: 80 }, { host: '::1', port: 8080 }], udp: [{ host: '::1', port: 6969 }], logLevel: 'info' })
})

test('-i alone binds both protocols on 6969 at that address', () => {
  const r = parseArgs(['-i', '0.0.0.0'])
  assert.deepEqual(r, { kind: 'run', http: [{ host: '0.0.0.0', port: 6969 }], udp: [{ host: '0.0.0.0', port: 6969 }], logLevel: 'info' })
})

test('long forms with = are accepted', () => {
  const r = parseArgs(['--ip=::1', '--port-udp=7000', '--log-level', 'warn'])
  assert.deepEqual(r, { kind: 'run', http: [], udp: [{ host: '::1', port: 7000 }], logLevel: 'warn' })
})

test('bad input is an error with a message naming the flag', () => {
  for (const argv of [['-p', '70000'], ['-p'], ['-P', 'x'], ['-i', '1.2.3'], ['-i', 'localhost'], ['-x'], ['--log-level', 'loud']]) {
    const r = parseArgs(argv)
    assert.equal(r.kind, 'error', argv.join(' '))
  }
  const r = parseArgs(['-p', '70000'])
  assert.ok(r.kind === 'error' && r.message.includes('-p'))
})

test('-h and -v', () => {
  assert.deepEqual(parseArgs(['-h']), { kind: 'help' })
  assert.deepEqual(parseArgs(['-v']), { kind: 'version' })
})
