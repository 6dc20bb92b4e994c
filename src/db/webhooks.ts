// A merchant's webhook endpoints: create (bounded per user), read, change, rotate the secret,
// soft-delete. A deleted row stays (deleted_at) so the delivery side can tell its queued work to stop.

import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { UserId } from "../domain/ids";
import type { EventType } from "../webhooks/event-types";
import { query, transaction, type Db } from "./client";
import { DeliveryStatus } from "./delivery-history";
import { webhookDeliveries, webhooks } from "./schema";

export type WebhookRow = typeof webhooks.$inferSelect;

/** An endpoint as the API shows it: never its secrets. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  /** [] = every type. */
  events: EventType[];
  description: string;
  enabled: boolean;
  createdAt: number;
}

export function endpointOf(row: WebhookRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as EventType[],
    description: row.description,
    enabled: row.enabled,
    createdAt: row.createdAt,
  };
}

/** Inserts the endpoint unless the user already has `max` live ones (one statement: no race lets a 21st in); false then. */
export async function insertWebhook(
  db: Db,
  input: { id: string; userId: UserId; url: string; events: readonly EventType[]; description: string; sealedSecret: string },
  max: number,
  now: number,
): Promise<boolean> {
  const result = await query("insert webhook", () =>
    db.run(sql`
      INSERT INTO ${webhooks} (id, user_id, url, events, description, enabled, sealed_secret, created_at, updated_at)
      SELECT ${input.id}, ${input.userId}, ${input.url}, ${JSON.stringify(input.events)}, ${input.description}, 1, ${input.sealedSecret}, ${now}, ${now}
      WHERE (SELECT count(*) FROM ${webhooks} WHERE user_id = ${input.userId} AND deleted_at IS NULL) < ${max}`),
  );
  return result.meta.changes === 1;
}

const live = (userId: UserId, id: string) => and(eq(webhooks.id, id), eq(webhooks.userId, userId), isNull(webhooks.deletedAt));

/** The user's endpoint with that id, unless deleted. */
export async function liveWebhook(db: Db, userId: UserId, id: string): Promise<WebhookRow | undefined> {
  return query("find webhook", () => db.select().from(webhooks).where(live(userId, id)).get());
}

/** The user's endpoints that are not deleted, oldest first. */
export async function liveWebhooks(db: Db, userId: UserId): Promise<WebhookRow[]> {
  return query("list webhooks", () =>
    db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.userId, userId), isNull(webhooks.deletedAt)))
      .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
      .all(),
  );
}

export interface WebhookChanges {
  url?: string;
  events?: readonly EventType[];
  enabled?: boolean;
  description?: string;
}

/** Applies the changes to a live endpoint; the row after, or undefined when there is none. */
export async function updateWebhook(db: Db, userId: UserId, id: string, changes: WebhookChanges, now: number): Promise<WebhookRow | undefined> {
  const set = {
    ...(changes.url !== undefined && { url: changes.url }),
    ...(changes.events !== undefined && { events: JSON.stringify(changes.events) }),
    ...(changes.enabled !== undefined && { enabled: changes.enabled }),
    ...(changes.description !== undefined && { description: changes.description }),
    updatedAt: now,
  };
  const rows = await query("update webhook", () => db.update(webhooks).set(set).where(live(userId, id)).returning());
  return rows[0];
}

/**
 * Makes `sealedSecret` the signing secret; the current one keeps signing alongside until
 * `previousUntil` (a rotation within that window drops the older one). False when not live.
 */
export async function rotateWebhookSecret(db: Db, userId: UserId, id: string, sealedSecret: string, previousUntil: number, now: number): Promise<boolean> {
  const rows = await query("rotate webhook secret", () =>
    db
      .update(webhooks)
      .set({ previousSealedSecret: sql`${webhooks.sealedSecret}`, previousUntil, sealedSecret, updatedAt: now })
      .where(live(userId, id))
      .returning({ id: webhooks.id }),
  );
  return rows.length === 1;
}

/** Soft-deletes a live endpoint and fails its pending deliveries, in one batch; false when not live. */
export async function deleteWebhook(db: Db, userId: UserId, id: string, now: number): Promise<boolean> {
  const [deleted] = await transaction("delete webhook", () =>
    db.batch([
      db.update(webhooks).set({ deletedAt: now, updatedAt: now }).where(live(userId, id)).returning({ id: webhooks.id }),
      // Only after the row above is deleted (by this batch or earlier): another user's id changes nothing.
      db
        .update(webhookDeliveries)
        .set({ state: DeliveryStatus.failed, nextAttemptAt: null, updatedAt: now })
        .where(
          and(
            eq(webhookDeliveries.webhookId, id),
            eq(webhookDeliveries.state, DeliveryStatus.pending),
            sql`EXISTS (SELECT 1 FROM ${webhooks} WHERE ${webhooks.id} = ${id} AND ${webhooks.userId} = ${userId} AND ${webhooks.deletedAt} IS NOT NULL)`,
          ),
        ),
    ]),
  );
  return deleted.length === 1;
}
