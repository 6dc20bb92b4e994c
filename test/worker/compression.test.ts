// gzip, as connect-go and grpc-web clients use it: compressed requests in every protocol, compressed
// response messages for clients that ask, and clear errors for corrupt data or other encodings.
import { fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { GetInvoicesResponseSchema, InvoiceService } from "../../gen/invoice/v1/invoice_pb";
import { RegisterUserResponseSchema, UserService } from "../../gen/user/v1/user_pb";
import { API_TOKEN, clients, merchantUser, randomXmrKeys } from "./support";
import { call, envelope, gzipped, json, WIRES, type Wire } from "./wire";

const { registerUser } = UserService.method;
const { getInvoices, invoiceStatusStream } = InvoiceService.method;
const empty = (wire: Wire) => (wire.endsWith("json") ? json({}) : new Uint8Array());

describe.each(WIRES)("gzip over %s", (wire) => {
  it("accepts a compressed unary request", async () => {
    const res = await call(wire, registerUser, empty(wire), { gzip: true });
    expect(res.end).toBe("ok");
    const reply = wire.endsWith("json")
      ? fromJsonString(RegisterUserResponseSchema, new TextDecoder().decode(res.messages[0]))
      : fromBinary(RegisterUserResponseSchema, res.messages[0]!);
    expect(reply.userId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("accepts a compressed stream request", async () => {
    const res = await call(wire, invoiceStatusStream, empty(wire), { gzip: true, waitMs: 1_500 });
    expect(res.end).toBe("open");
  });

  it.each([
    ["cut short", (z: Uint8Array) => z.subarray(0, z.byteLength - 6)],
    ["with a corrupted byte", (z: Uint8Array) => z.map((b, i) => (i === 12 ? b ^ 0xff : b))],
    ["that is not gzip at all", () => json("{}")],
  ])("refuses compressed data %s with InvalidArgument", async (_why, spoil) => {
    const compressed = spoil(await gzipped(json("{}".padEnd(200, " "))));
    const body = wire.startsWith("grpc-web") ? envelope(1, compressed) : compressed;
    const res = await call(wire, registerUser, new Uint8Array(), { gzip: true, body });
    expect(res.end).toEqual({ code: Code.InvalidArgument, message: expect.stringMatching(/^request could not be decoded: /) });
  });

  it("refuses an encoding it does not support, naming the one it does", async () => {
    const header = wire.startsWith("grpc-web") ? "grpc-encoding" : "content-encoding";
    const res = await call(wire, registerUser, empty(wire), { headers: { [header]: "br" } });
    expect(res.end).toEqual({ code: Code.Unimplemented, message: 'unknown compression "br": supported encodings are gzip' });
  });
});

describe.each(["grpc-web", "grpc-web-json"] as Wire[])("compressed responses over %s", (wire) => {
  it("compresses a response message of 1 KiB or more for a client that accepts gzip", async () => {
    const c = clients("connect-binary");
    const userId = await merchantUser(c, randomXmrKeys());
    const made = [];
    for (let i = 0; i < 6; i++) made.push(await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 }));
    const ids = made.map((m) => m.paymentId);
    const request = wire.endsWith("json") ? json({ paymentIds: ids }) : new Uint8Array(ids.flatMap((id) => [0x0a, 36, ...new TextEncoder().encode(id)]));
    const plain = await call(wire, getInvoices, request);
    const zipped = await call(wire, getInvoices, request, { acceptGzip: true });
    expect([plain.compressed, zipped.compressed]).toEqual([false, true]);
    expect(zipped.headers.get("grpc-encoding")).toBe("gzip");
    const reply = wire.endsWith("json")
      ? fromJsonString(GetInvoicesResponseSchema, new TextDecoder().decode(zipped.messages[0]))
      : fromBinary(GetInvoicesResponseSchema, zipped.messages[0]!);
    expect(reply.invoices.map((i) => i.id)).toEqual(ids);
  });
});

describe("compressed Connect streams", () => {
  it("say gzip in Connect-Content-Encoding for a client that accepts it", async () => {
    const res = await call("connect-json", invoiceStatusStream, json({}), { acceptGzip: true, waitMs: 1_500 });
    expect(res.end).toBe("open");
    expect(res.headers.get("connect-content-encoding")).toBe("gzip");
  });
});

describe("Connect unary responses to Accept-Encoding: gzip", () => {
  it("are compressed once at most: the body a client reads is the JSON answer", async () => {
    const c = clients("connect-binary");
    const userId = await merchantUser(c, randomXmrKeys());
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 })).paymentId);
    const res = await (exports as unknown as { default: { fetch: typeof fetch } }).default.fetch("http://svc/invoice.v1.InvoiceService/GetInvoices", {
      method: "POST",
      headers: { "content-type": "application/json", "accept-encoding": "gzip", authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ paymentIds: ids }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeGreaterThan(1024);
    expect((JSON.parse(text) as { invoices: { id: string }[] }).invoices.map((i) => i.id)).toEqual(ids);
  });
});
