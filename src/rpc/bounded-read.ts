// Reads a byte stream whole, but never more than a limit: past it the stream is cancelled at once,
// so an oversized request body or a gzip bomb costs little more than the limit.

import { concatBytes } from "@noble/hashes/utils.js";

/** All bytes of `stream`, or null (the stream cancelled) as soon as they pass `maxBytes`. */
export async function readAtMost(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return concatBytes(...chunks) as Uint8Array<ArrayBuffer>;
    length += value.byteLength;
    if (length > maxBytes) {
      void reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
}
