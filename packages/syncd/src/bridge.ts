/**
 * One otsync bridge over a fixed list of nodes. A round:
 *  1. fetches `GET /sync` from every node at once (each with its own timeout and retries, so a
 *     down or slow node delays nobody else);
 *  2. merges the exports (merge.ts);
 *  3. pushes to each reachable node what it lacks, in changesets of ≤500 peers, ≤10 per request.
 *
 * Catching up: a node that failed, or whose tracker id changed (it restarted, empty), is marked;
 * the next round it takes part in is a catch-up round, which asks every node for its peers of
 * the full window (default 2700 s) instead of the last 5 minutes, so the node is refilled with
 * every live peer, not only the recent ones. The first round of a running otsync is one too.
 */
import type { Logger } from 'pino'
import type { OtsyncOptions } from './config.js'
import {
  type PeerSet, type PushLog, encodePushes, isStopped, mergeExports, parseExport, planPush, prunePushLog, recordPushed
} from './merge.js'
import { NodeClient } from './node-client.js'

export interface NodeReport {
  url: string
  ok: boolean
  error?: string
  trackerId: string | null
  /** Records in its export: live peers and stops. */
  exported: { peers: number, stopped: number }
  /** What it was sent. */
  pushed: { peers: number, stopped: number, changesets: number, requests: number }
}

export interface RoundReport {
  round: number
  startedAt: string
  durationMs: number
  /** A catch-up round (full window). */
  catchUp: boolean
  nodes: NodeReport[]
  merged: { peers: number, stopped: number }
  /** Records pushed, by the node that exported them (first exporter) and the node they went to. */
  moves: Array<{ from: string, to: string, peers: number, stopped: number }>
}

export interface NodeState {
  readonly client: NodeClient
  trackerId: string | null
  /** null before the first round. */
  up: boolean | null
  needsCatchUp: boolean
  readonly pushLog: PushLog
  fetches: number
  fetchFailures: number
  pushRequests: number
  pushFailures: number
  peersFetched: number
  peersPushed: number
  lastOkMs: number
}

export class Bridge {
  readonly nodes: NodeState[]
  rounds = 0
  lastReport: RoundReport | null = null

  constructor (private readonly o: OtsyncOptions, private readonly logger: Logger, catchUpFirst: boolean) {
    const policy = { timeoutMs: o.timeoutSeconds * 1000, retries: o.retries, backoffMs: o.backoffMs }
    this.nodes = o.nodes.map((url) => ({
      client: new NodeClient(url, policy, logger),
      trackerId: null,
      up: null,
      needsCatchUp: catchUpFirst,
      pushLog: new Map(),
      fetches: 0,
      fetchFailures: 0,
      pushRequests: 0,
      pushFailures: 0,
      peersFetched: 0,
      peersPushed: 0,
      lastOkMs: 0
    }))
  }

  private markDown (n: NodeState, why: string): void {
    if (n.up !== false) this.logger.error({ node: n.client.base, err: why }, `node ${n.client.base} unreachable: ${why}; skipped this round, it catches up when back`)
    n.up = false
    n.needsCatchUp = true
    n.pushLog.clear()
  }

  private async fetchAll (catchUp: boolean): Promise<Array<{ set: PeerSet, error?: undefined } | { set: null, error: string }>> {
    const since = catchUp ? this.o.fullWindowSeconds : this.o.windowSeconds
    return await Promise.all(this.nodes.map(async (n) => {
      n.fetches++
      try {
        const r = await n.client.fetchExport(since)
        const set = parseExport(r.body)
        if (n.trackerId !== null && r.trackerId !== null && r.trackerId !== n.trackerId) {
          this.logger.warn({ node: n.client.base, from: n.trackerId, to: r.trackerId }, `node ${n.client.base} restarted (tracker id ${n.trackerId} → ${r.trackerId}); catching it up`)
          n.needsCatchUp = true
          n.pushLog.clear()
        }
        if (r.trackerId !== null) n.trackerId = r.trackerId
        if (n.up === false) this.logger.info({ node: n.client.base }, `node ${n.client.base} is back; catching it up`)
        n.up = true
        n.peersFetched += set.size
        return { set }
      } catch (err) {
        n.fetchFailures++
        const why = (err as Error).message
        this.markDown(n, why)
        return { set: null, error: why }
      }
    }))
  }

  /** Runs one round and returns its report. */
  async round (): Promise<RoundReport> {
    const started = Date.now()
    this.rounds++
    let catchUp = this.nodes.some((n) => n.needsCatchUp)
    let fetched = await this.fetchAll(catchUp)
    // A restart noticed in this very fetch: fetch again with the full window, so it is refilled now.
    if (!catchUp && this.nodes.some((n, i) => n.needsCatchUp && fetched[i]!.set !== null)) {
      catchUp = true
      fetched = await this.fetchAll(true)
    }
    const sets = fetched.map((f) => f.set)
    const { merged, origin } = mergeExports(sets)
    const now = Date.now()
    const dedupeMs = this.o.dedupeSeconds * 1000
    const moves = new Map<string, { from: string, to: string, peers: number, stopped: number }>()
    const reports = await Promise.all(this.nodes.map(async (n, i): Promise<NodeReport> => {
      const own = sets[i] ?? null
      const report: NodeReport = {
        url: n.client.base,
        ok: own !== null,
        trackerId: n.trackerId,
        exported: own === null ? { peers: 0, stopped: 0 } : countSet(own),
        pushed: { peers: 0, stopped: 0, changesets: 0, requests: 0 }
      }
      if (own === null) { report.error = fetched[i]!.error!; return report }
      prunePushLog(n.pushLog, now, dedupeMs)
      const plan = planPush(merged, own, n.needsCatchUp ? null : n.pushLog, now, dedupeMs)
      for (const body of encodePushes(plan)) {
        n.pushRequests++
        try {
          const r = await n.client.push(body.body)
          if (r.trackerId !== null && n.trackerId !== null && r.trackerId !== n.trackerId) n.needsCatchUp = true
          this.logger.debug({ node: n.client.base, peers: body.peers, changesets: body.changesets, result: r.result }, 'pushed')
        } catch (err) {
          n.pushFailures++
          report.ok = false
          report.error = (err as Error).message
          this.markDown(n, report.error)
          return report
        }
        report.pushed.requests++
        report.pushed.changesets += body.changesets
      }
      for (const [k, v] of plan) {
        if (isStopped(v)) report.pushed.stopped++
        else report.pushed.peers++
        const from = this.nodes[origin.get(k) ?? i]!.client.base
        const id = `${from}\n${n.client.base}`
        let m = moves.get(id)
        if (m === undefined) moves.set(id, m = { from, to: n.client.base, peers: 0, stopped: 0 })
        if (isStopped(v)) m.stopped++
        else m.peers++
      }
      n.peersPushed += plan.size
      recordPushed(n.pushLog, plan, now)
      if (report.ok) { n.needsCatchUp = false; n.lastOkMs = Date.now() }
      return report
    }))
    const m = countSet(merged)
    const report: RoundReport = {
      round: this.rounds,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      catchUp,
      nodes: reports,
      merged: m,
      moves: [...moves.values()]
    }
    this.lastReport = report
    const failed = reports.filter((r) => !r.ok).length
    const pushed = reports.reduce((s, r) => s + r.pushed.peers + r.pushed.stopped, 0)
    this.logger.info({ round: report.round, catchUp, durationMs: report.durationMs, merged: m, pushed, failed },
      `round ${report.round}${catchUp ? ' (catch-up)' : ''}: ${m.peers} peers and ${m.stopped} stops merged from ${reports.length - failed} of ${reports.length} nodes, ${pushed} records pushed in ${report.durationMs} ms`)
    return report
  }

  async close (): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.client.close()))
  }
}

function countSet (set: PeerSet): { peers: number, stopped: number } {
  let stopped = 0
  for (const v of set.values()) if (isStopped(v)) stopped++
  return { peers: set.size - stopped, stopped }
}
