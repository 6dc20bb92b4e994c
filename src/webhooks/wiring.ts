// The consumer's dependencies in the Worker: D1, the global fetch, the clock, the SSRF rule, the
// sealed secrets and the message ids, as the webhook API defines them.

import { allowInsecureWebhookUrls, checkoutBase } from "../config";
import { database } from "../db/client";
import type { Env } from "../env";
import type { DeliveryDeps } from "./consumer";
import { webhookMessageId } from "./message-id";
import { retrySchedule } from "./schedule";
import { openWebhookSecret } from "./secret";
import { checkWebhookUrl } from "./url";

export function deliveryDeps(env: Env): DeliveryDeps {
  const policy = { allowInsecure: allowInsecureWebhookUrls(env) };
  return {
    db: database(env.DB),
    fetch: (input, init) => fetch(input, init),
    now: () => Date.now(),
    refuseUrl: (url) => {
      const checked = checkWebhookUrl(url, policy);
      return checked.ok ? null : checked.reason;
    },
    openSecret: (webhookId, sealed) => openWebhookSecret(env, webhookId, sealed),
    messageId: webhookMessageId,
    schedule: retrySchedule(env.WEBHOOK_RETRY_SECONDS),
    checkoutBase: checkoutBase(env, null),
  };
}
