// Values bigger than one Durable Object storage value may be (2 MB), stored as JSON in pieces under
// `key:0`, `key:1`, … with a head under `key`: the watcher's cursor and pending step, which grow with a
// node's pool (100,000+ txids on a busy chain) and with a step's batches.

/** Characters per piece: the JSON here is ASCII (hex ids, numbers), so at most ~0.9 MB each. */
export const PIECE_CHARS = 900_000;
const HEAD = "__pieces";
const BIGINT = "__bigint";

interface Head {
  [HEAD]: number;
}

const isHead = (value: unknown): value is Head =>
  typeof value === "object" && value !== null && HEAD in value && typeof (value as Record<string, unknown>)[HEAD] === "number";

const pieceKeys = (key: string, from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => `${key}:${from + i}`);

/** Stores `value` (JSON with bigints) under `key`, replacing what was there, pieces included. */
export async function putChunked(storage: DurableObjectStorage, key: string, value: unknown, pieceChars = PIECE_CHARS): Promise<void> {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? { [BIGINT]: v.toString() } : v));
  const count = Math.ceil(text.length / pieceChars);
  const before = await storage.get(key);
  const entries: Record<string, unknown> = { [key]: { [HEAD]: count } satisfies Head };
  pieceKeys(key, 0, count).forEach((k, i) => (entries[k] = text.slice(i * pieceChars, (i + 1) * pieceChars)));
  // storage.put takes 128 pairs at most per call; more than 127 pieces (114 MB) does not occur here.
  await storage.put(entries);
  const stale = pieceKeys(key, count, isHead(before) ? before[HEAD] : 0);
  if (stale.length > 0) await storage.delete(stale);
}

/** What putChunked stored under `key`; a value stored whole before (an older version) as it is. */
export async function getChunked(storage: DurableObjectStorage, key: string): Promise<unknown> {
  const head = await storage.get(key);
  if (!isHead(head)) return head;
  const keys = pieceKeys(key, 0, head[HEAD]);
  const pieces = keys.length === 0 ? new Map<string, unknown>() : await storage.get<string>(keys);
  const text = keys.map((k) => {
    const piece = pieces.get(k);
    if (typeof piece !== "string") throw new Error(`stored value ${key}: piece ${k} is missing`);
    return piece;
  });
  return JSON.parse(text.join(""), (_k, v: unknown) =>
    typeof v === "object" && v !== null && BIGINT in v ? BigInt((v as Record<string, string>)[BIGINT]!) : v,
  );
}

/** Removes `key` and its pieces. */
export async function deleteChunked(storage: DurableObjectStorage, key: string): Promise<void> {
  const head = await storage.get(key);
  await storage.delete([key, ...pieceKeys(key, 0, isHead(head) ? head[HEAD] : 0)]);
}
