/**
 * Frames HTTP/1.x responses on a client connection: status, Content-Length body, and whether a
 * 200 body is a tracker "failure reason". Handles responses split across chunks and several
 * responses in one chunk (pipelining). No header object, no string per response.
 */

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1')
const CONTENT_LENGTH = Buffer.from('content-length:', 'latin1')
const FAILURE = Buffer.from('d14:failure reason', 'latin1')
/** A response head longer than this is a protocol error. */
const MAX_HEAD_BYTES = 16 * 1024

/**
 * Called per complete response. `failure`: the body is a bencoded failure reason. `close`: the
 * server will close the connection after it (HTTP/1.0 without keep-alive, or `Connection: close`),
 * so no further request should be sent on it.
 */
export type OnResponse = (status: number, failure: boolean, close: boolean) => void

const CONNECTION = Buffer.from('connection:', 'latin1')
const CLOSE = Buffer.from('close', 'latin1')
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1')

/** Offset of the value of header `name` (lower case, with its colon) in `b[start, headEnd)`, or -1. */
function headerValue (b: Buffer, start: number, headEnd: number, name: Buffer): number {
  for (let i = start; i < headEnd; i++) {
    if (b[i] !== 10 || (b[i + 1]! | 0x20) !== name[0]) continue
    let k = 0
    for (; k < name.length; k++) {
      const c = b[i + 1 + k]!
      const lower = c >= 65 && c <= 90 ? c | 0x20 : c
      if (lower !== name[k]) break
    }
    if (k !== name.length) continue
    let j = i + 1 + k
    while (b[j] === 32 || b[j] === 9) j++
    return j
  }
  return -1
}

/** Whether `b[at, …)` starts with `word`, ignoring ASCII case. */
function startsWithLower (b: Buffer, at: number, end: number, word: Buffer): boolean {
  if (at < 0 || at + word.length > end) return false
  for (let k = 0; k < word.length; k++) {
    const c = b[at + k]!
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== word[k]) return false
  }
  return true
}

/** Content-Length of the head, -1 when absent, -2 when malformed. */
function contentLength (b: Buffer, start: number, headEnd: number): number {
  let j = headerValue(b, start, headEnd, CONTENT_LENGTH)
  if (j < 0) return -1
  let n = 0
  let digits = 0
  for (; b[j]! >= 48 && b[j]! <= 57; j++, digits++) n = n * 10 + b[j]! - 48
  return digits > 0 ? n : -2
}

/** Whether the server closes after this response (RFC 9112 §9.3). */
function closesAfter (b: Buffer, start: number, headEnd: number): boolean {
  const http10 = b[start + 7] === 48 // "HTTP/1.0"
  const v = headerValue(b, start, headEnd, CONNECTION)
  if (http10) return !startsWithLower(b, v, headEnd, KEEP_ALIVE)
  return startsWithLower(b, v, headEnd, CLOSE)
}

export class ResponseParser {
  /** Unconsumed bytes from earlier chunks. */
  private pending: Buffer | null = null
  /** A head without Content-Length: the body runs to the end of the connection. */
  private openStatus = -1
  private openBody: Buffer | null = null

  constructor (private readonly onResponse: OnResponse) {}

  /** Feeds a chunk; returns false on a malformed response (the connection should be dropped). */
  feed (chunk: Buffer): boolean {
    if (this.openStatus >= 0) {
      if (this.openBody === null) this.openBody = chunk.subarray(0, Math.min(chunk.length, FAILURE.length))
      else if (this.openBody.length < FAILURE.length) this.openBody = Buffer.concat([this.openBody, chunk]).subarray(0, FAILURE.length)
      return true
    }
    let b = chunk
    if (this.pending !== null) {
      b = Buffer.concat([this.pending, chunk])
      this.pending = null
    }
    let pos = 0
    while (pos < b.length) {
      const headEnd = b.indexOf(CRLFCRLF, pos)
      if (headEnd < 0) {
        if (b.length - pos > MAX_HEAD_BYTES) return false
        this.pending = b.subarray(pos)
        return true
      }
      // "HTTP/1.x NNN"
      if (b[pos] !== 72 || b[pos + 4] !== 47 || b[pos + 8] !== 32) return false
      const status = (b[pos + 9]! - 48) * 100 + (b[pos + 10]! - 48) * 10 + (b[pos + 11]! - 48)
      if (!(status >= 100 && status <= 599)) return false
      const bodyStart = headEnd + 4
      const len = contentLength(b, pos, headEnd)
      if (len === -2) return false
      if (len === -1) {
        this.openStatus = status
        this.openBody = bodyStart < b.length ? b.subarray(bodyStart, Math.min(b.length, bodyStart + FAILURE.length)) : null
        return true
      }
      if (b.length - bodyStart < len) {
        this.pending = b.subarray(pos)
        return true
      }
      this.onResponse(status, isFailure(b, bodyStart, len), closesAfter(b, pos, headEnd))
      pos = bodyStart + len
    }
    return true
  }

  /** Whether part of a response has arrived (so the connection did not close between responses). */
  hasPartial (): boolean {
    return this.pending !== null || this.openStatus >= 0
  }

  /** The connection ended: completes a response whose body ran to the end. Returns whether one was. */
  end (): boolean {
    if (this.openStatus < 0) return false
    const body = this.openBody
    const status = this.openStatus
    this.openStatus = -1
    this.openBody = null
    this.onResponse(status, body !== null && isFailure(body, 0, body.length), true)
    return true
  }
}

function isFailure (b: Buffer, start: number, len: number): boolean {
  return len >= FAILURE.length && b.compare(FAILURE, 0, FAILURE.length, start, start + FAILURE.length) === 0
}
