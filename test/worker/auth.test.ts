// Every RPC needs the bearer token; /healthz is open. No token configured means nothing is open.
import { Code, ConnectError } from "@connectrpc/connect";
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { Env } from "../../src/env";
import { API_TOKEN, clients, PROTOCOLS } from "./support";

const workerFetch = (url: string) => (exports as unknown as { default: { fetch: typeof fetch } }).default.fetch(url);

async function code(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

describe.each(PROTOCOLS)("authentication over %s", (protocol) => {
  it.each([
    ["no token", null],
    ["a wrong token", "wrong"],
    ["the token with a suffix", `${API_TOKEN}x`],
    ["an empty token", ""],
  ])("refuses a call with %s", async (_why, token) => {
    const c = clients(protocol, token);
    expect(await code(c.users.registerUser({}))).toBe(Code.Unauthenticated);
    expect(await code(c.invoices.getInvoices({ paymentIds: [] }))).toBe(Code.Unauthenticated);
    expect(await code(c.invoices.createInvoice({ userId: crypto.randomUUID(), amount: 1, timeout: 60n }))).toBe(Code.Unauthenticated);
  });

  it("refuses the stream without a token", async () => {
    const c = clients(protocol, null);
    const read = async () => {
      for await (const _ of c.invoices.invoiceStatusStream({})) break;
    };
    expect(await code(read())).toBe(Code.Unauthenticated);
  });

  it("accepts the configured token", async () => {
    expect(await code(clients(protocol).users.registerUser({}))).toBe("ok");
  });
});

describe("no API_TOKEN configured", () => {
  it("refuses every RPC, even one that presents a token", async () => {
    const noToken = { ...(env as unknown as Env), API_TOKEN: undefined };
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://svc/user.v1.UserService/RegisterUser", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " },
        body: "{}",
      }),
      noToken,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unauthenticated" });
  });
});

describe("GET /healthz", () => {
  it("is open and reports version, database, token and each enabled coin", async () => {
    const res = await workerFetch("http://svc/healthz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    // This suite's XMR node is a closed port: the coin is not ready, so neither is the service.
    expect(body).toMatchObject({ status: "degraded", version: expect.any(String), ready: false, db: true, auth: true });
    expect(body.coins).toMatchObject({ XMR: { ready: false, reason: expect.any(String) } });
  });
});
