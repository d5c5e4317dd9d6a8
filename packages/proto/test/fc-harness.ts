/**
 * Shared machinery of the fast-check property suites (the `props-*.test.ts` files). Not a test file.
 *
 * Seed and size. Every property of a suite file uses one seed: `OTD_PROP_SEED` (a number, or
 * `random` for a fresh one per file, shown in the suite's name), else {@link DEFAULT_SEED}, so CI
 * is deterministic. `OTD_PROP_RUNS` multiplies every property's number of runs (default 1; e.g.
 * 20 for a long local run). A failure reports the seed, fast-check's replay path, the shrunk
 * counterexample and the command that reproduces it.
 *
 * Hangs. A parser stuck in a loop blocks its thread, and node:test's timeouts are timers on that
 * same thread, so they never fire. Each property therefore runs in a worker thread (the suite file
 * imports itself there, see ./fc-worker.ts) under a deadline; a worker that misses it is
 * terminated and the property fails as "did not finish", naming the seed.
 *
 * Mutations. {@link mutated} turns an arbitrary of valid inputs into one of damaged inputs: bit
 * flips, overwritten bytes, truncation, deletions, insertions of random bytes or of "interesting"
 * tokens (huge numbers, separators, escapes, line ends, nesting), and splices of the input into
 * itself.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isMainThread, Worker, workerData } from 'node:worker_threads'
import fc from 'fast-check'
import type { Arbitrary, Parameters } from 'fast-check'

/** The seed when OTD_PROP_SEED is not set. */
export const DEFAULT_SEED = 0x07d5eed

function resolveSeed (text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_SEED
  if (text === 'random') return (Math.random() * 0x100000000) | 0
  const n = Number(text)
  if (!Number.isInteger(n)) throw new Error(`OTD_PROP_SEED must be an integer or "random", not ${JSON.stringify(text)}`)
  return n | 0
}

/** This run's seed: chosen once in the main thread and handed to every worker. */
export const PROP_SEED: number = isMainThread ? resolveSeed(process.env.OTD_PROP_SEED) : (workerData as { seed: number }).seed

/** Multiplier of every property's number of runs. */
export const PROP_SCALE = Math.max(0.01, Number(process.env.OTD_PROP_RUNS ?? '1') || 1)

/** Deadline of one property, in ms (OTD_PROP_DEADLINE_S, default 90 s, scaled with the runs). */
const DEADLINE_MS = Number(process.env.OTD_PROP_DEADLINE_S ?? '0') * 1000 || 90_000 * Math.max(1, PROP_SCALE)

/** fast-check parameters for a property meant to run `numRuns` times at scale 1. */
export function params (numRuns: number): Parameters<unknown> {
  return { seed: PROP_SEED, numRuns: Math.max(1, Math.round(numRuns * PROP_SCALE)) }
}

/** Properties of one suite, by name; each runs its own fc.assert calls and throws on failure. */
export type Cases = Record<string, () => void>

/**
 * Registers `cases` as node:test tests, each run in a worker thread that imports `moduleUrl`
 * (the calling suite file) and calls the case. Does nothing inside such a worker.
 */
export function propertySuite (title: string, moduleUrl: string, cases: Cases): void {
  if (!isMainThread) return
  describe(`${title} (fast-check, seed ${PROP_SEED}, runs x${PROP_SCALE})`, () => {
    for (const name of Object.keys(cases)) it(name, () => runInWorker(moduleUrl, name))
  })
}

function runInWorker (moduleUrl: string, name: string): Promise<void> {
  const reproduce = `reproduce: cd packages/proto && npx tsc -b && OTD_PROP_SEED=${PROP_SEED} OTD_PROP_RUNS=${PROP_SCALE} ` +
    `npx node --test --test-name-pattern=${JSON.stringify(name)} ${new URL(moduleUrl).pathname.replace(/^.*\/packages\/proto\//, '')}`
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fc-worker.js', import.meta.url), { workerData: { seed: PROP_SEED, moduleUrl, name } })
    let settled = false
    const finish = (err: Error | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (err === null) resolve(); else reject(err)
    }
    const timer = setTimeout(() => {
      void worker.terminate()
      finish(new Error(`property ${JSON.stringify(name)} did not finish within ${DEADLINE_MS / 1000} s: ` +
        `a parser hangs or is far slower than linear (seed ${PROP_SEED})\n${reproduce}`))
    }, DEADLINE_MS)
    worker.on('message', (m: { ok: boolean, message?: string }) => {
      if (m.ok) finish(null)
      else finish(new assert.AssertionError({ message: `${m.message ?? 'failed'}\n${reproduce}` }))
    })
    worker.on('error', (err) => finish(err))
    worker.on('exit', (code) => finish(code === 0 ? null : new Error(`property worker exited with code ${code}`)))
  })
}

// Arbitraries shared by the suites.

// fast-check 4 generates at most 10 elements unless told a size; these mix short inputs (size
// 'medium', up to 100) with ones spread over the whole allowed length (size 'max').

/** Arbitrary bytes as a Buffer (0..maxLength bytes). */
export function bytes (maxLength = 300): Arbitrary<Buffer> {
  return fc.oneof(fc.uint8Array({ maxLength, size: 'medium' }), fc.uint8Array({ maxLength, size: 'max' })).map((u) => Buffer.from(u))
}

/** Bytes drawn mostly from `alphabet` (so parsers get past their first checks), some arbitrary. */
export function bytesFrom (alphabet: string, maxLength = 300): Arbitrary<Buffer> {
  const codes = [...alphabet].map((ch) => ch.charCodeAt(0) & 255)
  const byte = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...codes) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) })
  return fc.oneof(fc.array(byte, { maxLength, size: 'medium' }), fc.array(byte, { maxLength, size: 'max' })).map((a) => Buffer.from(a))
}

/** Exactly `n` arbitrary bytes. */
export function fixedBytes (n: number): Arbitrary<Buffer> {
  return fc.uint8Array({ minLength: n, maxLength: n }).map((u) => Buffer.from(u))
}

/** Tokens that parsers of this package treat specially, for {@link mutated} to insert. */
export const INTERESTING_TOKENS = [
  '99999999999999999999', '18446744073709551616', '9007199254740993', '4294967296', '2147483648', '65536',
  '-1', '-0', '0', '00', '1e5', '0x10', ' ', '\t', '\r', '\n', '\r\n', '\n\n', '\r\n\r\n', '\0', '%', '%0', '%zz', '%00',
  '%ff', '&', '=', '?', '#', '+', ':', '/', '.', ',', ';', '"', '\\', 'e', 'i', 'l', 'd', 'i-0e', 'i00e', '0:', '20:',
  '4294967295:', 'llllllllllllllllllllllllllllllll', 'dddddddddddddddd', '\xff\xfe', '\xef\xbb\xbf', '\x80'
]

type Mutation =
  | { k: 'flip', at: number, bit: number }
  | { k: 'set', at: number, byte: number }
  | { k: 'cut', at: number }
  | { k: 'del', at: number, n: number }
  | { k: 'ins', at: number, data: Uint8Array }
  | { k: 'dup', at: number, from: number, n: number }

const mutation: Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('del' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 24 }) }),
  fc.record({ k: fc.constant('ins' as const), at: fc.nat(), data: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({
    k: fc.constant('ins' as const),
    at: fc.nat(),
    data: fc.constantFrom(...INTERESTING_TOKENS).map((t) => Uint8Array.from(Buffer.from(t, 'latin1')))
  }),
  fc.record({ k: fc.constant('dup' as const), at: fc.nat(), from: fc.nat(), n: fc.integer({ min: 1, max: 64 }) })
)

/** Applies mutations in order (positions are taken modulo the current length). */
export function applyMutations (input: Uint8Array, ops: readonly Mutation[]): Buffer {
  let b = Buffer.from(input)
  for (const m of ops) {
    const len = b.length
    const at = m.at % (len + 1)
    switch (m.k) {
      case 'flip': if (len > 0) b[at % len] = b[at % len]! ^ (1 << m.bit); break
      case 'set': if (len > 0) b[at % len] = m.byte; break
      case 'cut': b = b.subarray(0, at); break
      case 'del': b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]); break
      case 'ins': b = Buffer.concat([b.subarray(0, at), m.data, b.subarray(at)]); break
      case 'dup': {
        const from = m.from % (len + 1)
        b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + m.n), b.subarray(at)])
        break
      }
    }
  }
  return b
}

/** Damaged versions of valid inputs: 1 to 6 mutations each. */
export function mutated (valid: Arbitrary<Uint8Array>): Arbitrary<Buffer> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([v, ops]) => applyMutations(v, ops))
}

/** A range [start, end) inside a buffer of `length` bytes, from two naturals. */
export function rangeIn (length: number, a: number, b: number): [number, number] {
  const start = a % (length + 1)
  const end = start + b % (length - start + 1)
  return [start, end]
}

/** Runs `f` and returns its duration in ms. */
export function timed (f: () => void): number {
  const t = process.hrtime.bigint()
  f()
  return Number(process.hrtime.bigint() - t) / 1e6
}

/**
 * Asserts that `f` over a large adversarial input finishes within `limitMs`, a bound far above
 * linear time (a quadratic scan of a few MiB takes seconds to minutes, see props-http).
 */
export function assertFast (what: string, limitMs: number, f: () => void): void {
  const ms = timed(f)
  assert.ok(ms < limitMs, `${what}: ${ms.toFixed(0)} ms, over the ${limitMs} ms bound (superlinear?)`)
}
