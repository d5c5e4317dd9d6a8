/**
 * Closed and half-closed trackers (reference §8): an allow-list and a deny-list of info_hashes,
 * either or both (opentracker builds have exactly one). A hash may be announced when it is on the
 * allow-list (if there is one) and not on the deny-list (if there is one).
 *
 * Lists are `Set`s of the 20 raw bytes as latin1 strings, the store's key, so the check on the
 * announce path is one hash lookup per configured list. Every change replaces or mutates a set
 * within one turn of the event loop, so a request sees the old list or the new one, never a mix:
 *  - {@link AccessLists.reload} (SIGHUP, admin) reads each file into a new set and swaps it in; a
 *    missing, unreadable or malformed file keeps the previous set and says why;
 *  - FIFO lines (fifo.ts) add to or remove from the live set, as opentracker's dynamic lists
 *    were meant to: effective = (file ∪ added) \ deleted, until the next reload;
 *  - the admin endpoint changes the live set and writes the whole list back to its file
 *    atomically, so the change survives a reload and a restart.
 * Reloads and writes are serialised, so a reload never reads a file halfway through a write.
 */
import { chmod, readFile, stat } from 'node:fs/promises'
import { accessListLineHash, parseAccessList } from '@otd/proto'
import type { Logger } from 'pino'
import { writeFileAtomic } from '../fs-atomic.js'

export type ListName = 'white' | 'black'

export interface ListReport {
  list: ListName
  file: string
  ok: boolean
  entries: number
  /** Why the previous list was kept (`ok` false). */
  error?: string
}

export interface ChangeReport {
  list: ListName
  changed: number
  unchanged: number
  entries: number
  persisted: boolean
  error?: string
}

class HashList {
  set = new Set<string>()
  loadedAt = 0
  constructor (readonly name: ListName, readonly file: string) {}
}

export class AccessLists {
  /** Hot-path views: null when the list is not configured. */
  white: Set<string> | null = null
  black: Set<string> | null = null
  reloads = 0
  reloadFailures = 0
  private readonly lists: HashList[] = []
  private chain: Promise<unknown> = Promise.resolve()

  constructor (whitelistFile: string, blacklistFile: string, private readonly logger: Logger) {
    if (whitelistFile !== '') { this.lists.push(new HashList('white', whitelistFile)); this.white = new Set() }
    if (blacklistFile !== '') { this.lists.push(new HashList('black', blacklistFile)); this.black = new Set() }
  }

  /** Whether any list is configured. */
  get active (): boolean { return this.lists.length > 0 }

  /** Whether the raw info_hash `key` may be announced. */
  allows (key: string): boolean {
    const w = this.white
    if (w !== null && !w.has(key)) return false
    const b = this.black
    return b === null || !b.has(key)
  }

  /** The list FIFO lines change: the allow-list when there is one, else the deny-list. */
  get dynamicTarget (): ListName | null {
    return this.white !== null ? 'white' : this.black !== null ? 'black' : null
  }

  names (): ListName[] { return this.lists.map((l) => l.name) }

  file (name: ListName): string | null {
    return this.find(name)?.file ?? null
  }

  /** Entries of a list as lowercase hex, sorted. */
  entries (name: ListName): string[] {
    const l = this.find(name)
    if (l === undefined) return []
    return [...l.set].map((k) => Buffer.from(k, 'latin1').toString('hex')).sort()
  }

  size (name: ListName): number {
    return this.find(name)?.set.size ?? 0
  }

  private find (name: ListName): HashList | undefined {
    return this.lists.find((l) => l.name === name)
  }

  private publish (l: HashList): void {
    if (l.name === 'white') this.white = l.set
    else this.black = l.set
  }

  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn)
    this.chain = p.catch(() => {})
    return p
  }

  /**
   * (Re)reads every list file. Each list is replaced whole, or kept when its file is unusable.
   * All files are read and parsed first and the new lists are then swapped in together, in one
   * turn of the event loop, so no request sees one new list with another old one.
   */
  reload (): Promise<ListReport[]> {
    return this.serial(async () => {
      const loaded: Array<Set<string> | string> = []
      for (const l of this.lists) loaded.push(await this.readOne(l))
      const reports = this.lists.map((l, i) => {
        const r = loaded[i]!
        return typeof r === 'string' ? this.keep(l, r) : this.install(l, r)
      })
      this.reloads++
      return reports
    })
  }

  /** Reads and parses a list file: the new set, or why it is unusable. */
  private async readOne (l: HashList): Promise<Set<string> | string> {
    let data: Buffer
    try {
      data = await readFile(l.file)
    } catch (err) {
      return `cannot read ${l.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`
    }
    const parsed = parseAccessList(data)
    if (parsed.rejected > 0) {
      return `${l.file}: ${parsed.rejected} line(s) are not a 40-hex-digit info_hash` +
        (parsed.firstRejectedLine > 0 ? ` (first: line ${parsed.firstRejectedLine})` : '')
    }
    const set = new Set<string>()
    for (let i = 0; i < parsed.count; i++) set.add(parsed.hashes.toString('latin1', i * 20, i * 20 + 20))
    return set
  }

  private install (l: HashList, set: Set<string>): ListReport {
    l.set = set
    l.loadedAt = Date.now()
    this.publish(l)
    this.logger.info({ list: l.name, file: l.file, entries: set.size }, `access list ${l.name} loaded: ${set.size} info_hashes`)
    return { list: l.name, file: l.file, ok: true, entries: set.size }
  }

  private keep (l: HashList, error: string): ListReport {
    this.reloadFailures++
    this.logger.error({ list: l.name, file: l.file }, `${error}; keeping the previous ${l.name} list (${l.set.size} entries)`)
    return { list: l.name, file: l.file, ok: false, entries: l.set.size, error }
  }

  /** Applies one FIFO line's change to the dynamic target list (not persisted; see module doc). */
  applyDynamic (key: string, add: boolean): boolean {
    const name = this.dynamicTarget
    const l = name === null ? undefined : this.find(name)
    if (l === undefined) return false
    const had = l.set.has(key)
    if (add) l.set.add(key)
    else l.set.delete(key)
    return had !== add
  }

  /**
   * With `--workers`: applies a change another worker made with {@link change} (which wrote the
   * file), to this worker's copy of the list, in memory only.
   */
  changeInMemory (name: ListName, add: boolean, keys: readonly string[]): void {
    const l = this.find(name)
    if (l === undefined) return
    for (const k of keys) {
      if (add) l.set.add(k)
      else l.set.delete(k)
    }
  }

  /**
   * Adds or removes raw keys in a list and writes the list back to its file atomically. The
   * in-memory change applies at once; if the write fails, the change stays in memory and the
   * report says the file was not updated.
   */
  change (name: ListName, add: boolean, keys: readonly string[]): Promise<ChangeReport> {
    return this.serial(async () => {
      const l = this.find(name)
      if (l === undefined) return { list: name, changed: 0, unchanged: keys.length, entries: 0, persisted: false, error: `no ${name} list is configured` }
      let changed = 0
      for (const k of keys) {
        const had = l.set.has(k)
        if (add && !had) { l.set.add(k); changed++ } else if (!add && had) { l.set.delete(k); changed++ }
      }
      const report: ChangeReport = { list: name, changed, unchanged: keys.length - changed, entries: l.set.size, persisted: false }
      try {
        // Patch the file rather than regenerate it: comments, names after hashes and the order
        // of lines stay as the operator wrote them; removed hashes lose their line, added ones
        // are appended.
        let text = ''
        try { text = await readFile(l.file, 'latin1') } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err }
        const patched = patchListText(text, keys.map((k) => Buffer.from(k, 'latin1').toString('hex')), add)
        if (patched !== text) {
          // Keep the file's permissions (a private list must not become world-readable by a rewrite).
          const mode = await stat(l.file).then((st) => st.mode & 0o777, () => 0o644)
          await writeFileAtomic(l.file, [Buffer.from(patched, 'latin1')], mode)
          await chmod(l.file, mode).catch(() => {}) // the umask may have narrowed it
          this.logger.info({ list: name, file: l.file, changed, entries: l.set.size }, `access list ${name}: ${add ? 'added' : 'removed'} ${changed}, written to ${l.file}`)
        }
        report.persisted = true
      } catch (err) {
        report.error = `cannot write ${l.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`
        this.logger.error({ list: name, file: l.file }, `${report.error}; the change applies in memory only`)
      }
      return report
    })
  }
}

/**
 * A list file's text with `hexes` (lowercase) added or removed: lines are kept as written
 * except the lines of removed hashes; hashes to add that have no line yet are appended.
 */
export function patchListText (text: string, hexes: readonly string[], add: boolean): string {
  const wanted = new Set(hexes)
  const lines = text === '' ? [] : text.split('\n')
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  const out: string[] = []
  const present = new Set<string>()
  for (const line of lines) {
    const hash = accessListLineHash(line)
    if (hash !== null) {
      const hex = hash.toString('hex')
      if (!add && wanted.has(hex)) continue
      present.add(hex)
    }
    out.push(line)
  }
  if (add) for (const hex of hexes) if (!present.has(hex)) { out.push(hex); present.add(hex) }
  return out.length === 0 ? '' : out.join('\n') + '\n'
}
