// Webhook fixtures for worker tests: endpoint rows written straight into D1 (sealed like the API
// seals them), a paid-up XMR merchant, and outbox rows read back.

import { env } from "cloudflare:workers";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { importSealKey, seal } from "../../src/db/sealed";
import type { Env } from "../../src/env";
import { clients, merchantUser, randomXmrKeys } from "./support";

export const E = env as unknown as Env;
export const c = clients("connect-json");
export const newSecret = () => `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;

export interface EndpointOptions {
  url?: string;
  events?: string[];
  enabled?: boolean;
  deletedAt?: number | null;
  secret?: string;
  previous?: { secret: string; until: number };
}

/** A webhook row for the user; returns its id and (plain) secret. */
export async function endpoint(userId: string, o: EndpointOptions = {}): Promise<{ id: string; secret: string }> {
  const id = crypto.randomUUID();
  const secret = o.secret ?? newSecret();
  const key = await importSealKey(E.KEYS_ENCRYPTION_KEY);
  const now = Date.now();
  await E.DB.prepare(
    `INSERT INTO webhooks (id, user_id, url, events, description, enabled, sealed_secret, previous_sealed_secret, previous_until, created_at, updated_at, deleted_at)
     VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, ?7, ?8, ?9, ?9, ?10)`,
  )
    .bind(
      id,
      userId,
      o.url ?? "https://hooks.example.test/edgepay",
      JSON.stringify(o.events ?? []),
      o.enabled === false ? 0 : 1,
      await seal(key, secret, `webhook:${id}`),
      o.previous ? await seal(key, o.previous.secret, `webhook:${id}`) : null,
      o.previous?.until ?? null,
      now,
      o.deletedAt ?? null,
    )
    .run();
  return { id, secret };
}

/** A user with fresh XMR keys. */
export const newMerchant = () => merchantUser(c, randomXmrKeys());

export const createInvoice = (userId: string, timeout = 600n) =>
  c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1.5, timeout, confirmations: 1 });

export interface DeliveryRow {
  id: number;
  webhook_id: string;
  event_id: number;
  state: number;
  attempts: number;
  next_attempt_at: number | null;
  type: string;
}

/** The outbox rows of an invoice's events, oldest first, with each event's type. */
export async function deliveriesOfInvoice(invoiceId: string): Promise<DeliveryRow[]> {
  const { results } = await E.DB.prepare(
    `SELECT d.id, d.webhook_id, d.event_id, d.state, d.attempts, d.next_attempt_at, e.type
     FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE e.invoice_id = ?1 ORDER BY d.id`,
  )
    .bind(invoiceId)
    .all<DeliveryRow>();
  return results;
}
