// TON keys through UpdateCryptoKeys / GetCryptoKeys: the merchant's ed25519 public key (hex or
// base64) is stored in canonical hex and returned; anything else is refused with the documented
// message, in every protocol.
import { Code } from "@connectrpc/connect";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { clients, failure, PROTOCOLS } from "./support";

const INVALID_TON = { code: Code.InvalidArgument, message: "invalid TON public key" };
const randomKey = () => ed25519.getPublicKey(ed25519.utils.randomSecretKey());
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

describe.each(PROTOCOLS)("TON keys over %s", (protocol) => {
  const c = clients(protocol);
  const newUser = async () => (await c.users.registerUser({})).userId;

  it.each([
    ["a 64-byte secret key", () => bytesToHex(new Uint8Array(64).fill(3))],
    ["31 bytes of hex", () => bytesToHex(randomKey()).slice(2)],
    ["a point that is not on the curve", () => "02".padEnd(64, "0")],
    ["the identity point (small order)", () => "01".padEnd(64, "0")],
    ["a seed phrase", () => "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"],
    ["an empty key", () => ""],
  ])('refuses %s with InvalidArgument "invalid TON public key"', async (_what, key) => {
    expect(await failure(c.users.updateCryptoKeys({ userId: await newUser(), tonReq: { publicKey: key() } }))).toEqual(INVALID_TON);
  });

  it("stores a base64 public key as hex, and GetCryptoKeys returns it", async () => {
    const userId = await newUser();
    const key = randomKey();
    await c.users.updateCryptoKeys({ userId, tonReq: { publicKey: base64(key) } });
    expect((await c.users.getCryptoKeys({ userId })).tonKeys?.publicKey).toBe(bytesToHex(key));
  });
});

describe("TON key sets", () => {
  const c = clients("connect-json");
  const newUser = async () => (await c.users.registerUser({})).userId;

  it("refuses a key another user registered, in whatever spelling, with AlreadyExists", async () => {
    const key = randomKey();
    await c.users.updateCryptoKeys({ userId: await newUser(), tonReq: { publicKey: bytesToHex(key).toUpperCase() } });
    expect(await failure(c.users.updateCryptoKeys({ userId: await newUser(), tonReq: { publicKey: base64(key) } }))).toEqual({
      code: Code.AlreadyExists,
      message: "crypto keys are already used by another user",
    });
  });

  it("answers FailedPrecondition for TON invoices while no toncenter API is configured", async () => {
    const userId = await newUser();
    await c.users.updateCryptoKeys({ userId, tonReq: { publicKey: bytesToHex(randomKey()) } });
    expect(await failure(c.invoices.createInvoice({ userId, coin: CoinType.TON, amount: 1, timeout: 600n, confirmations: 1 }))).toEqual({
      code: Code.FailedPrecondition,
      message: "TON is not enabled on this server",
    });
  });
});
