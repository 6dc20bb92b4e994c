// invoice.v1.InvoiceService: create invoices, read them, and stream their status changes.
// Thin: validate the request, call the user's account (or the global hub), map errors.

import { ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { InvoiceService } from "../../gen/invoice/v1/invoice_pb";
import { coinFacts, isCoinEnabled } from "../chains/registry";
import { readChainState } from "../db/chain-state";
import { database } from "../db/client";
import { latestEventId } from "../db/events";
import { invoicesByIds } from "../db/invoices";
import { userExists } from "../db/users";
import { allowInsecureRedirects, checkoutBase, checkoutUrl } from "../config";
import { amountSignProblem, parseAmount } from "../domain/amount";
import { parseInvoiceDetails } from "../domain/invoice-details";
import { parseCoin } from "../domain/coins";
import { Failures } from "../domain/errors";
import { snapshotOf } from "../domain/events";
import { parseInvoiceId, parseUserId } from "../domain/ids";
import { chainWatcherOf } from "../durable/chain-watcher";
import type { StreamLine } from "../durable/subscribers";
import { invocation } from "./context";
import { connectError, guarded, reject, toConnectError, unwrap } from "./errors";
import { invoiceMessage } from "./convert";
import { streamOpened } from "./serve";

export const MIN_TIMEOUT_SECONDS = 10;
export const MAX_TIMEOUT_SECONDS = 30 * 24 * 60 * 60;
export const MAX_PAYMENT_IDS = 100;

export const invoiceService: ServiceImpl<typeof InvoiceService> = {
  createInvoice(req, ctx) {
    return guarded("CreateInvoice", Failures.invoiceInternal, async () => {
      const { env, origin, waitUntil } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const coin = parseCoin(req.coin) ?? reject(Failures.unsupportedCoin);
      // A coin no module serves has no units to judge an amount by; its sign and the other fields still are.
      const facts = coinFacts(coin);
      const amount = facts ? parseAmount(req.amount, facts) : null;
      const amountProblem = amount ? (amount.ok ? null : amount.problem) : amountSignProblem(req.amount);
      if (amountProblem) reject(Failures.amount(amountProblem, coin, facts?.decimals ?? 0));
      if (req.timeout < BigInt(MIN_TIMEOUT_SECONDS) || req.timeout > BigInt(MAX_TIMEOUT_SECONDS)) {
        reject(Failures.invalidTimeout(MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS));
      }
      if (facts && req.confirmations > facts.maxConfirmations) reject(Failures.invalidConfirmations(coin, facts.maxConfirmations));
      const details = unwrap(parseInvoiceDetails(req, allowInsecureRedirects(env)));
      // The request is judged first, then the server's state: a bad field is reported with or without a node.
      if (!facts || !amount?.ok || !isCoinEnabled(env, coin)) reject(Failures.coinNotEnabled(coin));
      const watcher = chainWatcherOf(env, coin);
      const wakeWatcher = () => waitUntil(watcher.ensurePolling(coin).catch((e: unknown) => console.error("could not wake the chain watcher", e)));
      const node = await readChainState(database(env.DB), coin);
      if (node?.expectedNetwork) {
        wakeWatcher(); // it asks the node again at once, so a fixed node is taken back without waiting for the cron
        reject(Failures.wrongNetwork(coin, node.network ?? "another network", node.expectedNetwork));
      }

      const account = env.USER_ACCOUNT.get(env.USER_ACCOUNT.idFromName(userId));
      const created = unwrap(
        await account.createInvoice(userId, {
          coin,
          required: amount.atomic.toString(),
          timeoutSeconds: Number(req.timeout),
          confirmations: req.confirmations,
          details,
        }),
      );
      wakeWatcher();
      return { paymentId: created.id, address: created.address, checkoutUrl: checkoutUrl(checkoutBase(env, origin)!, created.id) };
    });
  },

  getInvoices(req, ctx) {
    return guarded("GetInvoices", Failures.invoiceInternal, async () => {
      const { env, origin } = invocation(ctx);
      const base = checkoutBase(env, origin);
      if (req.paymentIds.length > MAX_PAYMENT_IDS) reject(Failures.tooManyPaymentIds(MAX_PAYMENT_IDS));
      const ids = req.paymentIds.map((id) => parseInvoiceId(id) ?? reject(Failures.invalidPaymentId));
      const found = new Map((await invoicesByIds(database(env.DB), [...new Set(ids)])).map((i) => [i.id as string, i]));
      return { invoices: ids.flatMap((id) => (found.has(id) ? [invoiceMessage(snapshotOf(found.get(id)!), base)] : [])) };
    });
  },

  async *invoiceStatusStream(req, ctx) {
    const { env, origin } = invocation(ctx);
    const base = checkoutBase(env, origin);
    const db = database(env.DB);
    let stream: ReadableStream<Uint8Array>;
    try {
      const userId = req.userId === undefined ? null : (parseUserId(req.userId) ?? reject(Failures.invalidUserId));
      if (userId !== null && !(await userExists(db, userId))) reject(Failures.unknownUser);
      // A cursor from another deployment or database would otherwise wait, silently, for ids that never come.
      if (req.afterEventId !== undefined && req.afterEventId > BigInt(await latestEventId(db))) reject(Failures.eventIdAhead);
      const after = req.afterEventId === undefined ? null : Number(req.afterEventId);
      stream =
        userId !== null
          ? await env.USER_ACCOUNT.get(env.USER_ACCOUNT.idFromName(userId)).subscribe(userId, after)
          : await env.STREAM_HUB.get(env.STREAM_HUB.idFromName("global")).subscribe(after);
    } catch (error) {
      throw toConnectError("InvoiceStatusStream", Failures.internal, error);
    }
    streamOpened(ctx);
    try {
      for await (const line of streamLines(stream, ctx)) {
        if ("error" in line) throw connectError(line.error);
        yield { invoice: invoiceMessage(line.event.invoice, base), eventId: BigInt(line.event.id), eventType: line.event.type };
      }
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      if (ctx.signal.aborted) return;
      // Expected when the object holding the stream goes away (restart, deploy, eviction): one line, no stack.
      console.warn(`invoice stream closed: ${error instanceof Error ? error.message : String(error)}`);
      throw connectError(Failures.streamClosed);
    }
    // The account or hub ended the stream (restart, deploy): the client resumes with afterEventId.
    if (!ctx.signal.aborted) throw connectError(Failures.streamClosed);
  },
};

/** Parses the NDJSON the Durable Object writes; stops promptly when the client goes away. */
async function* streamLines(stream: ReadableStream<Uint8Array>, ctx: HandlerContext): AsyncGenerator<StreamLine> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  ctx.signal.addEventListener("abort", stop, { once: true });
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const text = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (text.length > 0) yield JSON.parse(text) as StreamLine; // empty lines are heartbeats
      }
    }
  } finally {
    ctx.signal.removeEventListener("abort", stop);
    stop();
  }
}
