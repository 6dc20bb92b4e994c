// FNV-1a, 32 bits: a cheap, stable, non-cryptographic hash of text, for spreading ids over shards
// and telling versions apart. Never for anything an attacker could exploit by choosing collisions.

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
