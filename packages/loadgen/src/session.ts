/**
 * Everything around a run that is not load: spawning and pinning the tracker, finding where it
 * listens, waiting until it answers, resolving names, and stopping it again.
 */
import { execFileSync } from 'node:child_process'
import { lookup } from 'node:dns/promises'
import os from 'node:os'
import type { Options } from './cli.js'
import { readCommandLine } from './proc.js'
import type { Environment } from './report.js'
import { type SpawnedTracker, spawnTracker, trackerPidOf, waitForHttp, waitForUdp } from './spawn.js'
import type { Target } from './target.js'

export interface Session {
  udp?: Target
  http?: Target
  /** Resolved addresses of the targets' hosts. */
  udpAddress?: { address: string, family: 4 | 6 }
  httpAddress?: { address: string, family: 4 | 6 }
  tracker?: SpawnedTracker
  pid?: number
  trackerProcess?: string
  loadCpus?: string
  trackerCpus?: string
  /** Things the report should say about the session (for example why it is not pinned). */
  notes: string[]
  close (): Promise<void>
}

const READY_TIMEOUT_MS = 20_000

function loopbackFor (address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1'
  if (address === '::') return '::1'
  return address
}

function targetFromListening (protocol: 'udp' | 'http', list: Array<{ address: string, port: number }>): Target | undefined {
  const a = list.find((x) => !x.address.includes(':')) ?? list[0]
  if (a === undefined) return undefined
  const host = loopbackFor(a.address)
  const hp = host.includes(':') ? `[${host}]:${a.port}` : `${host}:${a.port}`
  return protocol === 'udp'
    ? { protocol, host, port: a.port, announcePath: '/announce', scrapePath: '/scrape', url: `udp://${hp}` }
    : { protocol, host, port: a.port, announcePath: '/announce', scrapePath: '/scrape', url: `http://${hp}/announce` }
}

/** Pins this process (all threads) to `cpu` with taskset; false when that is not possible. */
function pinSelf (cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function resolve (host: string): Promise<{ address: string, family: 4 | 6 }> {
  const r = await lookup(host)
  return { address: r.address, family: r.family === 6 ? 6 : 4 }
}

export async function openSession (o: Options, need: { udp: boolean, http: boolean }): Promise<Session> {
  const s: Session = { notes: [], close: async () => { await s.tracker?.stop() } }
  for (const t of o.targets) {
    if (t.protocol === 'udp') s.udp = t
    else s.http = t
  }
  const cpus = os.availableParallelism()
  let trackerCpu: number | undefined
  if (o.pin) {
    // Best effort: a run on a 1-CPU machine or without taskset still runs, and says so.
    if (cpus < 2) s.notes.push('not pinned: --pin needs at least 2 CPUs')
    else if (!pinSelf(0)) s.notes.push('not pinned: taskset failed (is util-linux installed?)')
    else {
      trackerCpu = cpus - 1
      s.loadCpus = '0'
    }
  }
  if (o.spawn !== undefined) {
    const covered = (!need.udp || s.udp !== undefined) && (!need.http || s.http !== undefined)
    s.tracker = await spawnTracker(o.spawn, { cpu: trackerCpu, listeningTimeoutMs: covered ? 0 : READY_TIMEOUT_MS })
    if (trackerCpu !== undefined) s.trackerCpus = String(trackerCpu)
    const l = s.tracker.listening
    if (need.udp && s.udp === undefined && l !== null) s.udp = targetFromListening('udp', l.udp)
    if (need.http && s.http === undefined && l !== null) s.http = targetFromListening('http', l.http)
  }
  try {
    if (need.udp && s.udp === undefined) throw new Error('no udp:// target: pass --target udp://host:port (or spawn otd, which says where it listens)')
    if (need.http && s.http === undefined) throw new Error('no http:// target: pass --target http://host:port/announce (or spawn otd, which says where it listens)')
    const exited = s.tracker === undefined
      ? null
      : new Promise<never>((_resolve, reject) => s.tracker!.child.once('exit', (code) => reject(new Error(`tracker exited (code ${code}) before answering: ${o.spawn!}\n${s.tracker!.tail()}`))))
    exited?.catch(() => {})
    const ready = async (): Promise<void> => {
      if (need.udp && s.udp !== undefined) {
        s.udpAddress = await resolve(s.udp.host)
        if (s.tracker !== undefined) await waitForUdp(s.udpAddress.address, s.udp.port, READY_TIMEOUT_MS)
      }
      if (need.http && s.http !== undefined) {
        s.httpAddress = await resolve(s.http.host)
        if (s.tracker !== undefined) await waitForHttp(s.httpAddress.address, s.http.port, s.http.announcePath, READY_TIMEOUT_MS)
      }
    }
    await (exited === null ? ready() : Promise.race([ready(), exited]))
    if (o.pid !== undefined) s.pid = o.pid
    else if (s.tracker !== undefined) s.pid = trackerPidOf(s.tracker)
    if (s.pid !== undefined) {
      const comm = readCommandLine(s.pid)
      if (comm !== undefined) s.trackerProcess = comm
    }
  } catch (err) {
    await s.close()
    throw err
  }
  return s
}

export function sessionEnvironment (s: Session, e: Environment): Environment {
  if (s.loadCpus !== undefined) e.loadCpus = s.loadCpus
  if (s.trackerCpus !== undefined) e.trackerCpus = s.trackerCpus
  return e
}
