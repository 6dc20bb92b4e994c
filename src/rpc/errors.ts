// Turns failures into ConnectErrors: ApiErrors keep their documented code and message; anything
// else is logged with its cause and becomes the method's documented internal error.

import { Code, ConnectError } from "@connectrpc/connect";
import { ApiError, Failures, type ApiFailure, type ErrorCode, type Outcome } from "../domain/errors";

const CODES: Record<ErrorCode, Code> = {
  InvalidArgument: Code.InvalidArgument,
  NotFound: Code.NotFound,
  AlreadyExists: Code.AlreadyExists,
  FailedPrecondition: Code.FailedPrecondition,
  Unauthenticated: Code.Unauthenticated,
  Internal: Code.Internal,
  Canceled: Code.Canceled,
  ResourceExhausted: Code.ResourceExhausted,
  OutOfRange: Code.OutOfRange,
  Unavailable: Code.Unavailable,
};

export function connectError(failure: ApiFailure): ConnectError {
  return new ConnectError(failure.message, CODES[failure.code]);
}

/** Throws the failure as a ConnectError. */
export function reject(failure: ApiFailure): never {
  throw connectError(failure);
}

/** The value of a Durable Object outcome, or its failure thrown as a ConnectError. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) reject(outcome.failure);
  return outcome.value;
}

/** Runs a handler body; unexpected errors are logged and replaced by `fallback`. */
export async function guarded<T>(method: string, fallback: ApiFailure, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toConnectError(method, fallback, error);
  }
}

export function toConnectError(method: string, fallback: ApiFailure, error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof ApiError) return connectError(error.failure);
  // ApiErrors thrown inside a Durable Object arrive as plain Errors carrying the message only.
  const known = knownFailure(error);
  if (known) return connectError(known);
  console.error(`${method} failed`, error);
  return connectError(fallback);
}

const STORAGE_FAILURES = [Failures.sqlQuery, Failures.sqlTransaction];

function knownFailure(error: unknown): ApiFailure | null {
  const message = (error as Error)?.message;
  const failure = STORAGE_FAILURES.find((f) => f.message === message);
  if (failure) console.error("storage failure", error);
  return failure ?? null;
}
