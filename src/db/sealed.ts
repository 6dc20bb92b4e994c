// Secrets at rest: AES-256-GCM with a key from the KEYS_ENCRYPTION_KEY secret.
// Sealed form: "v1:" + base64(12-byte IV || ciphertext+tag); the additional data binds it to its row's purpose.

import { base64, hex } from "@scure/base";

const PREFIX = "v1:";

/** Imports the 32-byte key given as base64 or hex; throws when missing or malformed. */
export async function importSealKey(secret: string | undefined): Promise<CryptoKey> {
  const raw = decodeKey(secret?.trim() ?? "");
  if (!raw) throw new Error("KEYS_ENCRYPTION_KEY must be 32 bytes in base64 or hex");
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

function decodeKey(text: string): Uint8Array | null {
  for (const decode of [(s: string) => hex.decode(s.toLowerCase()), base64.decode]) {
    try {
      const bytes = decode(text);
      if (bytes.length === 32) return bytes;
    } catch {
      // try the next encoding
    }
  }
  return null;
}

export async function seal(key: CryptoKey, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
      key,
      new TextEncoder().encode(plaintext),
    ),
  );
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv);
  out.set(ct, iv.length);
  return PREFIX + base64.encode(out);
}

export async function unseal(key: CryptoKey, sealed: string, context: string): Promise<string> {
  if (!sealed.startsWith(PREFIX)) throw new Error("unknown sealed format");
  const bytes = base64.decode(sealed.slice(PREFIX.length));
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: new TextEncoder().encode(context) },
    key,
    bytes.subarray(12),
  );
  return new TextDecoder().decode(pt);
}
