// Parsing a stored account key (base58, checksum, curve point) per invoice would show in D1-bound loops:
// each adapter keeps its parses, keyed by the stored text itself, so a key set stored with another key
// never reuses a stale parse.

import type { OpenKeySet } from "./adapter";

type Parsed<K> = { ok: true; key: K } | { ok: false; problem: string };

/** The parsed key of a key set: `text` picks the stored public key, `parse` reads it; a key that does not parse throws (`what` names it). */
export function keyCache<K>(text: (keys: OpenKeySet) => string, parse: (text: string) => Parsed<K>, what: string): (keys: OpenKeySet) => K {
  const parsed = new Map<string, K>();
  return (keys) => {
    const stored = text(keys);
    let key = parsed.get(stored);
    if (key === undefined) {
      const result = parse(stored);
      if (!result.ok) throw new Error(`key set ${keys.id} holds no usable ${what} (${result.problem})`);
      key = result.key;
      parsed.set(stored, key);
    }
    return key;
  };
}
