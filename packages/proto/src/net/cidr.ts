/**
 * Networks (`address[/bits]`) for blessed addresses and trusted proxies (reference
 * opentracker-behaviour.md §2.2 `access.stats` / `access.proxy`, §11 blessed addresses).
 *
 * A {@link Net} uses the word representation of ./ip.ts: one word for IPv4, four words (most
 * significant first) for IPv6, with the host bits zeroed. Addresses are matched in the form
 * {@link parseAddress} produces, which turns v4-mapped IPv6 (`::ffff:a.b.c.d`, what a dual-stack
 * socket reports for IPv4 clients) into {@link FAMILY_V4}. So that a net means the same thing
 * whichever way it is written:
 * - a v4-mapped net (`::ffff:10.0.0.0/104`) is normalised to the IPv4 net (`10.0.0.0/8`); written
 *   with a prefix below 96 it would mix IPv6 and IPv4 space and is rejected;
 * - an IPv6 net contains an IPv4 address iff it contains its v4-mapped form, so `::/0` (like
 *   `::ffff:0:0/96`) covers every IPv4 client too. This is how opentracker V2024 behaves, since
 *   it keeps every address in v4-mapped form and adds 96 to IPv4 prefixes.
 * Parsing is for configuration, so it allocates; nothing here throws on input.
 */
import { FAMILY_V4, FAMILY_V6, formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip.js'

/** A network: `words` has 1 (IPv4) or 4 (IPv6) words with the bits past `bits` zeroed. */
export interface Net {
  family: number
  words: Uint32Array
  bits: number
}

/** The mask of the first `bits` (clamped to 0..32) bits of a word. */
function wordMask (bits: number): number {
  if (bits <= 0) return 0
  if (bits >= 32) return 0xffffffff
  return (0xffffffff << (32 - bits)) >>> 0
}

/**
 * Parses `1.2.3.4`, `1.2.3.4/24`, `::1`, `2001:db8::/32`, `[::1]` or `[2001:db8::]/32`. The prefix
 * is 1 to 3 decimal digits, at most 32 (IPv4) or 128 (IPv6), and defaults to the full length; host
 * bits are cleared. Returns null for anything else: empty or overlong (over 100 characters) text,
 * surrounding whitespace, zones (`%eth0`), brackets around IPv4, trailing junk.
 */
export function parseNet (text: string): Net | null {
  if (text.length === 0 || text.length > 100 || text.indexOf('%') >= 0) return null
  let end = text.length
  let bits = -1
  const slash = text.lastIndexOf('/')
  if (slash >= 0) {
    const digits = end - slash - 1
    if (digits < 1 || digits > 3) return null
    bits = 0
    for (let i = slash + 1; i < end; i++) {
      const c = text.charCodeAt(i)
      if (c < 48 || c > 57) return null
      bits = bits * 10 + (c - 48)
    }
    end = slash
  }
  let start = 0
  if (text.charCodeAt(0) === 91) { // '[' ... ']'
    if (end < 2 || text.charCodeAt(end - 1) !== 93) return null
    start = 1
    end--
  }
  const colon = text.indexOf(':', start)
  if (colon < 0 || colon >= end) {
    if (start !== 0) return null // brackets are for IPv6 only
    const v4 = parseIPv4(text, start, end)
    if (v4 < 0) return null
    if (bits < 0) bits = 32
    if (bits > 32) return null
    return { family: FAMILY_V4, words: Uint32Array.of((v4 & wordMask(bits)) >>> 0), bits }
  }
  const words = new Uint32Array(4)
  if (!parseIPv6(text, words, start, end)) return null
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    if (bits < 0) bits = 128
    if (bits < 96 || bits > 128) return null
    bits -= 96
    return { family: FAMILY_V4, words: Uint32Array.of((words[3]! & wordMask(bits)) >>> 0), bits }
  }
  if (bits < 0) bits = 128
  if (bits > 128) return null
  for (let k = 0; k < 4; k++) words[k] = words[k]! & wordMask(bits - 32 * k)
  return { family: FAMILY_V6, words, bits }
}

/**
 * Whether `net` contains the address `ip` of `family`, in the representation {@link parseAddress}
 * produces: `ip[0]` is the IPv4 word, or `ip[0..3]` are the IPv6 words. An IPv6 address in
 * v4-mapped form is treated as IPv4; an IPv4 address is in an IPv6 net iff its v4-mapped form is.
 * False for any other family or too short an `ip`.
 */
export function netContains (net: Net, family: number, ip: Uint32Array | ArrayLike<number>): boolean {
  let v4: number
  if (family === FAMILY_V4) {
    if (ip.length < 1) return false
    v4 = ip[0]! >>> 0
  } else if (family === FAMILY_V6) {
    if (ip.length < 4) return false
    const w0 = ip[0]! >>> 0
    const w1 = ip[1]! >>> 0
    const w2 = ip[2]! >>> 0
    if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
      v4 = ip[3]! >>> 0
    } else {
      if (net.family !== FAMILY_V6) return false
      const bits = net.bits
      const w = net.words
      return ((w0 & wordMask(bits)) >>> 0) === w[0] &&
        ((w1 & wordMask(bits - 32)) >>> 0) === w[1] &&
        ((w2 & wordMask(bits - 64)) >>> 0) === w[2] &&
        (((ip[3]! >>> 0) & wordMask(bits - 96)) >>> 0) === w[3]
    }
  } else {
    return false
  }
  if (net.family === FAMILY_V4) return ((v4 & wordMask(net.bits)) >>> 0) === net.words[0]
  if (net.family !== FAMILY_V6) return false
  // v4-mapped: 0, 0, 0xffff, v4
  const bits = net.bits
  const w = net.words
  return w[0] === 0 && w[1] === 0 &&
    ((0xffff & wordMask(bits - 64)) >>> 0) === w[2] &&
    ((v4 & wordMask(bits - 96)) >>> 0) === w[3]
}

/** Formats a net as `10.0.0.0/8` or `2001:db8::/32`; a full-length net is just the address. */
export function formatNet (net: Net): string {
  if (net.family === FAMILY_V4) {
    const addr = formatIPv4(net.words[0] ?? 0)
    return net.bits >= 32 ? addr : `${addr}/${net.bits}`
  }
  const addr = formatIPv6(net.words.length >= 4 ? net.words : [0, 0, 0, 0])
  return net.bits >= 128 ? addr : `${addr}/${net.bits}`
}
