// Bitcoin and Litecoin keys through UpdateCryptoKeys / GetCryptoKeys (mainnet, as configured here):
// account-level public keys in their SLIP-132 and plain forms are stored; everything else is refused
// with the documented message, in every protocol. Keys are the official BIP84/BIP32 vectors.
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import vectors from "../vectors/utxo.json";
import { clients, failure, PROTOCOLS } from "./support";

const bip84 = vectors.official.bip84 as unknown as { account: { xpub: string; xpriv: string } };
const bip32Master = (vectors.official.bip32 as unknown as { chains: { chain: string; ext_pub: string }[] }[])[0]!.chains[0]!.ext_pub;
type Derivation = { chain: string; script_type: string; extended_key: string };
const ltcMainnet = (vectors.litecoin_core_derivations as unknown as Derivation[]).find((d) => d.chain === "main" && d.script_type === "p2wpkh")!.extended_key;
const ltcRegtest = (vectors.litecoin_core_derivations as unknown as Derivation[]).find((d) => d.chain === "regtest" && d.script_type === "p2wpkh")!.extended_key;

const INVALID_BTC = { code: Code.InvalidArgument, message: "invalid BTC master public key" };
const INVALID_LTC = { code: Code.InvalidArgument, message: "invalid LTC master public key" };
/** The same text with its last base58 character changed: the checksum no longer holds. */
const badChecksum = (key: string) => key.slice(0, -1) + (key.endsWith("1") ? "2" : "1");

describe.each(PROTOCOLS)("BTC and LTC keys over %s", (protocol) => {
  const c = clients(protocol);
  const newUser = async () => (await c.users.registerUser({})).userId;

  it.each([
    ["a private key (zprv)", bip84.account.xpriv],
    ["a testnet key on mainnet", ltcRegtest],
    ["a bad checksum", badChecksum(bip84.account.xpub)],
    ["malformed text", "zpub-not-a-key"],
    ["a master key (depth 0, not an account key)", bip32Master],
    ["an empty key", ""],
  ])("refuses %s with InvalidArgument \"invalid BTC master public key\"", async (_what, masterPubKey) => {
    expect(await failure(c.users.updateCryptoKeys({ userId: await newUser(), btcReq: { masterPubKey } }))).toEqual(INVALID_BTC);
  });

  it("refuses a Bitcoin testnet key for LTC with \"invalid LTC master public key\"", async () => {
    expect(await failure(c.users.updateCryptoKeys({ userId: await newUser(), ltcReq: { masterPubKey: ltcRegtest } }))).toEqual(INVALID_LTC);
  });

});

describe("BTC and LTC key sets", () => {
  const c = clients("connect-json");
  const newUser = async () => (await c.users.registerUser({})).userId;

  it("stores a zpub and an LTC account key side by side, and returns each as given", async () => {
    const userId = await newUser();
    await c.users.updateCryptoKeys({ userId, btcReq: { masterPubKey: bip84.account.xpub }, ltcReq: { masterPubKey: ltcMainnet } });
    const keys = await c.users.getCryptoKeys({ userId });
    expect(keys.btcKeys?.masterPubKey).toBe(bip84.account.xpub);
    expect(keys.ltcKeys?.masterPubKey).toBe(ltcMainnet);
    expect(keys.xmrKeys).toBeUndefined();
  });

  it("refuses keys another user already registered, with AlreadyExists", async () => {
    const first = await newUser();
    const key = (vectors.litecoin_core_derivations as unknown as Derivation[]).find((d) => d.chain === "main" && d.script_type === "p2pkh")!.extended_key;
    await c.users.updateCryptoKeys({ userId: first, ltcReq: { masterPubKey: key } });
    expect(await failure(c.users.updateCryptoKeys({ userId: await newUser(), ltcReq: { masterPubKey: key } }))).toEqual({
      code: Code.AlreadyExists,
      message: "crypto keys are already used by another user",
    });
  });
});
