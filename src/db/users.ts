// Users (merchants): registration, existence checks and the display name payers see.

import { eq } from "drizzle-orm";
import type { UserId } from "../domain/ids";
import { query, type Db } from "./client";
import { users } from "./schema";

/** Inserts the user; false if the id is taken. */
export async function insertUser(db: Db, id: UserId, displayName: string | null, now: number): Promise<boolean> {
  const rows = await query("insert user", () =>
    db.insert(users).values({ id, createdAt: now, displayName }).onConflictDoNothing().returning({ id: users.id }),
  );
  return rows.length === 1;
}

/** Sets (or, with null, removes) the user's display name; false if there is no such user. */
export async function updateDisplayName(db: Db, id: UserId, displayName: string | null): Promise<boolean> {
  const rows = await query("update user", () => db.update(users).set({ displayName }).where(eq(users.id, id)).returning({ id: users.id }));
  return rows.length === 1;
}

export async function userExists(db: Db, id: UserId): Promise<boolean> {
  const row = await query("find user", () => db.select({ id: users.id }).from(users).where(eq(users.id, id)).get());
  return row !== undefined;
}

/** The display name payers see, or null (none set, or no such user). */
export async function displayNameOf(db: Db, id: UserId): Promise<string | null> {
  const row = await query("read user", () => db.select({ displayName: users.displayName }).from(users).where(eq(users.id, id)).get());
  return row?.displayName ?? null;
}
