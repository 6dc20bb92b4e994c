// The public checkout routes: GET /pay/<invoiceId> (the page) and GET /pay/<invoiceId>/events (its
// live updates as server-sent events). No API token: the invoice's random UUID is the capability.

import { Hono, type Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import { subrequestBudget } from "../config";
import { database } from "../db/client";
import { coinFacts } from "../chains/registry";
import type { Invoice } from "../domain/invoice";
import type { Env } from "../env";
import type { StreamLine } from "../durable/subscribers";
import { checkoutInvoice, readCheckout, READS_PER_CHECKOUT } from "./load";
import { checkoutFragment, checkoutPage, notFoundPage } from "./page";

type Ctx = Context<{ Bindings: Env }>;

/** How long a payer's browser waits before it reconnects a closed stream (the EventSource `retry`). */
const RECONNECT_MS = 3000;
/** One stream lasts at most this long; the browser then reconnects (a fresh invocation, a fresh budget). */
const STREAM_MS = 5 * 60_000;
/** While a payment confirms, the tip moves without an event: the view is read again this often. */
const CONFIRMING_REFRESH_MS = 15_000;
/** A comment this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 20_000;

export const checkout = new Hono<{ Bindings: Env }>();

checkout.get("/pay/:id", async (c) => {
  const found = await readCheckout(c.env, database(c.env.DB), c.req.param("id")).catch(unavailable);
  if (found === undefined) return unavailablePage(c);
  if (found === null) return notFound(c);
  const nonce = randomNonce();
  return c.html(checkoutPage(found.view, Date.now(), nonce), 200, pageHeaders(nonce));
});

checkout.get("/pay/:id/events", async (c) => {
  // Only the invoice (its owner) here: the view is read once subscribed.
  const first = await checkoutInvoice(database(c.env.DB), c.req.param("id")).catch(unavailable);
  if (first === undefined) return unavailablePage(c);
  if (first === null || !coinFacts(first.coin)) return notFound(c);
  const res = streamSSE(c, (sse) => follow(c, sse, first), async (error, sse) => {
    console.warn(`checkout stream ended: ${error.message}`);
    await sse.close();
  });
  // After streamSSE, which sets its own cache-control.
  for (const [name, value] of Object.entries(PRIVATE_HEADERS)) res.headers.set(name, value);
  return res;
});

// Any other path under /pay/ is an unknown invoice too, and looks the same.
checkout.get("/pay/*", (c) => notFound(c));

/**
 * Sends the view now and again after every event of the invoice, until it is paid, the client
 * leaves, or the stream's time or subrequest budget runs out (the browser then reconnects).
 */
async function follow(c: Ctx, sse: SSEStreamingApi, invoice: Invoice): Promise<void> {
  const { env } = c;
  const db = database(env.DB);
  const invoiceId = invoice.id;
  const account = env.USER_ACCOUNT.get(env.USER_ACCOUNT.idFromName(invoice.userId));
  // Subscribed before the view is read, so a change between the two is never missed.
  const changes = new InvoiceChanges(await account.watchInvoice(invoice.userId, invoiceId));
  sse.onAbort(() => changes.close());
  // This invocation's subrequests: the invoice read, the account call, then one view read per update.
  let reads = Math.floor((subrequestBudget(env) - 2) / READS_PER_CHECKOUT);
  const deadline = Date.now() + STREAM_MS;
  let sent = "";
  try {
    while (reads > 0 && !sse.aborted && Date.now() < deadline) {
      const current = await readCheckout(env, db, invoiceId);
      reads--;
      if (!current) return;
      const key = JSON.stringify(current.view);
      if (key !== sent) {
        await sse.writeSSE({ event: "state", data: checkoutFragment(current.view, Date.now()), retry: RECONNECT_MS });
        sent = key;
      }
      if (current.view.state === "paid") return;
      const refreshMs = current.view.state === "seen" ? CONFIRMING_REFRESH_MS : Infinity;
      for (;;) {
        const next = await changes.next(Math.min(KEEPALIVE_MS, refreshMs, deadline - Date.now()));
        if (next === "closed") return;
        if (next === "changed" || refreshMs !== Infinity || Date.now() >= deadline) break;
        await sse.write(": keepalive\n\n");
      }
    }
  } finally {
    changes.close();
  }
}

/** The account's NDJSON lines for one invoice, read as "something changed" with a timeout. */
class InvoiceChanges {
  private readonly reader: ReadableStreamDefaultReader<string>;
  private pending: Promise<ReadableStreamReadResult<string>> | null = null;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** "changed" on an event, "timeout" after `ms` with none, "closed" when the account ended the stream. */
  async next(ms: number): Promise<"changed" | "timeout" | "closed"> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, ms))));
    try {
      for (;;) {
        this.pending ??= this.reader.read();
        const got = await Promise.race([this.pending, timeout]);
        if (got === "timeout") return "timeout";
        this.pending = null;
        if (got.done) return "closed";
        const lines = got.value.split("\n").filter((l) => l.length > 0); // empty lines are heartbeats
        if (lines.some((l) => "error" in (JSON.parse(l) as StreamLine))) return "closed";
        if (lines.length > 0) return "changed";
      }
    } catch {
      return "closed";
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    void this.reader.cancel().catch(() => undefined);
  }
}

/** The page reveals an invoice to whoever holds its URL: never cached, indexed, framed or referred onwards. */
const PRIVATE_HEADERS = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-robots-tag": "noindex, nofollow",
} as const;

function pageHeaders(nonce: string | null): Record<string, string> {
  const code = nonce === null ? "'none'" : `'nonce-${nonce}'`;
  return {
    ...PRIVATE_HEADERS,
    "x-frame-options": "DENY",
    "content-security-policy": [
      "default-src 'none'",
      `script-src ${code}`,
      `style-src ${code}`,
      "img-src data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
  };
}

function notFound(c: Ctx): Response {
  return c.html(notFoundPage(), 404, pageHeaders(null));
}

/** D1 did not answer: the reason is logged, the payer gets a plain page to retry. */
function unavailable(error: unknown): undefined {
  console.error("checkout page could not be read", error);
  return undefined;
}

function unavailablePage(c: Ctx): Response {
  return c.html("<!doctype html><title>Try again</title><p>This page is unavailable for a moment. Please reload.</p>", 503, {
    ...pageHeaders(null),
    "retry-after": "5",
  });
}

function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}
