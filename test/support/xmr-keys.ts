// Fresh valid XMR watch-only keys for tests (a random view scalar and spend point), so users never collide.
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";

export interface TestXmrKeys {
  private_view_key: string;
  public_spend_key: string;
}

export function randomXmrKeys(): TestXmrKeys {
  const l = ed25519.Point.Fn.ORDER;
  const scalar = () => (bytesToNumberLE(crypto.getRandomValues(new Uint8Array(64))) % (l - 1n)) + 1n;
  return {
    private_view_key: bytesToHex(numberToBytesLE(scalar(), 32)),
    public_spend_key: ed25519.Point.BASE.multiply(scalar()).toHex(),
  };
}
