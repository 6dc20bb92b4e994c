// webhook.v1.WebhookService: a merchant's endpoints, their signing secrets and their delivery history.
// Thin: validate the request, call D1 (and the delivery queue for a redelivery), map errors.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { base64urlnopad } from "@scure/base";
import { WebhookService, type DeliveryAttemptSchema, type DeliveryState, type WebhookSchema } from "../../gen/webhook/v1/webhook_pb";
import { allowInsecureWebhookUrls } from "../config";
import { database, type Db } from "../db/client";
import { deliveryHistory, redeliver, userEventExists, type DeliveryLine, type HistoryCursor } from "../db/delivery-history";
import { userExists } from "../db/users";
import { deleteWebhook, endpointOf, insertWebhook, liveWebhook, liveWebhooks, rotateWebhookSecret, updateWebhook, type WebhookEndpoint } from "../db/webhooks";
import { Failures } from "../domain/errors";
import { parseUserId, parseWebhookId, type UserId, type WebhookId } from "../domain/ids";
import type { InvoiceStatus } from "../domain/invoice";
import type { Env } from "../env";
import { eventTypeOfStatus, isEventType, type EventType } from "../webhooks/event-types";
import { webhookMessageId } from "../webhooks/message-id";
import { newWebhookSecret, sealWebhookSecret } from "../webhooks/secret";
import { checkWebhookUrl } from "../webhooks/url";
import { invocation } from "./context";
import { guarded, reject } from "./errors";

export const MAX_WEBHOOKS_PER_USER = 20;
export const MAX_DESCRIPTION_CHARS = 200;
/** How long a rotated-out secret keeps signing alongside the new one. */
export const PREVIOUS_SECRET_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_DELIVERIES_LIMIT = 50;
export const MAX_DELIVERIES_LIMIT = 500;

export const webhookService: ServiceImpl<typeof WebhookService> = {
  createWebhook(req, ctx) {
    return guarded("CreateWebhook", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const url = webhookUrl(env, req.url);
      const events = eventTypes(req.events);
      const description = webhookDescription(req.description);
      const db = database(env.DB);
      await knownUser(db, userId);
      const id = crypto.randomUUID();
      const secret = newWebhookSecret();
      const sealedSecret = await sealWebhookSecret(env, id, secret);
      const input = { id, userId, url, events, description, sealedSecret };
      if (!(await insertWebhook(db, input, MAX_WEBHOOKS_PER_USER, Date.now()))) reject(Failures.tooManyWebhooks(MAX_WEBHOOKS_PER_USER));
      return { webhookId: id, secret };
    });
  },

  listWebhooks(req, ctx) {
    return guarded("ListWebhooks", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const db = database(env.DB);
      await knownUser(db, userId);
      return { webhooks: (await liveWebhooks(db, userId)).map((row) => webhookMessage(endpointOf(row))) };
    });
  },

  updateWebhook(req, ctx) {
    return guarded("UpdateWebhook", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      if (req.allEvents && req.events.length > 0) reject(Failures.webhookEventsAndAllEvents);
      const changes = {
        url: req.url === undefined ? undefined : webhookUrl(env, req.url),
        events: req.allEvents ? [] : req.events.length > 0 ? eventTypes(req.events) : undefined,
        enabled: req.enabled,
        description: req.description === undefined ? undefined : webhookDescription(req.description),
      };
      const db = database(env.DB);
      const id = await knownWebhookId(db, userId, req.webhookId);
      const row = (await updateWebhook(db, userId, id, changes, Date.now())) ?? reject(Failures.unknownWebhook);
      return { webhook: webhookMessage(endpointOf(row)) };
    });
  },

  deleteWebhook(req, ctx) {
    return guarded("DeleteWebhook", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const db = database(env.DB);
      const id = await knownWebhookId(db, userId, req.webhookId);
      if (!(await deleteWebhook(db, userId, id, Date.now()))) reject(Failures.unknownWebhook);
      return {};
    });
  },

  rotateWebhookSecret(req, ctx) {
    return guarded("RotateWebhookSecret", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const db = database(env.DB);
      const id = await knownWebhookId(db, userId, req.webhookId);
      const secret = newWebhookSecret();
      const now = Date.now();
      const previousUntil = now + PREVIOUS_SECRET_MS;
      const sealed = await sealWebhookSecret(env, id, secret);
      if (!(await rotateWebhookSecret(db, userId, id, sealed, previousUntil, now))) reject(Failures.unknownWebhook);
      return { secret, previousSecretExpiresAt: timestampFromMs(previousUntil) };
    });
  },

  listDeliveries(req, ctx) {
    return guarded("ListDeliveries", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const limit = Math.min(req.limit || DEFAULT_DELIVERIES_LIMIT, MAX_DELIVERIES_LIMIT);
      const after = req.pageToken ? (parsePageToken(req.pageToken) ?? reject(Failures.invalidPageToken)) : null;
      const db = database(env.DB);
      const id = await knownWebhookId(db, userId, req.webhookId);
      const { lines, more } = await deliveryHistory(db, id, after, limit);
      return {
        deliveries: lines.map((line) => attemptMessage(id, line)),
        nextPageToken: more ? pageToken(lines.at(-1)!.cursor) : "",
      };
    });
  },

  redeliverEvent(req, ctx) {
    return guarded("RedeliverEvent", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const db = database(env.DB);
      const id = await knownWebhookId(db, userId, req.webhookId);
      const eventId = req.eventId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(req.eventId) : reject(Failures.unknownEvent);
      if (!(await userEventExists(db, userId, eventId))) reject(Failures.unknownEvent);
      const deliveryId = await redeliver(db, id, eventId, Date.now());
      await enqueueDelivery(env, deliveryId);
      return {};
    });
  },
};

async function knownUser(db: Db, userId: UserId): Promise<void> {
  if (!(await userExists(db, userId))) reject(Failures.unknownUser);
}

/** The id of the user's live endpoint; an unknown user first fails as in the other services. */
async function knownWebhookId(db: Db, userId: UserId, text: string): Promise<WebhookId> {
  await knownUser(db, userId);
  const id = parseWebhookId(text) ?? reject(Failures.unknownWebhook);
  if (!(await liveWebhook(db, userId, id))) reject(Failures.unknownWebhook);
  return id;
}

function webhookUrl(env: Env, text: string): string {
  const checked = checkWebhookUrl(text, { allowInsecure: allowInsecureWebhookUrls(env) });
  return checked.ok ? checked.url.href : reject(Failures.invalidWebhookUrl);
}

/** Known types, each once, in the order given. */
function eventTypes(names: readonly string[]): EventType[] {
  return [...new Set(names.map((name) => (isEventType(name) ? name : reject(Failures.unknownWebhookEventType(name)))))];
}

function webhookDescription(text: string): string {
  return [...text].length <= MAX_DESCRIPTION_CHARS ? text : reject(Failures.webhookDescriptionTooLong(MAX_DESCRIPTION_CHARS));
}

/** A redelivery waits for the cron sweep when the queue is unbound or refuses the message. */
async function enqueueDelivery(env: Env, deliveryId: number): Promise<void> {
  const queue = env.WEBHOOK_QUEUE as Queue<{ deliveryId: number }> | undefined;
  if (!queue) return;
  try {
    await queue.send({ deliveryId });
  } catch (error) {
    console.error(`could not enqueue webhook delivery ${deliveryId}; the sweep will`, error);
  }
}

function webhookMessage(w: WebhookEndpoint): MessageInitShape<typeof WebhookSchema> {
  return { webhookId: w.id, url: w.url, events: w.events, description: w.description, enabled: w.enabled, createdAt: timestampFromMs(w.createdAt) };
}

function attemptMessage(webhookId: WebhookId, line: DeliveryLine): MessageInitShape<typeof DeliveryAttemptSchema> {
  return {
    eventId: BigInt(line.eventId),
    webhookMessageId: webhookMessageId(webhookId, line.eventId),
    attempt: line.attempt,
    httpStatus: line.httpStatus,
    error: line.error ?? "",
    durationMs: line.durationMs,
    at: timestampFromMs(line.at),
    nextAttemptAt: line.nextAttemptAt === null ? undefined : timestampFromMs(line.nextAttemptAt),
    state: line.state as DeliveryState,
    eventType: line.eventType ?? eventTypeOfStatus(line.eventStatus as InvoiceStatus),
  };
}

// Page tokens are opaque to clients: base64url of "u<delivery id>" (untried) or "a<attempt id>".
function pageToken(cursor: HistoryCursor): string {
  return base64urlnopad.encode(new TextEncoder().encode(`${cursor.kind === "untried" ? "u" : "a"}${cursor.id}`));
}

function parsePageToken(token: string): HistoryCursor | null {
  if (token.length > 32) return null;
  let text: string;
  try {
    text = String.fromCharCode(...base64urlnopad.decode(token));
  } catch {
    return null;
  }
  const match = /^([ua])([1-9]\d{0,15})$/.exec(text);
  const id = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(id)) return null;
  return { kind: match[1] === "u" ? "untried" : "attempt", id };
}
