// What a merchant attaches to an invoice (description, order id, return URL, metadata) and the
// merchant's display name: bounded, parsed once at the API edge, stored and returned as given.

import { Failures, type Outcome } from "./errors";

export interface InvoiceDetails {
  /** The merchant's own text; returned by the API and in webhooks, never shown on the checkout page. */
  readonly description: string | null;
  readonly orderId: string | null;
  /** Where the checkout page links back once the invoice is paid. */
  readonly redirectUrl: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export const NO_DETAILS: InvoiceDetails = { description: null, orderId: null, redirectUrl: null, metadata: {} };

export const MAX_DESCRIPTION_CHARS = 500;
export const MAX_ORDER_ID_CHARS = 100;
export const MAX_REDIRECT_URL_CHARS = 2048;
export const MAX_METADATA_KEYS = 20;
export const MAX_METADATA_BYTES = 1024;
export const MAX_DISPLAY_NAME_CHARS = 64;


export interface DetailsRequest {
  description?: string;
  orderId?: string;
  redirectUrl?: string;
  metadata: { [key: string]: string };
}

/** Characters as a person counts them (code points), not UTF-16 units. */
const chars = (s: string): number => [...s].length;
const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length;
// C0, DEL and C1 controls, plus line and paragraph separators: a name is one plain line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** An empty optional string is the same as none given. */
const given = (s: string | undefined): string | null => (s === undefined || s === "" ? null : s);

/** Judges CreateInvoice's fields 6-9. `insecureRedirects` also admits http:// (local development and tests). */
export function parseInvoiceDetails(req: DetailsRequest, insecureRedirects: boolean): Outcome<InvoiceDetails> {
  const description = given(req.description);
  if (description !== null && chars(description) > MAX_DESCRIPTION_CHARS) return { ok: false, failure: Failures.invalidDescription };
  const orderId = given(req.orderId);
  if (orderId !== null && chars(orderId) > MAX_ORDER_ID_CHARS) return { ok: false, failure: Failures.invalidOrderId };
  const redirectUrl = given(req.redirectUrl);
  if (redirectUrl !== null && !isRedirectUrl(redirectUrl, insecureRedirects)) {
    return { ok: false, failure: Failures.invalidRedirectUrl(insecureRedirects ? "https:// or http://" : "https://") };
  }
  const keys = Object.keys(req.metadata);
  if (keys.length > MAX_METADATA_KEYS) return { ok: false, failure: Failures.tooManyMetadataKeys };
  if (keys.some((k) => k === "")) return { ok: false, failure: Failures.emptyMetadataKey };
  const bytes = keys.reduce((sum, k) => sum + utf8Bytes(k) + utf8Bytes(req.metadata[k]!), 0);
  if (bytes > MAX_METADATA_BYTES) return { ok: false, failure: Failures.metadataTooLarge };
  return { ok: true, value: { description, orderId, redirectUrl, metadata: { ...req.metadata } } };
}

function isRedirectUrl(text: string, insecure: boolean): boolean {
  if (chars(text) > MAX_REDIRECT_URL_CHARS) return false;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  const schemeOk = url.protocol === "https:" || (insecure && url.protocol === "http:");
  // Credentials in a link on a public page would be handed to every payer.
  return schemeOk && url.hostname !== "" && url.username === "" && url.password === "";
}

/**
 * A display name as given: null when unset. In UpdateUser an empty name removes it (`clear`), so
 * the caller tells the two apart; surrounding spaces are dropped.
 */
export function parseDisplayName(text: string | undefined): Outcome<string | null> {
  if (text === undefined) return { ok: true, value: null };
  const name = text.trim();
  if (name === "") return { ok: true, value: null };
  if (chars(name) > MAX_DISPLAY_NAME_CHARS || CONTROL.test(name)) return { ok: false, failure: Failures.invalidDisplayName };
  return { ok: true, value: name };
}

/** Metadata as stored: JSON, or null when empty. */
export function metadataToText(metadata: Readonly<Record<string, string>>): string | null {
  return Object.keys(metadata).length === 0 ? null : JSON.stringify(metadata);
}

export function metadataFromText(text: string | null): Record<string, string> {
  return text === null ? {} : (JSON.parse(text) as Record<string, string>);
}
