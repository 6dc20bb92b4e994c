// InvoiceService.CreateInvoice and GetInvoices over every protocol: the error table, exact amounts,
// and subaddress allocation (Monero's own wallet agrees on every address; no index is ever reused).
import { Code } from "@connectrpc/connect";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType } from "../../gen/invoice/v1/invoice_pb";
import { clients, clientsWithSettings, failure, merchant, merchantUser, PROTOCOLS, randomXmrKeys } from "./support";

const DB = (env as unknown as { DB: D1Database }).DB;

describe.each(PROTOCOLS)("CreateInvoice over %s", (protocol) => {
  const c = clients(protocol);
  const valid = { coin: CoinType.XMR, amount: 1.5, timeout: 600n, confirmations: 1 };

  it("returns a fresh subaddress and stores the exact amount", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const created = await c.invoices.createInvoice({ ...valid, userId, amount: 0.1 });
    expect(created.paymentId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.address).toMatch(/^8/); // mainnet subaddress prefix 42
    const [inv] = (await c.invoices.getInvoices({ paymentIds: [created.paymentId] })).invoices;
    expect(inv).toMatchObject({
      id: created.paymentId,
      cryptoAddress: created.address,
      coin: CoinType.XMR,
      requiredAmount: 0.1,
      requiredAmountExact: "0.1",
      actualAmount: 0,
      actualAmountExact: "0",
      confirmationsRequired: 1,
      status: InvoiceStatusType.PENDING,
      userId,
      txId: "",
    });
    expect(Number(inv!.expiresAt!.seconds) - Number(inv!.createdAt!.seconds)).toBe(600);
    const row = await DB.prepare("SELECT required FROM invoices WHERE id = ?").bind(created.paymentId).first<{ required: string }>();
    expect(row?.required).toBe("100000000000");
  });

  it("keeps the smallest unit exactly: 1e-12 XMR is one piconero", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const { paymentId } = await c.invoices.createInvoice({ ...valid, userId, amount: 1e-12 });
    const [inv] = (await c.invoices.getInvoices({ paymentIds: [paymentId] })).invoices;
    expect(inv?.requiredAmountExact).toBe("0.000000000001");
  });

  const rows: [string, Record<string, unknown>, Code, string][] = [
    ["userId not a UUID", { userId: "nope" }, Code.InvalidArgument, "invalid userId"],
    ["unknown user", { userId: "00000000-0000-4000-8000-000000000000" }, Code.InvalidArgument, "Invalid userId"],
    ["coin outside the enum", { coin: 99 }, Code.InvalidArgument, "unsupported coin"],
    ["BTC (no node configured)", { coin: CoinType.BTC }, Code.FailedPrecondition, "BTC is not enabled on this server"],
    ["TON (no node configured)", { coin: CoinType.TON }, Code.FailedPrecondition, "TON is not enabled on this server"],
    ["a negative amount", { amount: -1 }, Code.InvalidArgument, "Invoice amount can't be below 0"],
    ["a zero amount", { amount: 0 }, Code.InvalidArgument, "Invoice amount must be greater than 0"],
    ["a NaN amount", { amount: Number.NaN }, Code.InvalidArgument, "Invoice amount must be a finite number"],
    ["an infinite amount", { amount: Number.POSITIVE_INFINITY }, Code.InvalidArgument, "Invoice amount must be a finite number"],
    ["13 fractional digits", { amount: 0.0000000000001 }, Code.InvalidArgument, "Invoice amount has more than 12 fractional digits for XMR"],
    ["an absurd amount", { amount: 1e30 }, Code.InvalidArgument, "Invoice amount is too large"],
    ["a timeout under 10 s", { timeout: 9n }, Code.InvalidArgument, "invalid timeout: must be between 10 and 2592000 seconds"],
    ["a timeout of zero", { timeout: 0n }, Code.InvalidArgument, "invalid timeout: must be between 10 and 2592000 seconds"],
    ["a timeout over 30 days", { timeout: 2_592_001n }, Code.InvalidArgument, "invalid timeout: must be between 10 and 2592000 seconds"],
    ["confirmations above the XMR cap", { confirmations: 61 }, Code.InvalidArgument, "invalid confirmations: at most 60 for XMR"],
  ];
  it.each(rows)("refuses %s", async (_why, over, code, message) => {
    const userId = await merchantUser(c, randomXmrKeys());
    expect(await failure(c.invoices.createInvoice({ ...valid, userId, ...over }))).toEqual({ code, message });
  });

  it("refuses a user without XMR keys", async () => {
    const { userId } = await c.users.registerUser({});
    expect(await failure(c.invoices.createInvoice({ ...valid, userId }))).toEqual({
      code: Code.FailedPrecondition,
      message: "no XMR keys configured for this user",
    });
  });

  it("accepts the bounds: 10 s, 30 days, 60 confirmations, 0 confirmations, and keeps them", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const bounds: [Partial<typeof valid>, { seconds: number; confirmations: number }][] = [
      [{ timeout: 10n }, { seconds: 10, confirmations: 1 }],
      [{ timeout: 2_592_000n }, { seconds: 2_592_000, confirmations: 1 }],
      [{ confirmations: 60 }, { seconds: 600, confirmations: 60 }],
      [{ confirmations: 0 }, { seconds: 600, confirmations: 0 }],
    ];
    for (const [over, kept] of bounds) {
      const { paymentId } = await c.invoices.createInvoice({ ...valid, userId, ...over });
      const [inv] = (await c.invoices.getInvoices({ paymentIds: [paymentId] })).invoices;
      expect({ seconds: Number(inv!.expiresAt!.seconds - inv!.createdAt!.seconds), confirmations: inv!.confirmationsRequired }).toEqual(kept);
    }
  });
});

describe.each(PROTOCOLS)("CreateInvoice on a server without a Monero node, over %s", (protocol) => {
  // The request is judged before the server's state: a client learns what is wrong with what it
  // sent whether or not the coin is enabled here, and only a valid request hears "not enabled".
  const noNode = clientsWithSettings(protocol, { XMR_DAEMON_URL: undefined });
  const valid = { coin: CoinType.XMR, amount: 1.5, timeout: 600n, confirmations: 1 };
  const invalidTimeout = "invalid timeout: must be between 10 and 2592000 seconds";

  const rows: [string, Record<string, unknown>, string][] = [
    ["userId not a UUID", { userId: "nope" }, "invalid userId"],
    ["coin outside the enum", { coin: 99 }, "unsupported coin"],
    ["a negative amount", { amount: -1 }, "Invoice amount can't be below 0"],
    ["a zero amount", { amount: 0 }, "Invoice amount must be greater than 0"],
    ["a NaN amount", { amount: Number.NaN }, "Invoice amount must be a finite number"],
    ["13 fractional digits", { amount: 0.0000000000001 }, "Invoice amount has more than 12 fractional digits for XMR"],
    ["an absurd amount", { amount: 1e30 }, "Invoice amount is too large"],
    ["a timeout under 10 s", { timeout: 9n }, invalidTimeout],
    ["a timeout over 30 days", { timeout: 2_592_001n }, invalidTimeout],
    ["confirmations above the XMR cap", { confirmations: 61 }, "invalid confirmations: at most 60 for XMR"],
    ["a negative amount for a coin no module serves yet", { coin: CoinType.TON, amount: -1 }, "Invoice amount can't be below 0"],
    ["a NaN amount for a coin no module serves yet", { coin: CoinType.ETH, amount: Number.NaN }, "Invoice amount must be a finite number"],
  ];
  it.each(rows)("refuses %s with InvalidArgument, not \"not enabled\"", async (_why, over, message) => {
    const userId = await merchantUser(clients(protocol), randomXmrKeys());
    expect(await failure(noNode.invoices.createInvoice({ ...valid, userId, ...over }))).toEqual({ code: Code.InvalidArgument, message });
  });

  it("answers a valid request with FailedPrecondition \"XMR is not enabled on this server\"", async () => {
    const userId = await merchantUser(clients(protocol), randomXmrKeys());
    expect(await failure(noNode.invoices.createInvoice({ ...valid, userId }))).toEqual({
      code: Code.FailedPrecondition,
      message: "XMR is not enabled on this server",
    });
  });

  it("judges the amount before it looks the user up", async () => {
    const userId = crypto.randomUUID();
    expect(await failure(clients(protocol).invoices.createInvoice({ ...valid, userId, amount: -1 }))).toEqual({
      code: Code.InvalidArgument,
      message: "Invoice amount can't be below 0",
    });
  });
});

describe("subaddress allocation", () => {
  const c = clients("connect-binary");

  it("gives 50 concurrent invoices of one user 50 distinct, contiguous subaddresses", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const created = await Promise.all(
      Array.from({ length: 50 }, () => c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 })),
    );
    expect(new Set(created.map((x) => x.address)).size).toBe(50);
    const { results } = await DB.prepare("SELECT address_index FROM invoices WHERE user_id = ? ORDER BY address_index").bind(userId).all<{ address_index: number }>();
    expect(results.map((r) => r.address_index)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it("never reuses an index when a key set comes back", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const first = randomXmrKeys();
    const second = randomXmrKeys();
    const set = (k: typeof first) => c.users.updateCryptoKeys({ userId, xmrReq: { privViewKey: k.private_view_key, pubSpendKey: k.public_spend_key } });
    const create = () => c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 });
    await set(first);
    const a = await create();
    const b = await create();
    await set(second);
    const other = await create();
    await set(first);
    const c3 = await create();
    const indices = await DB.prepare("SELECT id, address_index, key_set_id FROM invoices WHERE user_id = ?").bind(userId).all<{ id: string; address_index: number; key_set_id: number }>();
    const byId = new Map(indices.results.map((r) => [r.id, r]));
    expect([a, b, c3].map((x) => byId.get(x.paymentId)!.address_index)).toEqual([1, 2, 3]);
    expect(byId.get(other.paymentId)!.address_index).toBe(1);
    expect(new Set([a, b, other, c3].map((x) => x.address)).size).toBe(4);
  });
});

describe.each(PROTOCOLS)("GetInvoices (deprecated) over %s", (protocol) => {
  const c = clients(protocol);

  it("returns the invoices asked for and omits unknown ids", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const a = await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 2, timeout: 600n, confirmations: 3 });
    const got = await c.invoices.getInvoices({ paymentIds: [a.paymentId, crypto.randomUUID()] });
    expect(got.invoices.map((i) => i.id)).toEqual([a.paymentId]);
  });

  it("answers Internal \"invalid payment id\" for an id that is not a UUID (as the original API does)", async () => {
    expect(await failure(c.invoices.getInvoices({ paymentIds: ["x"] }))).toEqual({ code: Code.Internal, message: "invalid payment id" });
  });

  it("refuses more than 100 ids", async () => {
    const paymentIds = Array.from({ length: 101 }, () => crypto.randomUUID());
    expect(await failure(c.invoices.getInvoices({ paymentIds }))).toEqual({ code: Code.InvalidArgument, message: "too many paymentIds: at most 100" });
  });

  it("accepts exactly 100 ids", async () => {
    const paymentIds = Array.from({ length: 100 }, () => crypto.randomUUID());
    expect((await c.invoices.getInvoices({ paymentIds })).invoices).toEqual([]);
  });
});

describe("addresses Monero's own wallet agrees on", () => {
  it("hands the vector merchant's invoices subaddresses (0,1), (0,2) ... exactly as monero-wallet-rpc derived them", async () => {
    const c = clients("grpc-web");
    const userId = await merchantUser(c, merchant);
    const made = [];
    for (let i = 1; i <= 10; i++) made.push(await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 }));
    const expected = new Map(merchant.subaddresses.filter((s) => s.major === 0).map((s) => [s.minor, s.address]));
    for (const minor of [1, 2, 10]) expect(made[minor - 1]!.address).toBe(expected.get(minor));
  });
});
