// The cron sweep: pending deliveries whose attempt is more than a minute overdue go back on the
// queue, so a message lost between the commit and the queue, or a restart, loses no delivery.

import { database } from "../db/client";
import { overdueDeliveries } from "../db/deliveries";
import type { Env } from "../env";
import { enqueueDeliveries } from "./queue";

const GRACE_MS = 60_000;
/** Per run (every minute): bounded, the oldest first; the rest waits for the next run. */
const SWEEP_LIMIT = 500;

/** Re-enqueues overdue deliveries; returns how many. */
export async function sweepOverdueDeliveries(env: Env, now: number): Promise<number> {
  const ids = await overdueDeliveries(database(env.DB), now - GRACE_MS, SWEEP_LIMIT);
  await enqueueDeliveries(env.WEBHOOK_QUEUE, ids);
  return ids.length;
}
