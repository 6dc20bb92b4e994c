// Runs async work one at a time inside a Durable Object. A DO is single-threaded, but awaiting D1
// or a fetch lets other requests interleave; per-user work (index allocation, state changes) must not.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
