// The consumer's dependencies in the Worker: D1, the global fetch, the clock, the SSRF rule, the
// sealed secrets and the message ids, as the webhook API defines them.

import { database } from "../db/client";
import { importSealKey, unseal } from "../db/sealed";
import type { Env } from "../env";
import type { DeliveryDeps } from "./consumer";
import { retrySchedule } from "./schedule";

// TEMPORARY until src/webhooks/{secret,url,message-id}.ts land from the API branch: the same contracts.
const webhookMessageId = (webhookId: string, eventId: number): string => `msg_${eventId}_${webhookId.replaceAll("-", "")}`;
function refusal(text: string, allowInsecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "not a URL";
  }
  if (url.protocol === "https:") return null;
  return url.protocol === "http:" && allowInsecure ? null : "only https URLs";
}

export function deliveryDeps(env: Env): DeliveryDeps {
  const allowInsecure = env.WEBHOOK_ALLOW_INSECURE_URLS === "true";
  let key: Promise<CryptoKey> | null = null;
  return {
    db: database(env.DB),
    fetch: (input, init) => fetch(input, init),
    now: () => Date.now(),
    refuseUrl: (url) => refusal(url, allowInsecure),
    openSecret: async (webhookId, sealed) => unseal(await (key ??= importSealKey(env.KEYS_ENCRYPTION_KEY)), sealed, `webhook:${webhookId}`),
    messageId: webhookMessageId,
    schedule: retrySchedule(env.WEBHOOK_RETRY_SECONDS),
  };
}
