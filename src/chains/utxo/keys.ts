// A merchant's watch-only account key for one UTXO network, parsed once from what a wallet exports:
// a bare extended public key (xpub/ypub/zpub, tpub/upub/vpub, Ltub/Mtub/ttub) or an output descriptor.

import { HDKey } from "@scure/bip32";
import { openExtendedKey } from "../extended-key";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes } from "@noble/hashes/utils.js";
import { formatReceiveDescriptor, parseReceiveDescriptor, type KeyOrigin } from "./descriptor";
import { allUtxoNetworks, plainKeyVersion, type ScriptType, type UtxoCoin, type UtxoNetwork } from "./networks";

export interface AccountKey {
  readonly network: UtxoNetwork;
  readonly script: ScriptType;
  /** The account node (public only); invoices pay to its external chain `/0/i`. */
  readonly account: HDKey;
  /**
   * Identity of the key for "one key, one user": hex SHA-256 of chain code ‖ public key, the two things
   * every derived address depends on. The same key written as zpub, xpub or inside a descriptor gives the
   * same fingerprint, whatever its script; scope it by coin when comparing.
   */
  readonly fingerprint: string;
  /** The canonical receive descriptor, e.g. `wpkh([73c5da0a/84'/0'/0']xpub…/0/*)#…`; Core's deriveaddresses takes it. */
  readonly descriptor: string;
  readonly origin: KeyOrigin | null;
}

export type KeyProblem =
  /** Neither a base58check extended key nor a descriptor. */
  | "malformed"
  /** A base58 key whose 4-byte checksum does not match. */
  | "bad-checksum"
  | "bad-descriptor-checksum"
  /** An output descriptor of another kind (multisig, wsh, change chain /1/*, hardened steps, …). */
  | "unsupported-descriptor"
  /** xprv, zprv, tprv, Ltpv, …: a watch-only service must never be handed one. */
  | "private-key"
  /** A version of another network or coin (tpub on mainnet, a Bitcoin key on Litecoin's testnet, …). */
  | "wrong-network"
  /** A bare key that is not at account depth 3 (m/purpose'/coin'/account'). */
  | "wrong-depth"
  /** Well-formed bytes that are not a valid BIP32 public node (not a curve point, depth 0 with a parent, …). */
  | "invalid-key";

/** The one message every KeyProblem maps to at the API (Connect InvalidArgument). */
export function invalidMasterKeyMessage(coin: UtxoCoin): string {
  return `invalid ${coin} master public key`;
}

// Longer than any single-key descriptor with a deep origin; bounds the work spent on garbage.
const MAX_INPUT_LENGTH = 512;
const ACCOUNT_DEPTH = 3;

/** Every version byte any supported network uses, private ones included, to tell why a key is refused. */
const KNOWN_VERSIONS: ReadonlyMap<number, "public" | "private"> = new Map(
  allUtxoNetworks().flatMap((n) =>
    n.extendedKeys.flatMap((v) => [
      [v.public, "public"],
      [v.private, "private"],
    ] as const),
  ),
);

/** Parses a merchant's account key for `network`; every refusal is a typed problem, nothing throws. */
export function parseAccountKey(text: string, network: UtxoNetwork): { ok: true; key: AccountKey } | { ok: false; problem: KeyProblem } {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_INPUT_LENGTH) return { ok: false, problem: "malformed" };
  if (text.includes("(")) return parseDescriptorKey(text, network);

  const node = decodeExtendedKey(text, network);
  if (!node.ok) return node;
  if (node.key.depth !== ACCOUNT_DEPTH) return { ok: false, problem: "wrong-depth" };
  return { ok: true, key: accountKey(network, node.script, node.key, null) };
}

function parseDescriptorKey(text: string, network: UtxoNetwork): { ok: true; key: AccountKey } | { ok: false; problem: KeyProblem } {
  const parsed = parseReceiveDescriptor(text);
  if (!parsed.ok) {
    const problem = parsed.problem === "bad-checksum" ? "bad-descriptor-checksum" : parsed.problem === "unsupported" ? "unsupported-descriptor" : "malformed";
    return { ok: false, problem };
  }
  const { script, origin, key } = parsed.descriptor;
  // In a descriptor the function names the script, so the key's own version only has to be this network's.
  const node = decodeExtendedKey(key, network);
  if (!node.ok) return node;
  return { ok: true, key: accountKey(network, script, node.key, origin) };
}

function accountKey(network: UtxoNetwork, script: ScriptType, account: HDKey, origin: KeyOrigin | null): AccountKey {
  return {
    network,
    script,
    account,
    fingerprint: bytesToHex(sha256(concatBytes(account.chainCode!, account.publicKey!))),
    descriptor: formatReceiveDescriptor(script, origin, account.publicExtendedKey),
    origin,
  };
}

/**
 * A base58check BIP32 public node with one of `network`'s versions, re-versioned to the plain xpub/tpub
 * so it serialises the way descriptors and Core expect. `script` is what the version says (SLIP-132).
 */
function decodeExtendedKey(text: string, network: UtxoNetwork): { ok: true; key: HDKey; script: ScriptType } | { ok: false; problem: KeyProblem } {
  const opened = openExtendedKey(text);
  if (!opened.ok) return opened;
  const { payload } = opened;

  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const version = view.getUint32(0, false);
  // BIP32 marks a private key by a 0x00 byte before the 32-byte secret, whatever the version claims.
  if (KNOWN_VERSIONS.get(version) === "private" || payload[45] === 0) return { ok: false, problem: "private-key" };
  const own = network.extendedKeys.find((v) => v.public === version);
  if (!own) return { ok: false, problem: KNOWN_VERSIONS.has(version) ? "wrong-network" : "malformed" };

  const plain = plainKeyVersion(network);
  try {
    const key = new HDKey({
      versions: { public: plain.public, private: plain.private },
      depth: payload[4]!,
      parentFingerprint: view.getUint32(5, false),
      index: view.getUint32(9, false),
      chainCode: payload.slice(13, 45),
      publicKey: payload.slice(45, 78),
    });
    return { ok: true, key, script: own.script };
  } catch {
    return { ok: false, problem: "invalid-key" };
  }
}
