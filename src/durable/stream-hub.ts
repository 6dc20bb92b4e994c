// StreamHub: the global InvoiceStatusStream (every user's events, the original API's semantics).
// User accounts publish here after each commit; the hub delivers in event-log order and fills any
// gap from D1, so a late or lost publish never reorders or drops an event.

import { DurableObject } from "cloudflare:workers";
import { database, type Db } from "../db/client";
import { eventsAfter, latestEventId } from "../db/events";
import { Failures } from "../domain/errors";
import type { InvoiceEvent } from "../domain/events";
import type { Env } from "../env";
import { SerialQueue } from "./serial";
import { Subscribers } from "./subscribers";

/** Events read from the log per page when filling a gap; a gap of any size is read page by page. */
const GAP_PAGE = 500;

export class StreamHub extends DurableObject<Env> {
  private readonly db: Db;
  private readonly subscribers: Subscribers;
  private readonly queue = new SerialQueue();
  /** Highest event id delivered (or in the log when this instance started); null before start. */
  private lastId: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = database(env.DB);
    this.subscribers = new Subscribers({ replay: (afterId, limit) => eventsAfter(this.db, afterId, { limit }) });
  }

  async subscribe(afterEventId: number | null): Promise<ReadableStream<Uint8Array>> {
    await this.queue.run(() => this.start());
    return this.subscribers.open(afterEventId, Failures.tooManySubscribers);
  }

  /**
   * The log position this instance starts from. Publishes may arrive out of order (accounts do not
   * wait for them), so even the first one must be placed against the log, not taken as the start.
   */
  private async start(): Promise<void> {
    if (this.lastId === null) this.lastId = await latestEventId(this.db);
  }

  /**
   * Event ids come from one SQLite sequence in commit order: when event N is committed, every
   * smaller id is committed too, so a gap before N can be read from the log right away.
   */
  async publish(events: InvoiceEvent[]): Promise<void> {
    await this.queue.run(async () => {
      await this.start();
      for (const event of [...events].sort((a, b) => a.id - b.id)) {
        if (event.id <= this.lastId!) continue;
        await this.fillGapBefore(event.id);
        this.deliver([event]);
      }
    });
  }

  /** Delivers every logged event between the last one delivered and `id`, page by page. */
  private async fillGapBefore(id: number): Promise<void> {
    while (this.lastId! + 1 < id) {
      const page = await eventsAfter(this.db, this.lastId!, { beforeId: id, limit: GAP_PAGE });
      if (page.length === 0) return; // ids are not contiguous (a rolled-back insert): nothing is missing
      this.deliver(page);
    }
  }

  private deliver(events: InvoiceEvent[]): void {
    this.subscribers.publish(events);
    this.lastId = Math.max(this.lastId ?? 0, events[events.length - 1]!.id);
  }

  /** Subscriber count, for /healthz and tests. */
  subscriberCount(): number {
    return this.subscribers.size;
  }
}
