import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { after, test } from 'node:test'
import { ManualClock, createTracker } from '../../src/index.js'

const clock = new ManualClock()
const tracker = createTracker({ http: [{ host: '127.0.0.1', port: 0 }], udp: [], clock, httpIdleTimeoutSeconds: 5 })
const bound = await tracker.listen()
after(() => tracker.close())
const port = bound.http[0]!.port

async function connect (): Promise<{ socket: net.Socket, received: () => string }> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let data = ''
  socket.on('data', (c: Buffer) => { data += c.toString('latin1') })
  return { socket, received: () => data }
}

const SCRAPE = 'GET /scrape?info_hash=%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01 HTTP/1.1\r\n\r\n'

/**
 * Waits until the server has been through its event loop after our earlier writes: a complete
 * request on another connection is answered in the same poll phase that reads pending bytes.
 */
async function serverCaughtUp (probe: { socket: net.Socket, received: () => string }): Promise<void> {
  const before = probe.received().length
  probe.socket.write(SCRAPE)
  while (probe.received().length === before) await once(probe.socket, 'data')
}

test('a request head trickled in past the idle timeout is cut off, though bytes kept arriving (slowloris)', async () => {
  const probe = await connect()
  const { socket, received } = await connect()
  const started = Date.now()
  socket.write('GET /announce?info_hash=')
  await serverCaughtUp(probe)
  clock.advance(3)
  socket.write('%01%01%01')
  await serverCaughtUp(probe)
  clock.advance(3)
  socket.write('%01')
  await once(socket, 'close')
  assert.equal(received(), '', `no reply expected, got ${JSON.stringify(received())}`)
  assert.ok(Date.now() - started < 4000, 'closed by the head deadline, not by the 5 s idle timer')
  probe.socket.destroy()
})

test('a keep-alive connection that completes each request in time is not cut off by the head deadline', async () => {
  const { socket, received } = await connect()
  for (let i = 0; i < 3; i++) {
    const before = received().length
    socket.write(SCRAPE)
    while (received().length === before) await once(socket, 'data')
    clock.advance(4)
  }
  assert.equal(received().split('HTTP/1.1 200 OK').length - 1, 3)
  assert.equal(socket.destroyed, false)
  socket.destroy()
})
