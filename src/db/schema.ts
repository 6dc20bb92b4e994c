// D1 schema (drizzle). Amounts are exact decimal TEXT of atomic units (wei does not fit int64);
// times are integer milliseconds since the epoch.

import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  createdAt: integer("created_at").notNull(),
  /** The merchant's name as payers see it on the checkout page; null: none shown. */
  displayName: text("display_name"),
});

/**
 * Watch-only keys per user and coin. A new key set gets a new row; an old one that comes back is
 * reactivated with its counter, so an address is never handed out twice.
 */
export const keySets = sqliteTable(
  "key_sets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    coin: integer("coin").notNull(),
    /** Public identity of the keys, as the chain module defines it; unique per coin across users. */
    fingerprint: text("fingerprint").notNull(),
    /** Public key material as JSON. */
    publicKeys: text("public_keys").notNull(),
    /** Secret watch-only material (a view key), AES-GCM sealed; null for chains without one. */
    sealedSecret: text("sealed_secret"),
    nextIndex: integer("next_index").notNull(),
    active: integer("active", { mode: "boolean" }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("key_sets_coin_fingerprint").on(t.coin, t.fingerprint),
    index("key_sets_user_coin").on(t.userId, t.coin, t.active),
  ],
);

export const invoices = sqliteTable(
  "invoices",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    coin: integer("coin").notNull(),
    keySetId: integer("key_set_id")
      .notNull()
      .references(() => keySets.id),
    addressIndex: integer("address_index").notNull(),
    address: text("address").notNull(),
    matchKey: text("match_key").notNull(),
    required: text("required").notNull(),
    actual: text("actual").notNull(),
    confirmationsRequired: integer("confirmations_required").notNull(),
    status: integer("status").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    confirmedAt: integer("confirmed_at"),
    txId: text("tx_id"),
    monitorUntil: integer("monitor_until"),
    closedAt: integer("closed_at"),
    /** The merchant's own text, reference and return URL (CreateInvoice); never shown to payers but the URL once paid. */
    description: text("description"),
    orderId: text("order_id"),
    redirectUrl: text("redirect_url"),
    /** JSON object of string values; null when none was given. */
    metadata: text("metadata"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("invoices_key_set_index").on(t.keySetId, t.addressIndex),
    index("invoices_coin_closed").on(t.coin, t.closedAt),
    index("invoices_user_closed").on(t.userId, t.closedAt),
  ],
);

/** Outputs paying an invoice, late ones included (in_time = 0). */
export const payments = sqliteTable(
  "payments",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    invoiceId: text("invoice_id")
      .notNull()
      .references(() => invoices.id),
    coin: integer("coin").notNull(),
    txHash: text("tx_hash").notNull(),
    outputIndex: integer("output_index").notNull(),
    /** The payment's identity as its module defines it (a one-time output key, or txid:vout); never credited twice. */
    outputKey: text("output_key").notNull(),
    amount: text("amount").notNull(),
    seenAt: integer("seen_at").notNull(),
    height: integer("height"),
    gone: integer("gone", { mode: "boolean" }).notNull(),
    inTime: integer("in_time", { mode: "boolean" }).notNull(),
    /** First seen unmined in a replaceable tx (BIP125): not final at 0 confirmations. */
    replaceable: integer("replaceable", { mode: "boolean" }).notNull().default(false),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("payments_coin_output").on(t.coin, t.txHash, t.outputIndex),
    uniqueIndex("payments_coin_output_key").on(t.coin, t.outputKey),
    index("payments_invoice").on(t.invoiceId),
  ],
);

/** Durable event log: one row per invoice state change, in commit order; streams resume from it. */
export const events = sqliteTable(
  "events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id").notNull(),
    invoiceId: text("invoice_id").notNull(),
    status: integer("status").notNull(),
    /** The invoice as it was at this event (JSON, amounts as strings). */
    snapshot: text("snapshot").notNull(),
    /**
     * The webhook event type (`invoice.created`, `invoice.payment_received`, …); null on rows written
     * before webhooks, whose type follows from the status.
     */
    type: text("type"),
    /** For `invoice.payment_received`: the payment as JSON `{txId, amountExact, inTime}`. */
    payment: text("payment"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("events_user").on(t.userId, t.id)],
);

/** A merchant's webhook endpoints. Deleting one keeps the row (deleted_at) so its queued deliveries stop. */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    url: text("url").notNull(),
    /** JSON array of event types; [] = all. */
    events: text("events").notNull(),
    description: text("description").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    /** The signing secret (`whsec_…`), AES-GCM sealed like view keys. */
    sealedSecret: text("sealed_secret").notNull(),
    /** After a rotation: the previous secret, which keeps signing alongside until previous_until. */
    previousSealedSecret: text("previous_sealed_secret"),
    previousUntil: integer("previous_until"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [index("webhooks_user").on(t.userId, t.deletedAt)],
);

/** The outbox: one row per event and matching endpoint, written in the event's own batch. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id),
    eventId: integer("event_id").notNull(),
    /** 0 pending, 1 delivered, 2 failed (the schedule ran out). */
    state: integer("state").notNull(),
    /** Attempts made so far. */
    attempts: integer("attempts").notNull(),
    /** When the next attempt is due (ms); null once delivered or failed. */
    nextAttemptAt: integer("next_attempt_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("webhook_deliveries_event").on(t.webhookId, t.eventId), index("webhook_deliveries_due").on(t.state, t.nextAttemptAt)],
);

/** Every delivery attempt, for ListDeliveries. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: integer("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id),
    webhookId: text("webhook_id").notNull(),
    attempt: integer("attempt").notNull(),
    /** 0: no HTTP answer (timeout, network error, refused URL). */
    httpStatus: integer("http_status").notNull(),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    at: integer("at").notNull(),
    /** The delivery's state after this attempt, and when the next one is due. */
    state: integer("state").notNull(),
    nextAttemptAt: integer("next_attempt_at"),
  },
  (t) => [index("webhook_attempts_webhook").on(t.webhookId, t.id)],
);

/** What each coin's watcher has seen; read by /healthz and by expiry (never expire past what was scanned). */
export const chainState = sqliteTable("chain_state", {
  coin: integer("coin").primaryKey(),
  /** The node's tip at its latest answer. */
  tipHeight: integer("tip_height"),
  /** The highest tip a node showed since the watcher started following (null while idle); lag counts from it. */
  bestTipHeight: integer("best_tip_height"),
  cursorHeight: integer("cursor_height"),
  scannedThrough: integer("scanned_through").notNull().default(sql`0`),
  lastError: text("last_error"),
  /** When a node last answered the watcher's look (its tip and the network check); null: never. */
  checkedAt: integer("checked_at"),
  /** The network that node said it serves. */
  network: text("network"),
  /** Set while the node serves another network: the one this server is configured for. CreateInvoice refuses the coin meanwhile. */
  expectedNetwork: text("expected_network"),
  /** Why the node's word does not move the scan forward (its tip is below one seen before, it is syncing); null when it does. */
  nodeBehind: text("node_behind"),
  /** What the node lets the watcher see beyond blocks (JSON, e.g. an EVM node's pool and internal transfers); null: nothing to say. */
  features: text("features"),
  /** The highest final block, for a coin that counts by finality (an EVM chain with `<CHAIN>_FINALITY=finalized`); null otherwise. */
  finalizedHeight: integer("finalized_height"),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * A user whose scan shard holds batches it could not yet deliver (the account failed, or the
 * shard's budget ran out): the account's expiry must not go past `heldBefore`, since what the chain
 * showed after it has not reached the account. One row per shard (a user changes shard when the
 * shard count does), deleted once that shard delivered everything.
 */
export const scanHolds = sqliteTable(
  "scan_holds",
  {
    coin: integer("coin").notNull(),
    userId: text("user_id").notNull(),
    shard: text("shard").notNull(),
    heldBefore: integer("held_before").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.coin, t.userId, t.shard] })],
);
