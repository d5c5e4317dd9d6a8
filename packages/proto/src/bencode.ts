/**
 * General-purpose bencoding for sync changesets, state files, otctl's tracker replies and tests.
 * The hot replies are written by hand (http/responses.ts).
 *
 * Encoding goes through the `bencode` package. Decoding does not: the package's decoder is lenient
 * (it accepts trailing bytes, truncates strings that run past the end, returns null for empty
 * input) and stores dictionary keys with a plain assignment, so a `__proto__` key replaced the
 * decoded object's prototype instead of becoming a key (`d9:__proto__d1:ai1eee` gave `{}` whose
 * inherited `a` was 1). {@link decodeBencode} first checks the framing with a strict, iterative
 * scanner — which also bounds nesting depth, so hostile input cannot overflow the stack — and then
 * builds the value itself, in the package's shapes: strings as Uint8Array copies, integers as
 * numbers (exact below 2^53), lists as arrays, dictionaries as plain objects whose keys are the
 * UTF-8 text of the key bytes (hex when they are not valid UTF-8; a later duplicate key wins).
 */
import bencode from 'bencode'

/** Result of {@link decodeBencode}: a value, or the reason it is not valid bencode. */
export type BencodeResult = { ok: true, value: unknown } | { ok: false, error: string }

/** Deepest nesting of lists and dictionaries accepted. */
export const BENCODE_MAX_DEPTH = 64

/**
 * Checks that `data` is exactly one well-formed bencoded value. Returns null when it is, else the
 * reason with the byte offset. Never throws.
 */
export function validateBencode (data: Uint8Array): string | null {
  const n = data.length
  if (n === 0) return 'empty input'
  // Stack of open containers: 'l' or 'd'; for dictionaries, whether a key is expected next.
  const kinds: number[] = []
  const expectKey: boolean[] = []
  let i = 0
  while (i < n) {
    const c = data[i]!
    const top = kinds.length - 1
    if (c === 101) { // 'e' closes a container
      if (top < 0) return `unexpected 'e' at offset ${i}`
      if (kinds[top] === 100 && !expectKey[top]) return `dictionary key without a value at offset ${i}`
      kinds.pop(); expectKey.pop()
      i++
    } else {
      const isKey = top >= 0 && kinds[top] === 100 && expectKey[top] === true
      if (isKey && (c < 48 || c > 57)) return `dictionary key is not a string at offset ${i}`
      if (c === 105) { // 'i' integer
        let j = i + 1
        if (data[j] === 45) j++
        const digits = j
        while (j < n && data[j]! >= 48 && data[j]! <= 57) j++
        if (j === digits || j >= n || data[j] !== 101) return `malformed integer at offset ${i}`
        if (data[digits] === 48 && (j - digits > 1 || digits !== i + 1)) return `malformed integer at offset ${i}`
        i = j + 1
      } else if (c >= 48 && c <= 57) { // string
        let j = i
        let len = 0
        while (j < n && data[j]! >= 48 && data[j]! <= 57) { len = len * 10 + data[j]! - 48; j++; if (len > n) break }
        if (j >= n || data[j] !== 58) return `malformed string length at offset ${i}`
        if (data[i] === 48 && j - i > 1) return `malformed string length at offset ${i}`
        if (j + 1 + len > n) return `string runs past the end at offset ${i}`
        i = j + 1 + len
      } else if (c === 108 || c === 100) { // 'l' list, 'd' dictionary
        if (kinds.length >= BENCODE_MAX_DEPTH) return `nesting deeper than ${BENCODE_MAX_DEPTH} at offset ${i}`
        if (top >= 0 && kinds[top] === 100) expectKey[top] = !expectKey[top]
        kinds.push(c); expectKey.push(true)
        i++
        continue
      } else {
        return `unexpected byte 0x${c.toString(16).padStart(2, '0')} at offset ${i}`
      }
      if (top >= 0 && kinds[top] === 100) expectKey[top] = !expectKey[top]
    }
    if (kinds.length === 0) return i === n ? null : `trailing bytes at offset ${i}`
  }
  return kinds.length === 0 ? null : 'unterminated list or dictionary'
}

/** Decodes exactly one complete bencoded value; never throws. */
export function decodeBencode (data: Uint8Array): BencodeResult {
  const error = validateBencode(data)
  if (error !== null) return { ok: false, error }
  decodeAt = 0
  return { ok: true, value: decodeValue(data) }
}

/** Dictionary keys as text, exactly as the `bencode` package makes them (its TextDecoder defaults). */
const keyDecoder = new TextDecoder()
/** Read position of {@link decodeValue}. */
let decodeAt = 0

/** Digits of an integer or a string length in `data[from, to)`, optionally negative. */
function readNumber (data: Uint8Array, from: number, to: number): number {
  let sign = 1
  if (data[from] === 45) { sign = -1; from++ }
  let n = 0
  for (let i = from; i < to; i++) n = n * 10 + (data[i]! - 48) // this order: exact up to 2^53
  return n * sign
}

/**
 * Decodes the value at `decodeAt` of input that {@link validateBencode} accepted (so nesting is
 * at most {@link BENCODE_MAX_DEPTH} deep and every length is in range) and moves past it.
 */
function decodeValue (data: Uint8Array): unknown {
  const c = data[decodeAt]!
  if (c === 105) { // i<digits>e
    const end = data.indexOf(101, decodeAt)
    const n = readNumber(data, decodeAt + 1, end)
    decodeAt = end + 1
    return n
  }
  if (c === 108) { // l ... e
    decodeAt++
    const list: unknown[] = []
    while (data[decodeAt] !== 101) list.push(decodeValue(data))
    decodeAt++
    return list
  }
  if (c === 100) { // d ... e
    decodeAt++
    const dict: Record<string, unknown> = {}
    while (data[decodeAt] !== 101) {
      const bytes = decodeString(data)
      let key = keyDecoder.decode(bytes)
      if (key.includes('\uFFFD')) key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
      const value = decodeValue(data)
      // An own property even for `__proto__`, whose plain assignment would set the prototype.
      if (key === '__proto__') Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true })
      else dict[key] = value
    }
    decodeAt++
    return dict
  }
  return decodeString(data)
}

/** Decodes the string `<length>:<bytes>` at `decodeAt` into a copy of its bytes. */
function decodeString (data: Uint8Array): Uint8Array {
  const colon = data.indexOf(58, decodeAt)
  const start = colon + 1
  const end = start + readNumber(data, decodeAt, colon)
  decodeAt = end
  return new Uint8Array(data.subarray(start, end))
}

/** Encodes a value (dictionaries get sorted keys) into a Buffer. */
export function encodeBencode (value: unknown): Buffer {
  const u8 = bencode.encode(value)
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
}
