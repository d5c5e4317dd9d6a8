/**
 * otsync's own status: `GET /metrics` (Prometheus text, version 0.0.4) and `GET /status` (JSON:
 * the nodes' state and the last round's report), on the address given by `--metrics`.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Bridge } from './bridge.js'

function label (v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function renderMetrics (b: Bridge, version: string): string {
  const out: string[] = []
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[string, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, v] of samples) out.push(`${name}${labels} ${Number.isFinite(v) ? v : 0}`)
  }
  const per = (f: (n: Bridge['nodes'][number]) => number): Array<[string, number]> => b.nodes.map((n) => [`{node="${label(n.client.base)}"}`, f(n)])
  const r = b.lastReport
  metric('otsync_info', 'gauge', 'otsync version.', [[`{version="${label(version)}"}`, 1]])
  metric('otsync_rounds_total', 'counter', 'Sync rounds run.', [['', b.rounds]])
  metric('otsync_last_round_duration_seconds', 'gauge', 'Duration of the last round.', [['', r === null ? 0 : r.durationMs / 1000]])
  metric('otsync_last_round_timestamp_seconds', 'gauge', 'When the last round started (Unix time).', [['', r === null ? 0 : Date.parse(r.startedAt) / 1000]])
  metric('otsync_merged_peers', 'gauge', 'Peers (live) and stops in the last merged view.', [['{kind="live"}', r?.merged.peers ?? 0], ['{kind="stopped"}', r?.merged.stopped ?? 0]])
  metric('otsync_node_up', 'gauge', 'Whether the node answered in the last round (1) or not (0).', per((n) => n.up === true ? 1 : 0))
  metric('otsync_node_last_success_timestamp_seconds', 'gauge', 'When the node last completed a round (Unix time).', per((n) => n.lastOkMs / 1000))
  metric('otsync_node_requests_total', 'counter', 'Requests to the node by kind (each with its retries).', [
    ...per((n) => n.fetches).map(([l, v]): [string, number] => [l.replace('}', ',kind="fetch"}'), v]),
    ...per((n) => n.pushRequests).map(([l, v]): [string, number] => [l.replace('}', ',kind="push"}'), v])
  ])
  metric('otsync_node_failures_total', 'counter', 'Requests to the node that failed after their retries.', [
    ...per((n) => n.fetchFailures).map(([l, v]): [string, number] => [l.replace('}', ',kind="fetch"}'), v]),
    ...per((n) => n.pushFailures).map(([l, v]): [string, number] => [l.replace('}', ',kind="push"}'), v])
  ])
  metric('otsync_node_peers_fetched_total', 'counter', 'Records fetched from the node.', per((n) => n.peersFetched))
  metric('otsync_node_peers_pushed_total', 'counter', 'Records pushed to the node.', per((n) => n.peersPushed))
  return out.join('\n') + '\n'
}

export function status (b: Bridge): unknown {
  return {
    rounds: b.rounds,
    nodes: b.nodes.map((n) => ({
      url: n.client.base,
      up: n.up,
      tracker_id: n.trackerId,
      catching_up: n.needsCatchUp,
      last_success: n.lastOkMs === 0 ? null : new Date(n.lastOkMs).toISOString(),
      fetches: n.fetches,
      fetch_failures: n.fetchFailures,
      push_requests: n.pushRequests,
      push_failures: n.pushFailures,
      peers_fetched: n.peersFetched,
      peers_pushed: n.peersPushed
    })),
    last_round: b.lastReport
  }
}

/** Starts the status server; resolves with its bound address. */
export async function serveMetrics (b: Bridge, host: string, port: number, version: string): Promise<{ server: http.Server, address: AddressInfo }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET') { res.writeHead(405, { 'content-type': 'text/plain' }).end('GET only\n'); return }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(b, version))
    } else if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status(b), null, 1) + '\n')
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /status\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  return { server, address: server.address() as AddressInfo }
}
