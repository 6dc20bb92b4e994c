// Standard Webhooks signatures: "v1," + base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>",
// keyed by the bytes of a `whsec_<base64>` secret. WebCrypto only.

import { base64 } from "@scure/base";

const encoder = new TextEncoder();
const SECRET_PREFIX = "whsec_";

/** The key bytes of a `whsec_…` secret (a bare base64 secret is accepted as well). */
export function secretBytes(secret: string): Uint8Array {
  return base64.decode(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
}

/** One `v1,<base64>` signature. */
export async function signPayload(secret: string, messageId: string, timestampSeconds: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", secretBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${messageId}.${timestampSeconds}.${body}`));
  return `v1,${base64.encode(new Uint8Array(mac))}`;
}

/** The `webhook-signature` header: one signature per secret, space-separated (the current secret first, then one being rotated out). */
export async function signatureHeader(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): Promise<string> {
  const signatures = await Promise.all(secrets.map((s) => signPayload(s, messageId, timestampSeconds, body)));
  return signatures.join(" ");
}
