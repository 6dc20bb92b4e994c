// Where a committed change becomes visible: the account's own stream subscribers, and the global
// StreamHub (not awaited: the hub orders by event id and fills gaps from the log).

import type { InvoiceEvent } from "../../domain/events";
import type { ApiFailure } from "../../domain/errors";
import type { Env } from "../../env";
import { Subscribers } from "../subscribers";

/** Checkout pages open at once per merchant; a pool of their own, so payers never crowd out the API's streams. */
const MAX_PAGE_WATCHERS = 2000;

export class Publisher {
  private readonly subscribers: Subscribers;
  private readonly pages: Subscribers;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    replay: (afterId: number, limit: number) => Promise<InvoiceEvent[]>,
  ) {
    this.subscribers = new Subscribers({ replay });
    this.pages = new Subscribers({ replay: async () => [], maxSubscribers: MAX_PAGE_WATCHERS });
  }

  /** API stream subscribers (checkout pages not counted). */
  get size(): number {
    return this.subscribers.size;
  }

  open(afterEventId: number | null, tooMany: ApiFailure): ReadableStream<Uint8Array> {
    return this.subscribers.open(afterEventId, tooMany);
  }

  /** One invoice's live events, for its checkout page. */
  openPage(invoiceId: string, tooMany: ApiFailure): ReadableStream<Uint8Array> {
    return this.pages.open(null, tooMany, (e) => e.invoice.id === invoiceId);
  }

  publish(events: InvoiceEvent[]): void {
    if (events.length === 0) return;
    this.subscribers.publish(events);
    this.pages.publish(events);
    const hub = this.env.STREAM_HUB.get(this.env.STREAM_HUB.idFromName("global"));
    this.ctx.waitUntil(hub.publish(events).catch((cause: unknown) => console.error("stream hub publish failed", cause)));
  }
}
