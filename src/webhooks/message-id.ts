// The Standard Webhooks `webhook-id` header: one value per event and endpoint, the same on every
// attempt, so a receiver can drop the duplicates that at-least-once delivery brings.

/** `msg_<eventId>_<webhookId without dashes>`, e.g. `msg_42_9f0c…`. */
export function webhookMessageId(webhookId: string, eventId: number | bigint): string {
  return `msg_${eventId}_${webhookId.replaceAll("-", "")}`;
}
