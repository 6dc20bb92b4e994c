// The Queue consumer: one message = one attempt to deliver one outbox row. Loads the delivery with
// its endpoint and event, sends it signed, records the attempt, and either finishes (delivered,
// failed, nothing to do) or asks the queue to bring the message back when the next attempt is due.

import type { Db } from "../db/client";
import { deliveryJob, recordAttempt, type DeliveryJob } from "../db/deliveries";
import { DeliveryStatus } from "../db/delivery-history";
import { webhookBody } from "./payload";
import type { DeliveryMessage } from "./queue";
import { retryDelaySeconds } from "./schedule";
import { signatureHeader } from "./sign";

/** What the consumer needs from the world; the Worker wires the real ones, tests their own. */
export interface DeliveryDeps {
  db: Db;
  fetch: typeof fetch;
  now(): number;
  /** Why the URL may not be called (SSRF rule), or null when it may. */
  refuseUrl(url: string): string | null;
  openSecret(webhookId: string, sealed: string): Promise<string>;
  messageId(webhookId: string, eventId: number): string;
  schedule: readonly number[];
  timeoutMs?: number;
  /** The checkout pages' origin for the payload's checkoutUrl (CHECKOUT_BASE_URL), or null to leave it out. */
  checkoutBase: string | null;
}

/** The queue's answer to a message: done (ack) or bring it back after `delaySeconds`. */
export type Outcome = { done: true } | { done: false; delaySeconds: number };

const DONE: Outcome = { done: true };
const TIMEOUT_MS = 10_000;
/** The most of a response body read (and kept, as the attempt's error, when it is not a 2xx). */
const RESPONSE_LIMIT = 4096;
const ERROR_LIMIT = 1024;
/** Cloudflare Queues delays a message by at most 12 hours; a longer wait comes back early and waits again. */
const MAX_DELAY_SECONDS = 43_200;
/** Workers allow 6 open connections per invocation; more would wait, and their timeouts would run while waiting. */
const PARALLEL = 6;

/** Handles a batch from WEBHOOK_QUEUE: each message acked or retried on its own. */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, deps: DeliveryDeps): Promise<void> {
  const messages = [...batch.messages];
  const lane = async () => {
    for (let m = messages.shift(); m; m = messages.shift()) {
      const message = m;
      try {
        const outcome = await deliverOnce(deps, message.body.deliveryId);
        if (outcome.done) message.ack();
        else message.retry({ delaySeconds: outcome.delaySeconds });
      } catch (cause) {
        // D1 unreachable and the like: the queue's own retries (and then its dead-letter queue) take it.
        console.error(`webhook delivery ${message.body?.deliveryId} failed before an attempt was recorded`, cause);
        message.retry();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, messages.length) }, lane));
}

/** One attempt at one delivery, if it is still due. */
export async function deliverOnce(deps: DeliveryDeps, deliveryId: number): Promise<Outcome> {
  const job = await deliveryJob(deps.db, deliveryId);
  if (!job) return DONE;
  const { delivery, webhook } = job;
  if (delivery.state !== DeliveryStatus.pending || webhook.deleted || !webhook.enabled) return DONE;
  const now = deps.now();
  // Early: a duplicate of a message already handled (the sweep, a redelivery), or a delay the queue capped.
  if (delivery.nextAttemptAt !== null && delivery.nextAttemptAt > now + 1000) return later(delivery.nextAttemptAt - now);

  const attempt = delivery.attempts + 1;
  const result = await send(deps, job, now);
  const delay = result.delivered ? null : retryDelaySeconds(deps.schedule, attempt);
  const state = result.delivered ? DeliveryStatus.delivered : delay === null ? DeliveryStatus.failed : DeliveryStatus.pending;
  const nextAttemptAt = delay === null ? null : now + result.durationMs + delay * 1000;
  const recorded = await recordAttempt(deps.db, {
    deliveryId,
    webhookId: webhook.id,
    attempt,
    httpStatus: result.httpStatus,
    error: result.error,
    durationMs: result.durationMs,
    at: now,
    state,
    nextAttemptAt,
  });
  // Another consumer recorded this attempt first: its message carries the delivery on.
  if (!recorded || delay === null) return DONE;
  return later(delay * 1000);
}

const later = (ms: number): Outcome => ({ done: false, delaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(ms / 1000))) });

interface SendResult {
  delivered: boolean;
  httpStatus: number;
  error: string | null;
  durationMs: number;
}

async function send(deps: DeliveryDeps, job: DeliveryJob, now: number): Promise<SendResult> {
  const started = Date.now();
  const took = () => Date.now() - started;
  const refused = deps.refuseUrl(job.webhook.url);
  if (refused !== null) return { delivered: false, httpStatus: 0, error: `refused URL: ${refused}`, durationMs: 0 };

  const { webhook, event } = job;
  const secrets = [await deps.openSecret(webhook.id, webhook.sealedSecret)];
  if (webhook.previousSealedSecret !== null && webhook.previousUntil !== null && webhook.previousUntil > now) {
    secrets.push(await deps.openSecret(webhook.id, webhook.previousSealedSecret));
  }
  const id = deps.messageId(webhook.id, event.id);
  const timestamp = Math.floor(now / 1000);
  const body = webhookBody(event, deps.checkoutBase);
  const headers = {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatureHeader(secrets, id, timestamp, body),
  };
  const signal = AbortSignal.timeout(deps.timeoutMs ?? TIMEOUT_MS);
  try {
    const response = await deps.fetch(webhook.url, { method: "POST", headers, body, redirect: "manual", signal });
    const text = await readSome(response, RESPONSE_LIMIT);
    if (response.status >= 200 && response.status < 300) return { delivered: true, httpStatus: response.status, error: null, durationMs: took() };
    const error = `HTTP ${response.status}${text ? `: ${text.slice(0, ERROR_LIMIT)}` : ""}`;
    return { delivered: false, httpStatus: response.status, error, durationMs: took() };
  } catch (cause) {
    const error = signal.aborted ? `no answer within ${(deps.timeoutMs ?? TIMEOUT_MS) / 1000} s` : `network error: ${String((cause as Error)?.message ?? cause)}`;
    return { delivered: false, httpStatus: 0, error: error.slice(0, ERROR_LIMIT), durationMs: took() };
  }
}

/** At most `limit` bytes of the body, as text; the rest is never read. */
async function readSome(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all.subarray(0, limit));
}
