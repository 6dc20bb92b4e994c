// Requests are decoded strictly and before anything else: an unknown JSON field or enum name is an
// error that names it (never a silent default), and bytes that do not decode are the client's
// InvalidArgument in every protocol, never an Internal error. Binary unknown fields stay tolerated.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { CreateInvoiceRequestSchema, InvoiceService } from "../../gen/invoice/v1/invoice_pb";
import { UserService } from "../../gen/user/v1/user_pb";
import { clients, merchantUser, randomXmrKeys } from "./support";
import { BINARY_WIRES, call, envelope, json, JSON_WIRES, WIRES } from "./wire";

const DB = (env as unknown as { DB: D1Database }).DB;
const { createInvoice, invoiceStatusStream } = InvoiceService.method;
const { registerUser } = UserService.method;

const undecodable = (detail: RegExp | string = /.+/) => ({
  code: Code.InvalidArgument,
  message: expect.stringMatching(new RegExp(`^request could not be decoded: .*${typeof detail === "string" ? escape(detail) : detail.source}`)),
});
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const invoicesOf = async (userId: string) =>
  (await DB.prepare("SELECT COUNT(*) AS n FROM invoices WHERE user_id = ?").bind(userId).first<{ n: number }>())!.n;

const newUser = () => merchantUser(clients("connect-json"), randomXmrKeys());

describe.each(JSON_WIRES)("JSON requests over %s", (wire) => {
  const invoice = (userId: string, extra: Record<string, unknown>) => json({ userId, coin: "XMR", amount: 1, timeout: "600", confirmations: 1, ...extra });

  it("creates an invoice from a well-formed request (the enum by name or number)", async () => {
    const userId = await newUser();
    for (const coin of ["XMR", 0]) expect((await call(wire, createInvoice, invoice(userId, { coin }))).end).toBe("ok");
    expect(await invoicesOf(userId)).toBe(2);
  });

  it("refuses an unknown field and names it; nothing is created", async () => {
    const userId = await newUser();
    const body = json({ userId, coin: "XMR", amount: 1, timeout: "600", confirmation: 10 });
    expect((await call(wire, createInvoice, body)).end).toEqual(undecodable('"confirmation"'));
    expect(await invoicesOf(userId)).toBe(0);
  });

  it.each(["DOGE", "Monero", "xmr", "COIN_TYPE_XMR"])("refuses the unknown coin name %j and names it; nothing is created", async (coin) => {
    const userId = await newUser();
    expect((await call(wire, createInvoice, invoice(userId, { coin }))).end).toEqual(undecodable(`"${coin}"`));
    expect(await invoicesOf(userId)).toBe(0);
  });

  it("refuses a misspelt stream filter instead of opening the stream of every user", async () => {
    const res = await call(wire, invoiceStatusStream, json({ userid: crypto.randomUUID() }), { waitMs: 3_000 });
    expect(res.end).toEqual(undecodable('"userid"'));
    expect(res.messages).toEqual([]);
  });

  it.each([
    ["not JSON", "nope"],
    ["a JSON array", "[1]"],
    ["a string where a number belongs", '{"amount":"abc"}'],
    ["a negative timeout", '{"timeout":"-1"}'],
  ])("refuses %s", async (_why, text) => {
    expect((await call(wire, createInvoice, json(text))).end).toEqual(undecodable());
  });
});

describe.each(BINARY_WIRES)("binary requests over %s", (wire) => {
  const request = (userId: string) =>
    toBinary(CreateInvoiceRequestSchema, create(CreateInvoiceRequestSchema, { userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 }));

  it("tolerate unknown fields, as proto3 wants for forward compatibility", async () => {
    const userId = await newUser();
    const unknownField = Uint8Array.of(0x98, 0x06, 0x01); // field 99, varint 1
    const res = await call(wire, createInvoice, new Uint8Array([...request(userId), ...unknownField]));
    expect(res.end).toBe("ok");
    expect(await invoicesOf(userId)).toBe(1);
  });

  it.each([
    ["an illegal wire type", [0x0f]],
    ["a truncated varint", [0xff, 0xff, 0xff]],
    ["a string longer than the message", [0x0a, 0x05, 0x61]],
    ["a field number 0", [0x00, 0x01]],
    ["random bytes", [0x5c, 0xe1, 0x07, 0xff, 0x13, 0x88, 0x02]],
  ])("refuse %s with InvalidArgument, unary and streaming", async (_why, bytes) => {
    const payload = Uint8Array.from(bytes);
    const unary = await call(wire, createInvoice, payload);
    expect(unary.end).toEqual(undecodable());
    if (wire === "connect-binary") expect(unary.status).toBe(400);
    const stream = await call(wire, invoiceStatusStream, payload, { waitMs: 3_000 });
    expect(stream.end).toEqual(undecodable());
  });
});

describe.each(WIRES)("envelopes over %s", (wire) => {
  // Connect's unary calls send the bare message; its streams and every gRPC-Web call use envelopes.
  const method = wire.startsWith("grpc-web") ? registerUser : invoiceStatusStream;
  const one = wire.endsWith("json") ? json({}) : new Uint8Array();

  it.each([
    ["no message at all", new Uint8Array(), "expected one message"],
    ["two messages", new Uint8Array([...envelope(0, one), ...envelope(0, one)]), "expected one message"],
    ["an envelope header cut short", envelope(0, one).subarray(0, 4), "incomplete envelope"],
    ["a message shorter than its envelope says", envelope(0, Uint8Array.of(0x7b, 0x7d, 0x20)).subarray(0, 6), "incomplete envelope"],
    ["a compressed message without an encoding", envelope(1, one), "compressed message without an encoding"],
  ])("refuse %s with InvalidArgument", async (_why, body, detail) => {
    const res = await call(wire, method, one, { body, waitMs: 3_000 });
    expect(res.end).toEqual(undecodable(detail));
  });
});

describe("GetInvoices' non-UUID payment id", () => {
  it.each(WIRES)("keeps the original API's Internal \"invalid payment id\" over %s", async (wire) => {
    const { getInvoices } = InvoiceService.method;
    const body = wire.endsWith("json") ? json({ paymentIds: ["x"] }) : Uint8Array.of(0x0a, 0x01, 0x78);
    expect((await call(wire, getInvoices, body)).end).toEqual({ code: Code.Internal, message: "invalid payment id" });
  });
});
