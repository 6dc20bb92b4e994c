// Fresh Litecoin regtest addresses made from random programs, with the output scripts they stand for: no
// wallet holds their keys, so nothing ever spends from them.
import { randomBytes } from "node:crypto";
import { sha256 } from "@noble/hashes/sha2.js";
import { bech32, bech32m, createBase58check, hex } from "@scure/base";

const base58check = createBase58check(sha256);

/** A fresh Litecoin regtest address of one kind and the output script it stands for. */
export function freshAddress(kind: "p2wpkh" | "p2pkh" | "p2sh" | "p2sh-legacy" | "p2tr"): { address: string; script: string } {
  if (kind === "p2wpkh" || kind === "p2tr") {
    const program = randomBytes(kind === "p2wpkh" ? 20 : 32);
    const version = kind === "p2wpkh" ? 0 : 1;
    const coder = version === 0 ? bech32 : bech32m;
    const address = coder.encode("rltc", [version, ...coder.toWords(program)]);
    return { address, script: `${version === 0 ? "00" : "51"}${program.length.toString(16)}${hex.encode(program)}` };
  }
  const hash = randomBytes(20);
  if (kind === "p2pkh") return { address: base58check.encode(Uint8Array.of(0x6f, ...hash)), script: `76a914${hex.encode(hash)}88ac` };
  const version = kind === "p2sh" ? 0x3a : 0xc4;
  return { address: base58check.encode(Uint8Array.of(version, ...hash)), script: `a914${hex.encode(hash)}87` };
}

