// Request bodies are bounded at 64 KiB, on the wire and after decompression, in every protocol and
// whether or not a Content-Length was sent; a bigger body is refused with ResourceExhausted after
// reading little more than the limit, and a gzip bomb is stopped as it inflates.
import { Code } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { InvoiceService } from "../../gen/invoice/v1/invoice_pb";
import { UserService } from "../../gen/user/v1/user_pb";
import { call, chunkedBody, envelope, enveloped, gzipped, json, type Wire } from "./wire";

const LIMIT = 64 * 1024;
const TOO_LARGE = { code: Code.ResourceExhausted, message: `request too large: at most ${LIMIT} bytes` };
const METHODS: [string, DescMethod][] = [
  ["RegisterUser (unary)", UserService.method.registerUser],
  ["InvoiceStatusStream (server streaming)", InvoiceService.method.invoiceStatusStream],
];
const success = (method: DescMethod) => (method.methodKind === "unary" ? "ok" : "open");

/** A valid request message of exactly `size` bytes: JSON padded with spaces, or binary padded with an unknown field. */
function message(wire: Wire, size: number): Uint8Array {
  if (wire.endsWith("json")) return json("{}".padEnd(size, " "));
  // Field 99, length-delimited: tag (2 bytes), varint length, data. Unknown binary fields are tolerated.
  for (let data = size - 3; data >= 0; data--) {
    const length = varint(data);
    if (2 + length.length + data === size) return new Uint8Array([0x9a, 0x06, ...length, ...new Uint8Array(data)]);
  }
  throw new Error(`no padded message of ${size} bytes`);
}

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}

/** A request body of exactly `size` bytes on the wire. */
const body = (wire: Wire, method: DescMethod, size: number) =>
  enveloped(wire, method) ? envelope(0, message(wire, size - 5)) : message(wire, size);

describe.each(["connect-json", "connect-binary", "grpc-web"] as Wire[])("request limits over %s", (wire) => {
  describe.each(METHODS)("%s", (_name, method) => {
    it("accepts a body of exactly 64 KiB", async () => {
      const res = await call(wire, method, new Uint8Array(), { body: body(wire, method, LIMIT), waitMs: 2_000 });
      expect(res.end).toBe(success(method));
    });

    it("refuses a body of 64 KiB and one byte with ResourceExhausted", async () => {
      const res = await call(wire, method, new Uint8Array(), { body: body(wire, method, LIMIT + 1), waitMs: 3_000 });
      expect(res.end).toEqual(TOO_LARGE);
      if (!enveloped(wire, method)) expect(res.status).toBe(429);
    });

    it("refuses a 5 MB body with a Content-Length", async () => {
      const res = await call(wire, method, new Uint8Array(), { body: body(wire, method, 5_000_000), waitMs: 3_000 });
      expect(res.end).toEqual(TOO_LARGE);
    });

    const claims: [string, number][] = enveloped(wire, method)
      ? [["whose envelope says how big it is", 5_000_000 - 5], ["whose envelope claims 10 bytes", 10]]
      : [["", 0]];
    it.each(claims)("refuses a 5 MB body sent in chunks without a Content-Length %s, after reading little of it", async (_why, claimed) => {
      const prefix = enveloped(wire, method) ? envelope(0, new Uint8Array()) : json("{");
      if (enveloped(wire, method)) new DataView(prefix.buffer).setUint32(1, claimed);
      const chunked = chunkedBody(5_000_000, prefix);
      const res = await call(wire, method, new Uint8Array(), { body: chunked.stream, waitMs: 3_000 });
      expect(res.end).toEqual(TOO_LARGE);
      expect(chunked.pulled()).toBeLessThan(256 * 1024);
    });

    it("stops a gzip bomb (10 MB of padding in a few KB) as it inflates", async () => {
      const bomb = await gzipped(message(wire, 10_000_000));
      expect(bomb.byteLength).toBeLessThan(LIMIT);
      const started = Date.now();
      const sent = enveloped(wire, method) ? envelope(1, bomb) : bomb;
      const res = await call(wire, method, new Uint8Array(), { gzip: true, body: sent, waitMs: 3_000 });
      expect(res.end).toEqual(TOO_LARGE);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it("accepts a gzip body that inflates to exactly 64 KiB, and refuses one byte more", async () => {
      // The limit applies to the message once inflated, whatever the framing around it.
      expect((await call(wire, method, message(wire, LIMIT), { gzip: true, waitMs: 2_000 })).end).toBe(success(method));
      expect((await call(wire, method, message(wire, LIMIT + 1), { gzip: true, waitMs: 3_000 })).end).toEqual(TOO_LARGE);
    });
  });
});
