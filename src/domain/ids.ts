// Identifiers that cross the API: user, invoice and webhook ids are UUIDs, stored in canonical lowercase.
// Parsing turns untrusted strings into branded ids once; inside, trust them.

declare const userIdBrand: unique symbol;
declare const invoiceIdBrand: unique symbol;
declare const webhookIdBrand: unique symbol;
export type UserId = string & { readonly [userIdBrand]: true };
export type InvoiceId = string & { readonly [invoiceIdBrand]: true };
export type WebhookId = string & { readonly [webhookIdBrand]: true };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Canonical lowercase UUID, or null. Accepts any RFC 4122 layout (not only v4) since merchants pick their ids. */
export function parseUuid(value: string): string | null {
  return UUID.test(value) ? value.toLowerCase() : null;
}

export function parseUserId(value: string): UserId | null {
  return parseUuid(value) as UserId | null;
}

export function parseInvoiceId(value: string): InvoiceId | null {
  return parseUuid(value) as InvoiceId | null;
}

export function parseWebhookId(value: string): WebhookId | null {
  return parseUuid(value) as WebhookId | null;
}
