// One drizzle handle over D1 and the rule for its failures: a failed query or batch is logged
// with its cause and reaches the client as the original API's SQL error messages.

import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { ApiError, Failures, type ApiFailure } from "../domain/errors";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

export function database(d1: D1Database): Db {
  return drizzle(d1, { schema });
}

/** Runs a read or single write; any failure becomes "An error occurred while executing a SQL query." */
export function query<T>(what: string, run: () => Promise<T>): Promise<T> {
  return failingAs(Failures.sqlQuery, `sql query failed: ${what}`, run);
}

/**
 * Runs `query` over `values` in chunks of 90 and concatenates the rows: D1 binds at most 100
 * parameters per statement, which leaves room for a few more (a coin, a shard).
 */
export async function inChunks<V, R>(values: readonly V[], query: (chunk: V[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < values.length; i += 90) out.push(...(await query(values.slice(i, i + 90))));
  return out;
}

/** Runs an atomic write batch; a failure becomes "An error occurred while initiating an SQL transaction." */
export function transaction<T>(what: string, run: () => Promise<T>): Promise<T> {
  return failingAs(Failures.sqlTransaction, `sql batch failed: ${what}`, run);
}

async function failingAs<T>(failure: ApiFailure, log: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    if (cause instanceof ApiError) throw cause;
    console.error(log, cause);
    throw new ApiError(failure, { cause });
  }
}

/** SQLite constraint violations, so callers can turn a lost race into the right client error. */
export function isUniqueViolation(error: unknown): boolean {
  const text = String((error as { cause?: unknown })?.cause ?? error) + String(error);
  return /UNIQUE constraint failed/i.test(text);
}
