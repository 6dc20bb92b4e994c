// EVM JSON-RPC nodes through viem: one public client per URL (JSON-RPC batches, no block-number cache),
// failover in turn, and the network check (eth_chainId) on every node before a step uses it.

import { createPublicClient, http, type PublicClient } from "viem";
import type { NodeTip } from "../adapter";
import { WrongNetworkError } from "../network-check";
import { NodeError } from "../node-error";
import type { EvmNetwork } from "./networks";

export interface EvmNodeOptions {
  /** Node URLs, tried in turn. */
  urls: string[];
  network: EvmNetwork;
  fetch: typeof fetch;
  /** Per HTTP request. */
  timeoutMs?: number;
  /** Most calls in one JSON-RPC batch. */
  maxBatch?: number;
}

/** A node that passed the network check, and its tip. */
export interface UsableNode {
  client: PublicClient;
  url: string;
  tip: NodeTip;
}

export interface EvmNodes {
  /** The URL in use now, without credentials or path secrets (an API key is often in the path). */
  node(): string;
  /** The first node, from the last good one on, that answers on the configured network, with its tip. */
  connect(): Promise<UsableNode>;
}

/** Shown for a URL in logs and /healthz: scheme, host and port (providers put API keys in paths). */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(bad URL)";
  }
}

export function createEvmNodes(opts: EvmNodeOptions): EvmNodes {
  const clients = opts.urls.map((url) =>
    createPublicClient({
      transport: http(url, {
        batch: { batchSize: opts.maxBatch ?? 100 },
        fetchFn: opts.fetch,
        retryCount: 1,
        timeout: opts.timeoutMs ?? 10_000,
      }),
      // viem caches eth_blockNumber for pollingInterval by default: a stale tip after a new block.
      cacheTime: 0,
    }),
  );
  let current = 0;
  const expected = networkName(opts.network.chainId, opts.network);

  async function tipOf(client: PublicClient): Promise<NodeTip & { chainId: number }> {
    const [chainId, latest, syncing] = await Promise.all([
      client.request({ method: "eth_chainId" }),
      client.request({ method: "eth_getBlockByNumber", params: ["latest", false] }),
      client.request({ method: "eth_syncing" as never }).catch(() => false),
    ]);
    const id = Number(chainId);
    if (!latest || typeof latest.number !== "string" || typeof latest.hash !== "string") throw new NodeError("the node has no latest block");
    return {
      height: Number(latest.number),
      hash: latest.hash.toLowerCase(),
      // eth_syncing: false when in sync, an object while catching up (some nodes report `false` throughout).
      syncing: syncing !== false && syncing !== null,
      network: networkName(id, opts.network),
      chainId: id,
    };
  }

  return {
    node: () => publicUrl(opts.urls[current] ?? ""),
    async connect() {
      const problems: string[] = [];
      let wrong: WrongNetworkError | null = null;
      for (let k = 0; k < clients.length; k++) {
        const i = (current + k) % clients.length;
        try {
          const { chainId, ...tip } = await tipOf(clients[i]!);
          if (chainId !== opts.network.chainId) {
            wrong = new WrongNetworkError(tip.network, expected, publicUrl(opts.urls[i]!));
            continue;
          }
          current = i;
          return { client: clients[i]!, url: opts.urls[i]!, tip };
        } catch (error) {
          problems.push(`${publicUrl(opts.urls[i]!)}: ${shortMessage(error)}`);
        }
      }
      if (wrong && problems.length === 0) throw wrong;
      throw new NodeError(`no ${opts.network.chain} node answered: ${problems.join("; ")}${wrong ? `; ${wrong.message}` : ""}`);
    },
  };
}

/** The network of a chain id as /healthz names it: the configured name when it is that one's id, else the id. */
function networkName(chainId: number, network: EvmNetwork): string {
  return chainId === network.chainId ? network.name : `chain id ${chainId}`;
}

/** viem's one-line message (its `shortMessage`), without the request dump of `message`. */
export function shortMessage(error: unknown): string {
  if (error && typeof error === "object" && "shortMessage" in error && typeof error.shortMessage === "string") return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}

/** JSON-RPC codes for "this node does not offer that method": -32601 method not found, -32004 not supported. */
export function isUnsupported(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === -32601 || code === -32004) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && /method not found|not supported|does not exist|not available/i.test(message)) return true;
  }
  return false;
}
