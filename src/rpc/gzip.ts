// gzip for Connect and gRPC-Web messages, on the runtime's CompressionStream and DecompressionStream.
// Inflating is fed a slice at a time and stops as soon as the output passes the limit, so a gzip
// bomb costs at most one slice's worth of output (deflate inflates at most ~1032:1), never memory.

import type { Compression } from "@connectrpc/connect/protocol";
import { Failures } from "../domain/errors";
import { readAtMost } from "./bounded-read";
import { connectError } from "./errors";

/** Compressed bytes handed to the inflater at once: at most ~264 KB of output exist before we look. */
const INFLATE_SLICE = 256;

export const gzip: Compression = {
  name: "gzip",

  async compress(bytes) {
    return (await readAtMost(fedInSlices(new CompressionStream("gzip"), bytes, bytes.byteLength), Infinity))!;
  },

  async decompress(bytes, maxBytes) {
    if (bytes.byteLength === 0) return new Uint8Array();
    let inflated: Uint8Array<ArrayBuffer> | null;
    try {
      inflated = await readAtMost(fedInSlices(new DecompressionStream("gzip"), bytes, INFLATE_SLICE), maxBytes);
    } catch (error) {
      throw connectError(Failures.undecodableRequest(`invalid gzip data (${error instanceof Error ? error.message : String(error)})`));
    }
    if (inflated === null) throw connectError(Failures.requestTooLarge(maxBytes));
    return inflated;
  },
};

/**
 * The transform's output for `input` written `slice` bytes at a time. Writes wait for the reader
 * (backpressure), so beyond what was read only one slice's output exists.
 */
function fedInSlices(transform: TransformStream<Uint8Array, Uint8Array>, input: Uint8Array, slice: number): ReadableStream<Uint8Array> {
  const writer = transform.writable.getWriter();
  const feeding = async () => {
    for (let at = 0; at < input.byteLength; at += slice) await writer.write(input.subarray(at, at + slice));
    await writer.close();
  };
  // A failure here errors the readable side too, and the reader reports it; a cancelled reader ends it.
  feeding().catch(() => undefined);
  return transform.readable;
}
