// StreamHub: the global InvoiceStatusStream (every user's events, the original API's semantics).
// User accounts publish here after each commit; the hub delivers in event-log order and fills any
// gap from D1, so a late or lost publish never reorders or drops an event.

import { DurableObject } from "cloudflare:workers";
import { database, type Db } from "../db/client";
import { eventsAfter } from "../db/events";
import { Failures } from "../domain/errors";
import type { InvoiceEvent } from "../domain/events";
import type { Env } from "../env";
import { SerialQueue } from "./serial";
import { Subscribers } from "./subscribers";

const GAP_FILL_LIMIT = 1000;

export class StreamHub extends DurableObject<Env> {
  private readonly db: Db;
  private readonly subscribers: Subscribers;
  private readonly queue = new SerialQueue();
  /** Highest event id delivered; 0 = none since this instance started. */
  private lastId = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = database(env.DB);
    this.subscribers = new Subscribers({ replay: (afterId, limit) => eventsAfter(this.db, afterId, { limit }) });
  }

  subscribe(afterEventId: number | null): ReadableStream<Uint8Array> {
    return this.subscribers.open(afterEventId, Failures.tooManySubscribers);
  }

  /**
   * Event ids come from one SQLite sequence in commit order: when event N is committed, every
   * smaller id is committed too, so a gap before N can be read from the log right away.
   */
  async publish(events: InvoiceEvent[]): Promise<void> {
    await this.queue.run(async () => {
      for (const event of [...events].sort((a, b) => a.id - b.id)) {
        if (event.id <= this.lastId) continue;
        if (this.lastId > 0 && event.id > this.lastId + 1) {
          const missed = await eventsAfter(this.db, this.lastId, { beforeId: event.id, limit: GAP_FILL_LIMIT });
          if (missed.length > 0) this.deliver(missed);
        }
        this.deliver([event]);
      }
    });
  }

  private deliver(events: InvoiceEvent[]): void {
    this.subscribers.publish(events);
    this.lastId = Math.max(this.lastId, events[events.length - 1]!.id);
  }

  /** Subscriber count, for /healthz and tests. */
  subscriberCount(): number {
    return this.subscribers.size;
  }
}
