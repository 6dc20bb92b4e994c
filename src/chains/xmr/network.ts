// The XMR rule of the network check: a monerod must report the configured network as its `nettype`;
// regtest (`fakechain`) is accepted whatever XMR_NETWORK says, since it uses mainnet address
// prefixes and is what local development and the tests run.

import type { XmrNetwork } from "./address";

export function acceptsNettype(expected: XmrNetwork, nettype: string): boolean {
  return nettype === expected || nettype === "fakechain";
}
