// The network check: a node must say it serves the network this server is configured for (monerod
// `nettype`, Core `getblockchaininfo.chain`, `eth_chainId`, TON's global id) before it is followed.
// Every chain's source runs it before it uses a node; a node on another network is never followed.

import { NodeError } from "./node-error";

/** No node the source may use serves the configured network. */
export class WrongNetworkError extends NodeError {
  override name = "WrongNetworkError";

  constructor(
    /** What the node says it serves. */
    readonly network: string,
    /** What this server is configured for. */
    readonly expected: string,
    /** The node, as a URL without credentials. */
    readonly node: string,
  ) {
    super(`node ${node} is on ${network}, expected ${expected}`);
  }
}
