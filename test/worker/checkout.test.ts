// The hosted checkout page and the API fields behind it, in workerd: CreateInvoice's merchant fields
// and checkoutUrl, the display name, the page for each state (no token, nothing but the invoice's
// own facts, a strict CSP, under 30 KB), the same 404 for unknown and malformed ids, and the live
// server-sent events following real regtest payments applied to the merchant's account.
import { Code } from "@connectrpc/connect";
import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainBatch } from "../../src/chains/adapter";
import type { UserId } from "../../src/domain/ids";
import type { Env } from "../../src/env";
import { regtestTx } from "../support/regtest-txs";
import { xmrBatch, xmrBlock } from "../support/xmr-batches";
import { recordStream } from "../support/stream-recorder";
import { clients, clientsWithSettings, failure, freshMerchantUser, merchant, merchantUser, PROTOCOLS, randomXmrKeys } from "./support";

const E = env as unknown as Env;
const c = clients("connect-json");
const get = (path: string, init?: RequestInit) =>
  (exports as unknown as { default: { fetch: typeof fetch } }).default.fetch(`http://svc${path}`, init);

const batch = xmrBatch;
const block = (height: number, names: string[]) => xmrBlock(height, names.map(regtestTx));

/** What the watcher records of the chain's tip (the page counts confirmations from it). */
const tipAt = (height: number) =>
  E.DB.prepare(
    "INSERT INTO chain_state (coin, tip_height, cursor_height, scanned_through, updated_at) VALUES (0, ?1, ?1, ?2, ?2) ON CONFLICT (coin) DO UPDATE SET tip_height = ?1",
  )
    .bind(height, Date.now())
    .run();

/** A fresh holder of the vector merchant's keys, named, with one invoice (subaddress (0,1)) of `amount` XMR. */
async function shop(amount: number, extra: { confirmations?: number; redirectUrl?: string; name?: string } = {}) {
  const userId = (await freshMerchantUser(c)) as UserId;
  await c.users.updateUser({ userId, displayName: extra.name ?? "Coffee Corner" });
  const created = await c.invoices.createInvoice({
    userId,
    coin: CoinType.XMR,
    amount,
    timeout: 3600n,
    confirmations: extra.confirmations ?? 1,
    description: "two flat whites",
    orderId: "A-1017",
    redirectUrl: extra.redirectUrl,
    metadata: { table: "7" },
  });
  const account = E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(userId));
  return { userId, created, apply: (b: Partial<ChainBatch>) => account.applyChainBatch(userId, batch(b)) };
}

async function page(id: string) {
  const res = await get(`/pay/${id}`);
  return { res, html: await res.text() };
}
const stateOf = (html: string) => /data-testid="status" data-state="(\w+)"/.exec(html)?.[1];
const dueOf = (html: string) => /data-testid="amount-due">([^<]*)</.exec(html)?.[1];

describe("CreateInvoice's checkout fields", () => {
  it.each(PROTOCOLS)("stores description, orderId, redirectUrl and metadata and returns them with the checkoutUrl (%s)", async (protocol) => {
    const p = clients(protocol);
    const userId = await merchantUser(p, randomXmrKeys());
    const created = await p.invoices.createInvoice({
      userId,
      coin: CoinType.XMR,
      amount: 1,
      timeout: 600n,
      confirmations: 1,
      description: "☕ ×2",
      orderId: "A-1",
      redirectUrl: "https://shop.example/thanks?o=A-1",
      metadata: { cart: "c-9", "ключ": "значение" },
    });
    expect(created.checkoutUrl).toBe(`http://svc/pay/${created.paymentId}`);
    const [inv] = (await p.invoices.getInvoices({ paymentIds: [created.paymentId] })).invoices;
    expect(inv).toMatchObject({
      description: "☕ ×2",
      orderId: "A-1",
      redirectUrl: "https://shop.example/thanks?o=A-1",
      metadata: { cart: "c-9", "ключ": "значение" },
      checkoutUrl: created.checkoutUrl,
    });
  });

  it("leaves the fields unset when none were given", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const { paymentId } = await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 });
    const [inv] = (await c.invoices.getInvoices({ paymentIds: [paymentId] })).invoices;
    expect([inv?.description, inv?.orderId, inv?.redirectUrl, inv?.metadata]).toEqual([undefined, undefined, undefined, {}]);
  });

  it("puts the fields and the checkoutUrl on the stream's messages", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const stream = recordStream(c.invoices, { userId });
    await stream.until(() => stream.header() !== null, 5000, "the stream to open");
    const { paymentId } = await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1, orderId: "S-1" });
    await stream.until(() => stream.messages.length > 0, 5000, "the created event");
    expect(stream.messages[0]!.invoice).toMatchObject({ id: paymentId, orderId: "S-1", checkoutUrl: `http://svc/pay/${paymentId}` });
    stream.close();
  });

  it("takes the public origin from CHECKOUT_BASE_URL when it is set", async () => {
    const p = clientsWithSettings("connect-json", { CHECKOUT_BASE_URL: "https://pay.example.com/" });
    const userId = await merchantUser(p, randomXmrKeys());
    const { paymentId, checkoutUrl } = await p.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 });
    expect(checkoutUrl).toBe(`https://pay.example.com/pay/${paymentId}`);
  });

  const base = { coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 };
  it.each([
    [{ description: "x".repeat(501) }, "invalid description: at most 500 characters"],
    [{ orderId: "x".repeat(101) }, "invalid orderId: at most 100 characters"],
    [{ redirectUrl: "http://shop.example/" }, "invalid redirectUrl: an absolute https:// URL without credentials, at most 2048 characters"],
    [{ redirectUrl: "https://a:b@shop.example/" }, "invalid redirectUrl: an absolute https:// URL without credentials, at most 2048 characters"],
    [{ metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, ""])) }, "invalid metadata: at most 20 keys"],
    [{ metadata: { big: "x".repeat(1022) } }, "invalid metadata: at most 1024 bytes of keys and values"],
    [{ metadata: { "": "x" } }, "invalid metadata: keys must not be empty"],
  ])("refuses %j with InvalidArgument", async (fields, message) => {
    const userId = await merchantUser(c, randomXmrKeys());
    expect(await failure(c.invoices.createInvoice({ userId, ...base, ...fields }))).toEqual({ code: Code.InvalidArgument, message });
  });

  it("takes an http:// redirect with CHECKOUT_ALLOW_INSECURE_REDIRECTS=true", async () => {
    const p = clientsWithSettings("connect-json", { CHECKOUT_ALLOW_INSECURE_REDIRECTS: "true" });
    const userId = await merchantUser(p, randomXmrKeys());
    const created = await p.invoices.createInvoice({ userId, ...base, redirectUrl: "http://127.0.0.1:3000/done" });
    const [inv] = (await p.invoices.getInvoices({ paymentIds: [created.paymentId] })).invoices;
    expect(inv?.redirectUrl).toBe("http://127.0.0.1:3000/done");
  });
});

describe("the merchant's display name", () => {
  it("is set at registration, changed and removed by UpdateUser", async () => {
    const { userId } = await c.users.registerUser({ displayName: "  First Name " });
    const name = async () => (await E.DB.prepare("SELECT display_name AS n FROM users WHERE id = ?").bind(userId).first<{ n: string | null }>())?.n;
    expect(await name()).toBe("First Name");
    await c.users.updateUser({ userId, displayName: "Second" });
    expect(await name()).toBe("Second");
    await c.users.updateUser({ userId });
    expect(await name()).toBe("Second");
    await c.users.updateUser({ userId, displayName: "" });
    expect(await name()).toBeNull();
  });

  it.each([["x".repeat(65)], ["two\nlines"]])("refuses %j in RegisterUser and UpdateUser", async (displayName) => {
    const expected = { code: Code.InvalidArgument, message: "invalid displayName: 1 to 64 characters, no control characters" };
    expect(await failure(c.users.registerUser({ displayName }))).toEqual(expected);
    const { userId } = await c.users.registerUser({});
    expect(await failure(c.users.updateUser({ userId, displayName }))).toEqual(expected);
  });

  it("refuses UpdateUser for a malformed or unknown user", async () => {
    expect(await failure(c.users.updateUser({ userId: "nope", displayName: "x" }))).toEqual({ code: Code.InvalidArgument, message: "invalid userId" });
    expect(await failure(c.users.updateUser({ userId: crypto.randomUUID(), displayName: "x" }))).toEqual({ code: Code.InvalidArgument, message: "Invalid userId" });
    expect(await failure(c.users.updateUser({ userId: crypto.randomUUID() }))).toEqual({ code: Code.InvalidArgument, message: "Invalid userId" });
  });
});

describe("GET /pay/<invoiceId>", () => {
  it("shows a new invoice's amount, address, QR and countdown to anyone holding the URL, no token needed", async () => {
    const { created } = await shop(1.5);
    const { res, html } = await page(created.paymentId);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(stateOf(html)).toBe("waiting");
    expect(dueOf(html)).toBe("1.5 XMR");
    expect(html).toContain(`data-testid="address">${merchant.subaddresses.find((s) => s.major === 0 && s.minor === 1)!.address}<`);
    expect(html).toContain(`href="monero:${created.address}?tx_amount=1.5"`);
    expect(html).toMatch(/<svg[^>]*data-testid="qr"/);
    expect(html).toContain('data-testid="countdown"');
    expect(html).toContain('data-testid="merchant">Coffee Corner<');
  });

  it("reveals nothing but the invoice's own facts: no description, order id, metadata or user id", async () => {
    const { userId, created } = await shop(1.5);
    const { html } = await page(created.paymentId);
    for (const secret of ["two flat whites", "A-1017", "table", userId]) expect(html).not.toContain(secret);
  });

  it("is served under a strict CSP whose nonce is the one on its only script and style, loads nothing external, and stays under 30 KB", async () => {
    const { created } = await shop(1.5);
    const { res, html } = await page(created.paymentId);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe");
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1];
    expect([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1])).toEqual([` nonce="${nonce}"`]);
    expect([...html.matchAll(/<style([^>]*)>/g)].map((m) => m[1])).toEqual([` nonce="${nonce}"`]);
    expect(html).not.toMatch(/\s(src|srcset)=/);
    expect(html).not.toMatch(/<link\b/);
    expect(new TextEncoder().encode(html).length).toBeLessThan(30_000);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    // A fresh nonce per response.
    const again = (await page(created.paymentId)).res.headers.get("content-security-policy");
    expect(again).not.toBe(csp);
  });

  it("answers an unknown id and a malformed one with the same plain 404", async () => {
    const unknown = await page(crypto.randomUUID());
    const malformed = await page("not-an-invoice");
    const script = await page("<script>alert(1)</script>");
    expect([unknown.res.status, malformed.res.status, script.res.status]).toEqual([404, 404, 404]);
    expect(malformed.html).toBe(unknown.html);
    expect(script.html).toBe(unknown.html);
    expect((await get(`/pay/${crypto.randomUUID()}/events`)).status).toBe(404);
  });

  it("shows the remainder after a partial payment, in the amount and the payment URI", async () => {
    const { created, apply } = await shop(2);
    await apply({ mempool: [regtestTx("single_subaddress")] }); // 1.5 XMR to (0,1)
    const { html } = await page(created.paymentId);
    expect(stateOf(html)).toBe("partial");
    expect(dueOf(html)).toBe("0.5 XMR");
    expect(html).toContain(`href="monero:${created.address}?tx_amount=0.5"`);
    expect(html).toContain("1.5 XMR received; 0.5 XMR still due.");
  });

  it("shows confirmations while a full payment confirms, then paid with the way back to the merchant", async () => {
    const { created, apply } = await shop(1.5, { confirmations: 2, redirectUrl: "https://shop.example/thanks" });
    await apply({ mempool: [regtestTx("single_subaddress")] });
    let { html } = await page(created.paymentId);
    expect(stateOf(html)).toBe("seen");
    expect(html).toContain('data-testid="confirmations">0 / 2<');
    expect(html).not.toContain('data-testid="redirect"');
    await apply({ tipHeight: 121, blocks: [block(121, ["single_subaddress"])] });
    await tipAt(121);
    expect((await page(created.paymentId)).html).toContain('data-testid="confirmations">1 / 2<');
    await apply({ tipHeight: 122, blocks: [block(122, [])] });
    ({ html } = await page(created.paymentId));
    expect(stateOf(html)).toBe("paid");
    expect(html).toMatch(/<a[^>]*data-testid="redirect"[^>]*href="https:\/\/shop.example\/thanks"/);
    expect(html).not.toContain('data-testid="address"');
  });

  it("tells the payer of an expired invoice that a payment sent anyway is recorded", async () => {
    const { userId, created } = await shop(1.5);
    await E.DB.prepare("UPDATE invoices SET status = 2, closed_at = ?1, expires_at = ?1 WHERE id = ?2").bind(Date.now() - 1000, created.paymentId).run();
    // The account reloads it from D1 as expired.
    await evictDurableObject(E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(userId)));
    await c.users.getCryptoKeys({ userId });
    const { html } = await page(created.paymentId);
    expect(stateOf(html)).toBe("expired");
    expect(html).toContain("If you sent a payment anyway, it is still recorded for this invoice: contact Coffee Corner");
    expect(html).not.toContain('data-testid="qr"');
  });
});

/** A server-sent event stream: the next message (or "end", or "quiet" after `ms` with none) and a close that cancels it. */
function sse(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let pending: Promise<ReadableStreamReadResult<string>> | null = null;
  const next = async (ms = 10_000): Promise<{ event: string; data: string } | "end" | "quiet"> => {
    const deadline = Date.now() + ms;
    for (;;) {
      let end: number;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const fields = buffered.slice(0, end).split("\n").filter((l) => l !== "" && !l.startsWith(":"));
        buffered = buffered.slice(end + 2);
        if (!fields.some((l) => l.startsWith("data:"))) continue; // a keepalive comment or a bare retry
        const event = fields.find((l) => l.startsWith("event:"))?.slice(6).trim() ?? "message";
        const data = fields.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
        return { event, data };
      }
      pending ??= reader.read();
      const got = await Promise.race([pending, new Promise<"quiet">((r) => setTimeout(() => r("quiet"), Math.max(0, deadline - Date.now())))]);
      if (got === "quiet") return "quiet";
      pending = null;
      if (got.done) return "end";
      buffered += got.value;
    }
  };
  const message = async () => {
    const got = await next();
    if (typeof got === "string") throw new Error(`expected an event, got ${got}`);
    return got;
  };
  return { next, message, close: () => reader.cancel().catch(() => undefined) };
}

describe("GET /pay/<invoiceId>/events", () => {
  it("sends the current state at once, then the invoice's change as it commits", async () => {
    const { created, apply } = await shop(2, { confirmations: 1 });
    const res = await get(`/pay/${created.paymentId}/events`);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const events = sse(res);
    try {
      const first = await events.message();
      expect(first.event).toBe("state");
      expect(stateOf(first.data)).toBe("waiting");
      await apply({ mempool: [regtestTx("single_subaddress")] }); // 1.5 of 2 XMR
      const partial = await events.message();
      expect(stateOf(partial.data)).toBe("partial");
      expect(dueOf(partial.data)).toBe("0.5 XMR");
    } finally {
      await events.close();
    }
  });

  it("ignores other invoices' events", async () => {
    const { userId, created, apply } = await shop(1.5);
    const second = await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 0.3, timeout: 3600n, confirmations: 1 });
    const events = sse(await get(`/pay/${second.paymentId}/events`));
    try {
      expect(stateOf((await events.message()).data)).toBe("waiting");
      await apply({ mempool: [regtestTx("single_subaddress")] }); // pays the first invoice, (0,1)
      expect(stateOf((await page(created.paymentId)).html)).toBe("seen");
      expect(await events.next(1500)).toBe("quiet");
    } finally {
      await events.close();
    }
  });

  it("sends paid and ends the stream, so the browser stops listening", async () => {
    const { created, apply } = await shop(1.5, { confirmations: 1 });
    const events = sse(await get(`/pay/${created.paymentId}/events`));
    try {
      expect(stateOf((await events.message()).data)).toBe("waiting");
      await apply({ tipHeight: 121, blocks: [block(121, ["single_subaddress"])] });
      expect(stateOf((await events.message()).data)).toBe("paid");
      expect(await events.next()).toBe("end");
    } finally {
      await events.close();
    }
  });

  it("sends a seen invoice's confirmations as the tip moves, without an event", async () => {
    const { created, apply } = await shop(1.5, { confirmations: 3 });
    await apply({ tipHeight: 121, blocks: [block(121, ["single_subaddress"])] });
    await tipAt(121);
    const events = sse(await get(`/pay/${created.paymentId}/events`));
    try {
      expect((await events.message()).data).toContain('data-testid="confirmations">1 / 3<');
      await tipAt(122);
      const later = await events.next(20_000);
      expect(typeof later === "object" && later.data).toContain('data-testid="confirmations">2 / 3<');
    } finally {
      await events.close();
    }
  }, 30_000);
});
