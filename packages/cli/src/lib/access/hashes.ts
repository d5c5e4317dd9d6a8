/**
 * info_hashes from the command line, a file or stdin, validated before anything is sent: the
 * daemon would refuse the whole request for one bad hash (400, nothing changed), and a message
 * that names the argument or `file:line` is more useful than the daemon's.
 *
 * Arguments are hashes (40 hex digits, either case), several per argument if separated by commas
 * or blanks; `-` reads stdin. Files and stdin take otd's access-list format (docs/access-lists.md):
 * one hash per line, anything after it from a non-hex character on is a comment, `#` lines and
 * blank lines are skipped; further 40-hex words on a line are hashes too.
 */
import { readFile } from 'node:fs/promises'
import { badInput } from '../../errors.js'

const HEX40 = /^[0-9a-fA-F]{40}$/
const HEX40_PREFIX = /^[0-9a-fA-F]{40}(?![0-9a-fA-F])/

export function isHashHex (s: string): boolean {
  return HEX40.test(s)
}

export interface HashInput {
  /** Lowercase hex, first occurrence order, no duplicates. */
  hashes: string[]
  /** `where: what` for every word that is not a hash. */
  invalid: string[]
}

function show (word: string): string {
  return JSON.stringify(word.length > 50 ? word.slice(0, 50) + '...' : word)
}

/** Words of command-line arguments; `-` is left to the caller (stdin). */
export function parseHashArgs (args: readonly string[], into: HashInput = { hashes: [], invalid: [] }): HashInput {
  args.forEach((arg, i) => {
    for (const word of arg.split(/[\s,]+/)) {
      if (word === '') continue
      if (HEX40.test(word)) into.hashes.push(word.toLowerCase())
      else into.invalid.push(`argument ${i + 1}: ${show(word)} is not 40 hex digits`)
    }
  })
  return into
}

/** Lines in access-list format; `source` names them in messages (a path or `stdin`). */
export function parseHashText (text: string, source: string, into: HashInput = { hashes: [], invalid: [] }): HashInput {
  const lines = text.split('\n')
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const m = HEX40_PREFIX.exec(line)
    if (m === null) {
      into.invalid.push(`${source}:${i + 1}: ${show(line)} does not start with 40 hex digits`)
      return
    }
    into.hashes.push(m[0].toLowerCase())
    for (const word of line.slice(40).split(/[\s,]+/)) {
      if (HEX40.test(word)) into.hashes.push(word.toLowerCase())
    }
  })
  return into
}

async function readStdin (): Promise<string> {
  if (process.stdin.isTTY === true) throw badInput('reading info_hashes from stdin (-), but stdin is a terminal: pipe them in or use --file')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Collects hashes from arguments (`-` = stdin) and `--file` paths (`-` = stdin). Throws bad input
 * (exit 2) listing the first few problems if any word is not a hash, or if there is no hash at all.
 */
export async function collectHashes (args: readonly string[], files: readonly string[] = []): Promise<string[]> {
  const acc: HashInput = { hashes: [], invalid: [] }
  let stdinUsed = false
  const fromStdin = async (): Promise<void> => {
    if (stdinUsed) return
    stdinUsed = true
    parseHashText(await readStdin(), 'stdin', acc)
  }
  parseHashArgs(args.filter((a) => a !== '-'), acc)
  if (args.includes('-')) await fromStdin()
  for (const file of files) {
    if (file === '-') { await fromStdin(); continue }
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      throw badInput(`cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
    parseHashText(text, file, acc)
  }
  if (acc.invalid.length > 0) {
    const shown = acc.invalid.slice(0, 10)
    const more = acc.invalid.length > 10 ? `\n(and ${acc.invalid.length - 10} more)` : ''
    throw badInput(`not an info_hash (nothing was sent):\n${shown.join('\n')}${more}`, { invalid: acc.invalid })
  }
  const unique = [...new Set(acc.hashes)]
  if (unique.length === 0) throw badInput('no info_hash given: pass hashes as arguments, --file FILE, or - for stdin')
  return unique
}
