// Records an InvoiceStatusStream in the background, so a test can act and then wait for what it expects.
import type { Client } from "@connectrpc/connect";
import type { InvoiceService, InvoiceStatusStreamResponse } from "../../gen/invoice/v1/invoice_pb";

export type StreamRecorder = ReturnType<typeof recordStream>;

export function recordStream(invoices: Client<typeof InvoiceService>, req: { userId?: string; afterEventId?: bigint }) {
  const abort = new AbortController();
  const messages: InvoiceStatusStreamResponse[] = [];
  let error: unknown = null;
  let header: Headers | null = null;
  const done = (async () => {
    try {
      const onHeader = (h: Headers) => (header = h);
      for await (const m of invoices.invoiceStatusStream(req, { signal: abort.signal, onHeader })) messages.push(m);
    } catch (e) {
      error = e;
    }
  })();
  const until = async (predicate: () => boolean, timeoutMs: number, what: string): Promise<number> => {
    const start = Date.now();
    while (!predicate()) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stream error: ${String(error)}`);
      if (error) throw new Error(`stream ended while waiting for ${what}: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return Date.now() - start;
  };
  return {
    messages,
    error: () => error,
    /** The response headers, once the server sent them (null before). */
    header: () => header,
    done,
    /** The statuses one invoice went through, in order: its events, without the payment ones (which repeat the status). */
    statuses: (invoiceId: string) =>
      messages.filter((m) => m.invoice?.id === invoiceId && m.eventType !== "invoice.payment_received").map((m) => m.invoice!.status),
    /** How many `invoice.payment_received` events one invoice had. */
    paymentEvents: (invoiceId: string) => messages.filter((m) => m.invoice?.id === invoiceId && m.eventType === "invoice.payment_received").length,
    until,
    /** The first `count` messages, once they arrived. */
    async take(count: number, timeoutMs = 10_000): Promise<InvoiceStatusStreamResponse[]> {
      await until(() => messages.length >= count, timeoutMs, `${count} messages`);
      return messages.slice(0, count);
    },
    /** Resolves when the call ended, or after `timeoutMs`; true if it ended. */
    async ended(timeoutMs: number): Promise<boolean> {
      return Promise.race([done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
    },
    async close() {
      abort.abort();
      await done;
    },
  };
}
