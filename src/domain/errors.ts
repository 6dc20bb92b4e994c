// Every error a client can see, in one place, with its Connect code name and exact message.
// The domain and Durable Objects return these; src/rpc/errors.ts turns them into ConnectErrors.

import { tickerOf, type Coin } from "./coins";
import type { AmountProblem } from "./amount";

/** Connect code names (the subset this API uses); mapped to @connectrpc/connect's Code in src/rpc. */
export type ErrorCode =
  | "InvalidArgument"
  | "NotFound"
  | "AlreadyExists"
  | "FailedPrecondition"
  | "Unauthenticated"
  | "Internal"
  | "Canceled"
  | "ResourceExhausted"
  | "OutOfRange"
  | "Unavailable";

export interface ApiFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

/** A client-visible failure; chain modules define their own (key formats) with it. */
export const fail = (code: ErrorCode, message: string): ApiFailure => ({ code, message });

export const Failures = {
  registerInvalidUserId: fail("InvalidArgument", "invalid userId (uuid)"),
  userAlreadyExists: fail("AlreadyExists", "user already exists"),
  invalidUserId: fail("InvalidArgument", "invalid userId"),
  unknownUser: fail("InvalidArgument", "Invalid userId"),
  keysUsedByAnotherUser: fail("AlreadyExists", "crypto keys are already used by another user"),
  unsupportedCoin: fail("InvalidArgument", "unsupported coin"),
  coinNotEnabled: (coin: Coin) => fail("FailedPrecondition", `${tickerOf(coin)} is not enabled on this server`),
  noKeys: (coin: Coin) => fail("FailedPrecondition", `no ${tickerOf(coin)} keys configured for this user`),
  /** The coin's node serves another network than configured: nothing of that chain is followed. */
  wrongNetwork: (coin: Coin, network: string, expected: string) =>
    fail("FailedPrecondition", `${tickerOf(coin)} node is on ${network}, expected ${expected}`),
  amount: (problem: AmountProblem, coin: Coin, decimals: number) => fail("InvalidArgument", amountMessage(problem, tickerOf(coin), decimals)),
  invalidTimeout: (min: number, max: number) =>
    fail("InvalidArgument", `invalid timeout: must be between ${min} and ${max} seconds`),
  invalidConfirmations: (coin: Coin, max: number) => fail("InvalidArgument", `invalid confirmations: at most ${max} for ${tickerOf(coin)}`),
  // CreateInvoice's merchant fields (6-9) and the display name; limits in domain/invoice-details.ts.
  invalidDescription: fail("InvalidArgument", "invalid description: at most 500 characters"),
  invalidOrderId: fail("InvalidArgument", "invalid orderId: at most 100 characters"),
  invalidRedirectUrl: (schemes: string) =>
    fail("InvalidArgument", `invalid redirectUrl: an absolute ${schemes} URL without credentials, at most 2048 characters`),
  tooManyMetadataKeys: fail("InvalidArgument", "invalid metadata: at most 20 keys"),
  metadataTooLarge: fail("InvalidArgument", "invalid metadata: at most 1024 bytes of keys and values"),
  emptyMetadataKey: fail("InvalidArgument", "invalid metadata: keys must not be empty"),
  invalidDisplayName: fail("InvalidArgument", "invalid displayName: 1 to 64 characters, no control characters"),
  invoiceInternal: fail("Internal", "An error occurred while handling invoice."),
  invalidPaymentId: fail("Internal", "invalid payment id"),
  tooManyPaymentIds: (max: number) => fail("InvalidArgument", `too many paymentIds: at most ${max}`),
  sqlQuery: fail("Internal", "An error occurred while executing a SQL query."),
  sqlTransaction: fail("Internal", "An error occurred while initiating an SQL transaction."),
  unauthenticated: fail("Unauthenticated", "missing or invalid bearer token"),
  /** Bytes that are not the method's request message: bad framing, compression or encoding; `reason` says which. */
  undecodableRequest: (reason: string) => fail("InvalidArgument", `request could not be decoded: ${reason}`),
  requestTooLarge: (maxBytes: number) => fail("ResourceExhausted", `request too large: at most ${maxBytes} bytes`),
  streamClosed: fail("Canceled", "stream has been closed"),
  eventIdAhead: fail("OutOfRange", "afterEventId is ahead of the event log"),
  tooManySubscribers: fail("ResourceExhausted", "too many stream subscribers"),
  tooManyCheckoutViewers: fail("ResourceExhausted", "too many open checkout pages"),
  internal: fail("Internal", "internal error"),
  // Webhooks. A malformed, foreign or deleted webhookId is as unknown as a missing one: nothing leaks.
  unknownWebhook: fail("NotFound", "unknown webhook"),
  invalidWebhookUrl: fail("InvalidArgument", "invalid webhook url"),
  unknownWebhookEventType: (name: string) => fail("InvalidArgument", `unknown webhook event type: ${name}`),
  webhookEventsAndAllEvents: fail("InvalidArgument", "events and allEvents exclude each other"),
  webhookDescriptionTooLong: (max: number) => fail("InvalidArgument", `webhook description too long: at most ${max} characters`),
  tooManyWebhooks: (max: number) => fail("ResourceExhausted", `at most ${max} webhooks per user`),
  /** RedeliverEvent: no such event, or another user's. */
  unknownEvent: fail("NotFound", "unknown event"),
  invalidPageToken: fail("InvalidArgument", "invalid pageToken"),
} as const;

function amountMessage(problem: AmountProblem, ticker: string, decimals: number): string {
  switch (problem) {
    case "negative":
      return "Invoice amount can't be below 0";
    case "zero":
      return "Invoice amount must be greater than 0";
    case "not-finite":
      return "Invoice amount must be a finite number";
    case "too-precise":
      return `Invoice amount has more than ${decimals} fractional digits for ${ticker}`;
    case "too-large":
      return "Invoice amount is too large";
  }
}

/** Thrown by inner layers to end a request with a client-visible failure. */
export class ApiError extends Error {
  constructor(readonly failure: ApiFailure, options?: { cause?: unknown }) {
    super(failure.message, options);
    this.name = "ApiError";
  }
}

/** Result shape for Durable Object RPC methods: errors cross the RPC boundary as data, not exceptions. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: ApiFailure };

/** A failure's message for a log line: an Error's message, anything else as text. */
export function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
