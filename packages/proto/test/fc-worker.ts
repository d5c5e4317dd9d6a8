/**
 * Worker-thread entry of the property suites (./fc-harness.ts): imports the suite file named in
 * workerData (which registers no tests in a worker), runs one case and reports back. Not a test file.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { Cases } from './fc-harness.js'

const { moduleUrl, name } = workerData as { moduleUrl: string, name: string }
try {
  const mod = await import(moduleUrl) as { cases?: Cases }
  const run = mod.cases?.[name]
  if (run === undefined) throw new Error(`${moduleUrl} has no property ${JSON.stringify(name)}`)
  run()
  parentPort!.postMessage({ ok: true })
} catch (err) {
  // fast-check's message has the seed, replay path and shrunk counterexample; the cause says what broke.
  const e = err as Error & { cause?: unknown }
  let message = e instanceof Error ? e.message : String(e)
  if (e instanceof Error && e.cause !== undefined) message += `\ncause: ${e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause)}`
  else if (e instanceof Error) message += `\n${(e.stack ?? '').split('\n').slice(1).join('\n')}`
  parentPort!.postMessage({ ok: false, message })
}
