import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type CliResult, type Options, parseArgs } from '../src/cli.js'

function run (argv: string[]): Options {
  const r = parseArgs(argv)
  assert.equal(r.kind, 'run', r.kind === 'error' ? r.message : r.kind)
  return (r as Extract<CliResult, { kind: 'run' }>).options
}

function error (argv: string[]): string {
  const r = parseArgs(argv)
  assert.equal(r.kind, 'error')
  return (r as Extract<CliResult, { kind: 'error' }>).message
}

test('no command, help and version', () => {
  assert.equal(parseArgs([]).kind, 'help')
  assert.equal(parseArgs(['--help']).kind, 'help')
  assert.equal(parseArgs(['udp', '-h']).kind, 'help')
  assert.equal(parseArgs(['-v']).kind, 'version')
  assert.match(error(['flood']), /unknown command: flood/)
})

test('udp defaults: 8 sockets, window 16, 10 s, 1 s timeout, announces only', () => {
  const o = run(['udp', '--target', 'udp://127.0.0.1:6969'])
  assert.equal(o.command, 'udp')
  assert.equal(o.targets[0]!.protocol, 'udp')
  assert.equal(o.connections, 8)
  assert.equal(o.window, 16)
  assert.equal(o.durationMs, 10_000)
  assert.equal(o.warmupMs, 1000)
  assert.equal(o.timeoutMs, 1000)
  assert.equal(o.scrapeShare, 0)
  assert.equal(o.runs, 1)
  assert.equal(o.torrents, 100_000)
  assert.equal(o.seederShare, 0.3)
  assert.deepEqual(o.events, [0.05, 0.9, 0.03, 0.02])
})

test('http defaults differ for keep-alive and a new connection per request', () => {
  const ka = run(['http', '--target', 'http://127.0.0.1:6969/announce'])
  assert.equal(ka.connections, 50)
  assert.equal(ka.newConnection, false)
  assert.equal(ka.httpVersion, '1.1')
  assert.equal(ka.timeoutMs, 5000)
  const nc = run(['http', '--target', 'http://127.0.0.1:6969/announce', '--new-connection'])
  assert.equal(nc.connections, 64)
  assert.equal(nc.httpVersion, '1.0')
})

test('flags with units and mixes are converted', () => {
  const o = run(['udp', '--target', 'udp://[::1]:6969', '-d', '2m', '--warmup', '500ms', '-c', '4', '-w', '128',
    '--mix', 'announce=80,scrape=20', '--events', 'started=1,none=1', '--torrents', '1M', '--seeders', '50%', '--seed', '9'])
  assert.equal(o.targets[0]!.host, '::1')
  assert.equal(o.durationMs, 120_000)
  assert.equal(o.warmupMs, 500)
  assert.equal(o.connections, 4)
  assert.equal(o.window, 128)
  assert.equal(o.scrapeShare, 0.2)
  assert.deepEqual(o.events, [0.5, 0.5, 0, 0])
  assert.equal(o.torrents, 1_000_000)
  assert.equal(o.seederShare, 0.5)
  assert.equal(o.seed, 9)
})

test('repro-10k is 30 s of new connections against a 10,000 requests/s bar', () => {
  const o = run(['repro-10k', '--target', 'http://127.0.0.1:6969/announce'])
  assert.equal(o.durationMs, 30_000)
  assert.equal(o.newConnection, true)
  assert.equal(o.rate, 10_000)
  assert.equal(o.sendIp, true)
  assert.equal(run(['repro-10k', '--target', 'http://h:1/announce', '--no-ip']).sendIp, false)
})

test('suite: 3 runs by default, --short is 3 s each, gate floors default to the CI ones', () => {
  const o = run(['suite', '--spawn', 'otd -p 0 -P 0', '--short', '--gate'])
  assert.equal(o.runs, 3)
  assert.equal(o.durationMs, 3000)
  assert.equal(o.gate, true)
  assert.equal(o.gateUdp, 10_000)
  assert.equal(o.gateHttp, 10_000)
  assert.equal(o.gateRssPerPeer, 200)
  assert.equal(o.peersPerTorrent, 10)
  assert.equal(o.spawn, 'otd -p 0 -P 0')
})

test('compare takes two files and a maximum regression', () => {
  const o = run(['compare', 'a.json', 'b.json', '--max-regression', '5%', '--only', 'udp.,http.'])
  assert.deepEqual(o.files, ['a.json', 'b.json'])
  assert.equal(o.maxRegression, 0.05)
  assert.deepEqual(o.only, ['udp.', 'http.'])
  assert.equal(run(['compare', 'a.json', 'b.json']).maxRegression, 0.1)
  assert.match(error(['compare', 'a.json']), /BASE\.json NEW\.json/)
  assert.deepEqual(run(['compare', 'ot.json', 'btt.json', 'otd.json']).files, ['ot.json', 'btt.json', 'otd.json'])
  assert.match(error(['compare', 'ot.json', 'btt.json', 'otd.json', '--chart', 'c.svg']), /--chart takes one base/)
})

test('bad input is a usage error naming the flag', () => {
  assert.match(error(['udp']), /--target URL or --spawn/)
  assert.match(error(['udp', '--target', 'http://h:1/announce']), /needs a udp:\/\/ target/)
  assert.match(error(['udp', '--target', 'ftp://h:1']), /unsupported scheme/)
  assert.match(error(['udp', '--target', 'udp://h']), /port is required/)
  assert.match(error(['udp', '--target', 'udp://h:1', '-w', '300']), /--window/)
  assert.match(error(['udp', '--target', 'udp://h:1', '-d', 'forever']), /--duration/)
  assert.match(error(['udp', '--target', 'udp://h:1', '--mix', 'announce=1,x=2']), /--mix/)
  assert.match(error(['udp', '--target', 'udp://h:1', '--bogus']), /bogus/)
  assert.match(error(['udp', '--target', 'udp://h:1', 'extra']), /unexpected argument extra/)
  assert.match(error(['http', '--target', 'http://h:1/a', '--new-connection', '--engine', 'autocannon']), /autocannon/)
  assert.match(error(['suite', '--target', 'udp://h:1', '--target', 'udp://h:2']), /only one udp target/)
  assert.match(error(['udp', '--target', 'udp://h:1', '--seeders', '150%']), /--seeders/)
})
