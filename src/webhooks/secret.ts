// Webhook signing secrets: `whsec_` + base64 of 32 random bytes (the Standard Webhooks form),
// sealed at rest with KEYS_ENCRYPTION_KEY and bound to their endpoint ("webhook:<id>").

import { base64 } from "@scure/base";
import { importSealKey, seal, unseal } from "../db/sealed";
import type { Env } from "../env";

const PREFIX = "whsec_";

export function newWebhookSecret(): string {
  return PREFIX + base64.encode(crypto.getRandomValues(new Uint8Array(32)));
}

const context = (webhookId: string) => `webhook:${webhookId}`;

export async function sealWebhookSecret(env: Env, webhookId: string, secret: string): Promise<string> {
  return seal(await importSealKey(env.KEYS_ENCRYPTION_KEY), secret, context(webhookId));
}

/** The `whsec_…` secret; throws when the sealed text was damaged or sealed for another endpoint. */
export async function openWebhookSecret(env: Env, webhookId: string, sealed: string): Promise<string> {
  return unseal(await importSealKey(env.KEYS_ENCRYPTION_KEY), sealed, context(webhookId));
}
