// UDP replies sent straight through the socket's handle (src/udp/direct-send.ts), with real
// sockets: the pinned runtime exposes what it needs, the right bytes arrive over IPv4, IPv6 and a
// dual-stack socket, a closed socket refuses, and sends the kernel could not take at once (forced
// with node's --test-udp-no-try-send) still arrive intact after the buffers they came from are
// dropped and collected.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import { test } from 'node:test'
import { directSend } from '../../src/udp/direct-send.js'

async function bound (type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(type)
  await new Promise<void>((resolve) => s.bind(0, address, resolve))
  return s
}

function receive (s: dgram.Socket, n: number): Promise<Array<{ msg: Buffer, from: dgram.RemoteInfo }>> {
  const got: Array<{ msg: Buffer, from: dgram.RemoteInfo }> = []
  return new Promise((resolve) => {
    s.on('message', (msg, from) => {
      got.push({ msg, from })
      if (got.length === n) resolve(got)
    })
  })
}

for (const [type, address, to] of [['udp4', '127.0.0.1', '127.0.0.1'], ['udp6', '::1', '::1'], ['udp6', '::', '127.0.0.1']] as const) {
  test(`${type} socket on ${address}: sends slices of a slab to ${to}, from the socket's own port`, async () => {
    const sender = await bound(type, address)
    const receiver = await bound(to.includes(':') ? 'udp6' : 'udp4', to)
    try {
      const send = directSend(sender)
      assert.ok(send !== null, 'the pinned runtime exposes the UDP handle and SendWrap')
      const slab = Buffer.alloc(4096)
      for (let i = 0; i < slab.length; i++) slab[i] = i * 7
      const arriving = receive(receiver, 3)
      const port = receiver.address().port
      const dest = address === '::' ? `::ffff:${to}` : to
      assert.equal(send(slab, 0, 16, port, dest), true)
      assert.equal(send(slab, 1000, 98, port, dest), true)
      assert.equal(send(slab, 4000, 0, port, dest), true)
      const got = await arriving
      assert.deepEqual(got.map((g) => g.msg), [slab.subarray(0, 16), slab.subarray(1000, 1098), Buffer.alloc(0)])
      for (const g of got) assert.equal(g.from.port, sender.address().port)
    } finally {
      sender.close()
      receiver.close()
    }
  })
}

test('a closed socket refuses at once (false), without throwing', async () => {
  const s = await bound('udp4', '127.0.0.1')
  const send = directSend(s)
  assert.ok(send !== null)
  const closed = new Promise((resolve) => s.once('close', resolve))
  s.close()
  assert.equal(send(Buffer.alloc(8), 0, 8, 9, '127.0.0.1'), false)
  await closed
  assert.equal(send(Buffer.alloc(8), 0, 8, 9, '127.0.0.1'), false)
})

test('a send to an address the socket cannot reach is false (counted by the caller), the socket stays usable', async () => {
  const s = await bound('udp4', '127.0.0.1')
  const r = await bound('udp4', '127.0.0.1')
  try {
    const send = directSend(s)
    assert.ok(send !== null)
    // A socket bound to loopback cannot send off the host: sendmsg fails with EINVAL at once.
    assert.equal(send(Buffer.from('x'), 0, 1, 9, '192.0.2.1'), false)
    const arriving = receive(r, 1)
    assert.equal(send(Buffer.from('still here'), 0, 10, r.address().port, '127.0.0.1'), true)
    assert.equal((await arriving)[0]!.msg.toString(), 'still here')
  } finally {
    s.close()
    r.close()
  }
})

// Run in a child: --test-udp-no-try-send makes every send take the queued path.
const QUEUED_CHILD = `
const dgram = await import('node:dgram')
const { directSend } = await import(process.argv[1])
const N = 200
const bind = (s) => new Promise((r) => s.bind(0, '127.0.0.1', r))
const sender = dgram.createSocket('udp4'); await bind(sender)
const receiver = dgram.createSocket('udp4'); await bind(receiver)
const handle = sender[Object.getOwnPropertySymbols(sender).find((s) => s.description === 'state symbol')].handle
const codes = new Map()
const send6 = handle.send
handle.send = function (...a) { const r = send6.apply(this, a); codes.set(r, (codes.get(r) ?? 0) + 1); return r }
const send = directSend(sender)
const got = []
const done = new Promise((resolve) => receiver.on('message', (m) => { got.push(m); if (got.length === N) resolve() }))
let ok = 0
for (let i = 0; i < N; i++) {
  const b = Buffer.allocUnsafeSlow(64)
  b.fill(i)
  if (send(b, 8, 56, receiver.address().port, '127.0.0.1')) ok++
}
globalThis.gc()
await done
// Each datagram is 56 copies of its index (N < 256): intact, and every index once.
const intact = new Set(got.filter((m) => m.length === 56 && m.every((x) => x === m[0])).map((m) => m[0])).size
console.log(JSON.stringify({ ok, received: got.length, intact, codes: [...codes] }))
sender.close(); receiver.close()
`

test('sends the kernel did not take at once are queued and arrive intact after their buffers are collected', async () => {
  const module = new URL('../../src/udp/direct-send.js', import.meta.url).href
  const child = spawn(process.execPath, ['--test-udp-no-try-send', '--expose-gc', '--input-type=module', '-e', QUEUED_CHILD, module], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  assert.equal(code, 0)
  const r = JSON.parse(out) as { ok: number, received: number, intact: number, codes: Array<[number, number]> }
  assert.deepEqual(r.codes, [[0, 200]], 'every send was queued (return 0)')
  assert.equal(r.ok, 200)
  assert.equal(r.received, 200)
  assert.equal(r.intact, 200)
})
