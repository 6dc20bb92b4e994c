// Calling many Durable Objects from one invocation: a few at a time (Workers allow 6 open
// connections per invocation), every call settled, the failures returned by key.

/** Connections one invocation may have open at once. */
export const FANOUT = 6;

export async function fanOut<T, K>(items: readonly T[], keyOf: (item: T) => K, call: (item: T) => Promise<unknown>): Promise<Map<K, unknown>> {
  const failed = new Map<K, unknown>();
  for (let i = 0; i < items.length; i += FANOUT) {
    const group = items.slice(i, i + FANOUT);
    const results = await Promise.allSettled(group.map(call));
    results.forEach((r, k) => {
      if (r.status === "rejected") failed.set(keyOf(group[k]!), r.reason);
    });
  }
  return failed;
}
