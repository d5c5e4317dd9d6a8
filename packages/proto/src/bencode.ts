/**
 * General-purpose bencoding, through the `bencode` package: for sync changesets, state files and
 * tests. The hot replies are written by hand (http/responses.ts).
 */
import bencode from 'bencode'

/** Result of {@link decodeBencode}: a value, or the reason it is not valid bencode. */
export type BencodeResult = { ok: true, value: unknown } | { ok: false, error: string }

/** Decodes a complete bencoded value; never throws (trailing bytes are an error). */
export function decodeBencode (data: Uint8Array): BencodeResult {
  try {
    return { ok: true, value: bencode.decode(data) }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) }
  }
}

/** Encodes a value (dictionaries get sorted keys) into a Buffer. */
export function encodeBencode (value: unknown): Buffer {
  const u8 = bencode.encode(value)
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
}
