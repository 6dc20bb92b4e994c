// When D1 fails, clients get the original API's storage messages (never a crash or a stack trace).
// The failures are real: the tables a call needs are dropped from this file's isolated database.
import { Code } from "@connectrpc/connect";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { clients, failure, merchantUser, randomXmrKeys } from "./support";

const DB = (env as unknown as { DB: D1Database }).DB;

describe("storage failures", () => {
  const c = clients("connect-json");

  it("maps a failed write batch to \"An error occurred while initiating an SQL transaction.\"", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    await DB.exec("DROP TABLE events");
    expect(await failure(c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 60n, confirmations: 0 }))).toEqual({ code: Code.Internal, message: "An error occurred while initiating an SQL transaction." });
  });

  it("maps a failed query to \"An error occurred while executing a SQL query.\"", async () => {
    await DB.exec("DROP TABLE key_sets");
    await DB.exec("DROP TABLE users");
    expect(await failure(c.users.registerUser({}))).toEqual({ code: Code.Internal, message: "An error occurred while executing a SQL query." });
    await DB.exec("DROP TABLE payments");
    await DB.exec("DROP TABLE invoices");
    expect(await failure(c.invoices.getInvoices({ paymentIds: [crypto.randomUUID()] }))).toEqual({ code: Code.Internal, message: "An error occurred while executing a SQL query." });
  });
});
