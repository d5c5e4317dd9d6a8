// A tiny, strict bencode decoder for black-box tests.
//
// Stricter than most decoders on purpose: it rejects everything a canonical
// encoder never produces, so a tracker reply that decodes here is valid bencode
// by the letter of BEP 3:
//   * integers: no leading zeros, no "-0", no empty "ie", must be safe integers;
//   * byte strings: no leading zeros in the length, length must fit the input;
//   * dictionaries: keys must be byte strings in strictly ascending raw-byte order
//     (this rejects both unsorted and duplicated keys);
//   * no trailing bytes after the top-level value.
//
// Byte strings decode to Buffers. Dictionary keys are kept as latin1 ("binary")
// strings so that raw 20-byte info_hash keys survive unchanged; `keyBuf()`
// turns them back into Buffers.

export type BValue = number | Buffer | BValue[] | BDict
export type BDict = Map<string, BValue>

export class BencodeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`)
    this.name = 'BencodeError'
  }
}

const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= DIGIT_0 && b <= DIGIT_9
}

export function decodeStrict(input: Buffer | Uint8Array | string): BValue {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : Buffer.from(input)
  let pos = 0

  function byteAt(p: number): number {
    const b = buf[p]
    if (b === undefined) throw new BencodeError('unexpected end of input', p)
    return b
  }

  function readInt(): number {
    // at 'i'
    const start = pos
    pos++
    const end = buf.indexOf(0x65 /* e */, pos)
    if (end < 0) throw new BencodeError('unterminated integer', start)
    const text = buf.toString('latin1', pos, end)
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) throw new BencodeError(`non-canonical integer "${text}"`, start)
    const n = Number(text)
    if (!Number.isSafeInteger(n)) throw new BencodeError(`integer out of safe range "${text}"`, start)
    pos = end + 1
    return n
  }

  function readBytes(): Buffer {
    const start = pos
    const colon = buf.indexOf(0x3a /* : */, pos)
    if (colon < 0) throw new BencodeError('unterminated string length', start)
    const text = buf.toString('latin1', pos, colon)
    if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new BencodeError(`non-canonical string length "${text}"`, start)
    const len = Number(text)
    const dataStart = colon + 1
    if (!Number.isSafeInteger(len) || dataStart + len > buf.length) {
      throw new BencodeError(`string of length ${text} runs past the end of input`, start)
    }
    pos = dataStart + len
    return Buffer.from(buf.subarray(dataStart, pos))
  }

  function readValue(depth: number): BValue {
    if (depth > 64) throw new BencodeError('nesting too deep', pos)
    const b = byteAt(pos)
    if (b === 0x69 /* i */) return readInt()
    if (isDigit(b)) return readBytes()
    if (b === 0x6c /* l */) {
      pos++
      const list: BValue[] = []
      while (byteAt(pos) !== 0x65) list.push(readValue(depth + 1))
      pos++
      return list
    }
    if (b === 0x64 /* d */) {
      pos++
      const dict: BDict = new Map()
      let prevKey: Buffer | undefined
      while (byteAt(pos) !== 0x65) {
        const keyStart = pos
        if (!isDigit(byteAt(pos))) throw new BencodeError('dictionary key is not a byte string', pos)
        const key = readBytes()
        if (prevKey !== undefined) {
          const cmp = Buffer.compare(prevKey, key)
          if (cmp === 0) throw new BencodeError(`duplicate dictionary key ${JSON.stringify(key.toString('latin1'))}`, keyStart)
          if (cmp > 0) throw new BencodeError(`unsorted dictionary key ${JSON.stringify(key.toString('latin1'))}`, keyStart)
        }
        prevKey = key
        dict.set(key.toString('latin1'), readValue(depth + 1))
      }
      pos++
      return dict
    }
    throw new BencodeError(`unexpected byte 0x${b.toString(16).padStart(2, '0')}`, pos)
  }

  const value = readValue(0)
  if (pos !== buf.length) throw new BencodeError(`${buf.length - pos} trailing byte(s)`, pos)
  return value
}

// ---- typed accessors: throw with a readable message instead of returning undefined ----

function describe(v: BValue | undefined): string {
  if (v === undefined) return 'missing'
  if (typeof v === 'number') return `integer ${v}`
  if (Buffer.isBuffer(v)) return `string ${JSON.stringify(v.toString('latin1'))}`
  if (Array.isArray(v)) return `list of ${v.length}`
  return `dict with keys [${[...v.keys()].join(', ')}]`
}

export function asDict(v: BValue | undefined, what = 'value'): BDict {
  if (v instanceof Map) return v
  throw new Error(`${what}: expected a dictionary, got ${describe(v)}`)
}

export function asList(v: BValue | undefined, what = 'value'): BValue[] {
  if (Array.isArray(v)) return v
  throw new Error(`${what}: expected a list, got ${describe(v)}`)
}

export function asInt(v: BValue | undefined, what = 'value'): number {
  if (typeof v === 'number') return v
  throw new Error(`${what}: expected an integer, got ${describe(v)}`)
}

export function asBytes(v: BValue | undefined, what = 'value'): Buffer {
  if (Buffer.isBuffer(v)) return v
  throw new Error(`${what}: expected a byte string, got ${describe(v)}`)
}

export function getInt(d: BDict, key: string): number {
  return asInt(d.get(key), `key "${key}"`)
}

export function getBytes(d: BDict, key: string): Buffer {
  return asBytes(d.get(key), `key "${key}"`)
}

export function keyBuf(key: string): Buffer {
  return Buffer.from(key, 'latin1')
}

export function hashKey(hash: Buffer): string {
  return hash.toString('latin1')
}
