// When D1 fails, clients get the original API's storage messages (never a crash or a stack trace).
// The failures are real: a table the call needs is renamed away in this file's database, then back.
import { Code } from "@connectrpc/connect";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { clients, failure, merchantUser, PROTOCOLS, randomXmrKeys } from "./support";

const DB = (env as unknown as { DB: D1Database }).DB;

/** Runs `call` while `table` is missing. */
async function withoutTable<T>(table: string, call: () => Promise<T>): Promise<T> {
  await DB.exec(`ALTER TABLE ${table} RENAME TO ${table}_away`);
  try {
    return await call();
  } finally {
    await DB.exec(`ALTER TABLE ${table}_away RENAME TO ${table}`);
  }
}

const QUERY = { code: Code.Internal, message: "An error occurred while executing a SQL query." };
const TRANSACTION = { code: Code.Internal, message: "An error occurred while initiating an SQL transaction." };

describe.each(PROTOCOLS)("storage failures over %s", (protocol) => {
  const c = clients(protocol);

  it("maps a failed write batch to \"An error occurred while initiating an SQL transaction.\"", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const create = () => c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 60n, confirmations: 0 });
    expect(await withoutTable("events", () => failure(create()))).toEqual(TRANSACTION);
    // Nothing half-written: the next invoice gets the index the failed one would have had.
    await create();
    const { results } = await DB.prepare("SELECT address_index FROM invoices WHERE user_id = ?").bind(userId).all<{ address_index: number }>();
    expect(results.map((r) => r.address_index)).toEqual([1]);
  });

  it("maps a failed query to \"An error occurred while executing a SQL query.\"", async () => {
    expect(await withoutTable("users", () => failure(c.users.registerUser({})))).toEqual(QUERY);
    expect(await withoutTable("invoices", () => failure(c.invoices.getInvoices({ paymentIds: [crypto.randomUUID()] })))).toEqual(QUERY);
  });
});
