// Records an InvoiceStatusStream in the background, so a test can act and then wait for what it expects.
import type { Client } from "@connectrpc/connect";
import type { InvoiceService, InvoiceStatusStreamResponse } from "../../gen/invoice/v1/invoice_pb";

export type StreamRecorder = ReturnType<typeof recordStream>;

export function recordStream(invoices: Client<typeof InvoiceService>, req: { userId?: string; afterEventId?: bigint }) {
  const abort = new AbortController();
  const messages: InvoiceStatusStreamResponse[] = [];
  let error: unknown = null;
  const done = (async () => {
    try {
      for await (const m of invoices.invoiceStatusStream(req, { signal: abort.signal })) messages.push(m);
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
    done,
    /** Statuses seen for one invoice, in order. */
    statuses: (invoiceId: string) => messages.filter((m) => m.invoice?.id === invoiceId).map((m) => m.invoice!.status),
    until,
    /** The first `count` messages, once they arrived. */
    async take(count: number, timeoutMs = 10_000): Promise<InvoiceStatusStreamResponse[]> {
      await until(() => messages.length >= count, timeoutMs, `${count} messages`);
      return messages.slice(0, count);
    },
    async close() {
      abort.abort();
      await done;
    },
  };
}
