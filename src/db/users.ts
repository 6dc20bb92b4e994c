// Users (merchants): registration and existence checks.

import { eq } from "drizzle-orm";
import type { UserId } from "../domain/ids";
import { query, type Db } from "./client";
import { users } from "./schema";

/** Inserts the user; false if the id is taken. */
export async function insertUser(db: Db, id: UserId, now: number): Promise<boolean> {
  const rows = await query("insert user", () =>
    db.insert(users).values({ id, createdAt: now }).onConflictDoNothing().returning({ id: users.id }),
  );
  return rows.length === 1;
}

export async function userExists(db: Db, id: UserId): Promise<boolean> {
  const row = await query("find user", () => db.select({ id: users.id }).from(users).where(eq(users.id, id)).get());
  return row !== undefined;
}
