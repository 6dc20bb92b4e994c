// Live stream subscribers of one Durable Object: NDJSON over a ReadableStream, with replay from the
// event log before going live, so a resumed stream neither skips nor repeats an event.

import { Failures, type ApiFailure } from "../domain/errors";
import type { InvoiceEvent } from "../domain/events";

/** One line of the DO -> Worker stream. An empty line is a heartbeat. */
export type StreamLine = { event: InvoiceEvent } | { error: ApiFailure };

interface Subscriber {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Highest event id written; later events only. */
  lastId: number;
  /** Events that arrived while the replay was still running; null once live. */
  pending: InvoiceEvent[] | null;
  /** Only these events are written (a checkout page follows one invoice); unset: all. */
  only?: (event: InvoiceEvent) => boolean;
}

export interface SubscriberOptions {
  /** Reads logged events with lastId < id, oldest first, at most `limit`. */
  replay(afterId: number, limit: number): Promise<InvoiceEvent[]>;
  maxSubscribers?: number;
  heartbeatMs?: number;
  /** A subscriber whose unread backlog exceeds this many chunks is dropped (a client that stopped reading). */
  maxBacklog?: number;
}

const encoder = new TextEncoder();
const REPLAY_PAGE = 500;
/**
 * A cancelled reader on the Worker side does not reach this object until it writes, so the
 * heartbeat is also how a client that left is noticed: within this interval.
 */
const HEARTBEAT_MS = 5_000;

export class Subscribers {
  private readonly subs = new Set<Subscriber>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly opts: SubscriberOptions) {}

  get size(): number {
    return this.subs.size;
  }

  /**
   * A new subscriber. With `afterEventId` it first receives every logged event after that id,
   * then live ones; without it, live events only.
   */
  open(afterEventId: number | null, tooMany: ApiFailure, only?: (event: InvoiceEvent) => boolean): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    if (this.subs.size >= (this.opts.maxSubscribers ?? 1000)) {
      void writer.write(line({ error: tooMany })).then(() => writer.close()).catch(() => undefined);
      return readable;
    }
    const sub: Subscriber = { writer, lastId: afterEventId ?? 0, pending: afterEventId === null ? null : [], only };
    this.subs.add(sub);
    // The reader cancelling (client gone, Worker dropped the stream) errors the writable side.
    writer.closed.catch(() => this.drop(sub, false));
    this.startHeartbeat();
    if (afterEventId !== null) void this.catchUp(sub);
    return readable;
  }

  /** Delivers events (ascending ids) to every live subscriber that has not seen them. */
  publish(events: readonly InvoiceEvent[]): void {
    for (const sub of this.subs) {
      if (sub.pending) sub.pending.push(...events);
      else for (const e of events) this.send(sub, e);
    }
  }

  /** Ends every stream (the Worker turns the end into Canceled "stream has been closed"). */
  closeAll(): void {
    for (const sub of this.subs) this.drop(sub, true);
  }

  private async catchUp(sub: Subscriber): Promise<void> {
    try {
      for (;;) {
        const page = await this.opts.replay(sub.lastId, REPLAY_PAGE);
        for (const e of page) this.send(sub, e);
        if (page.length < REPLAY_PAGE || !this.subs.has(sub)) break;
        // A long replay goes at the reader's pace, a page at a time, not all into memory.
        await sub.writer.ready;
      }
      // Events published during the replay: the log may already have covered some of them.
      const queued = sub.pending ?? [];
      sub.pending = null;
      for (const e of queued) this.send(sub, e);
    } catch (cause) {
      console.error("stream replay failed", cause);
      void sub.writer.write(line({ error: Failures.sqlQuery })).catch(() => undefined);
      this.drop(sub, true);
    }
  }

  private send(sub: Subscriber, event: InvoiceEvent): void {
    if (event.id <= sub.lastId) return;
    sub.lastId = event.id;
    if (!sub.only || sub.only(event)) this.write(sub, line({ event }));
  }

  private write(sub: Subscriber, chunk: Uint8Array): void {
    if ((sub.writer.desiredSize ?? 0) < -(this.opts.maxBacklog ?? 10_000)) {
      this.drop(sub, false);
      return;
    }
    sub.writer.write(chunk).catch(() => this.drop(sub, false));
  }

  private drop(sub: Subscriber, graceful: boolean): void {
    if (!this.subs.delete(sub)) return;
    if (graceful) sub.writer.close().catch(() => undefined);
    else sub.writer.abort().catch(() => undefined);
    if (this.subs.size === 0) this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    const heartbeat = encoder.encode("\n");
    this.heartbeat = setInterval(() => {
      for (const sub of this.subs) this.write(sub, heartbeat);
    }, this.opts.heartbeatMs ?? HEARTBEAT_MS);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

function line(value: StreamLine): Uint8Array {
  return encoder.encode(JSON.stringify(value) + "\n");
}
