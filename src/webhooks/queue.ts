// The webhook Queue's message and how deliveries get onto it: after the batch that created them
// committed, and again from the cron sweep. A failed send is logged, never thrown: the rows are
// durable, and the sweep re-enqueues whatever is overdue.

/** The body of a message on WEBHOOK_QUEUE. */
export interface DeliveryMessage {
  deliveryId: number;
}

/** sendBatch takes at most 100 messages. */
const SEND_BATCH = 100;

export async function enqueueDeliveries(queue: Queue<DeliveryMessage> | undefined, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  if (!queue) {
    console.error(`no WEBHOOK_QUEUE binding: ${ids.length} webhook deliveries wait for the cron sweep`);
    return;
  }
  for (let i = 0; i < ids.length; i += SEND_BATCH) {
    const chunk = ids.slice(i, i + SEND_BATCH);
    try {
      await queue.sendBatch(chunk.map((deliveryId) => ({ body: { deliveryId }, contentType: "json" as const })));
    } catch (cause) {
      console.error(`could not enqueue webhook deliveries ${chunk[0]}..${chunk.at(-1)} (the cron sweep will)`, cause);
    }
  }
}
