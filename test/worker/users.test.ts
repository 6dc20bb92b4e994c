// UserService over every protocol the API serves: each row of the error table, and the happy paths.
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { clients, failure, merchant, PROTOCOLS, randomXmrKeys } from "./support";

const L = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"; // the group order l, little-endian
const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000", // identity
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
  "0000000000000000000000000000000000000000000000000000000000000000", // order 4
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
];

describe.each(PROTOCOLS)("UserService over %s", (protocol) => {
  const c = clients(protocol);

  describe("RegisterUser", () => {
    it("creates a UUID v4 when no userId is given", async () => {
      const { userId } = await c.users.registerUser({});
      expect(userId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it("keeps a given UUID, stored in canonical lowercase", async () => {
      const id = crypto.randomUUID().toUpperCase();
      expect((await c.users.registerUser({ userId: id })).userId).toBe(id.toLowerCase());
    });

    it.each(["", "not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])("refuses userId %j", async (userId) => {
      expect(await failure(c.users.registerUser({ userId }))).toEqual({ code: Code.InvalidArgument, message: "invalid userId (uuid)" });
    });

    it("refuses an existing user, whatever the case of the id", async () => {
      const id = crypto.randomUUID();
      await c.users.registerUser({ userId: id });
      expect(await failure(c.users.registerUser({ userId: id.toUpperCase() }))).toEqual({ code: Code.AlreadyExists, message: "user already exists" });
    });
  });

  describe("UpdateCryptoKeys", () => {
    it("stores XMR keys that GetCryptoKeys returns", async () => {
      const { userId } = await c.users.registerUser({});
      const keys = randomXmrKeys();
      await c.users.updateCryptoKeys({ userId, xmrReq: { privViewKey: keys.private_view_key.toUpperCase(), pubSpendKey: keys.public_spend_key } });
      const got = await c.users.getCryptoKeys({ userId });
      expect(got.xmrKeys).toMatchObject({ privViewKey: keys.private_view_key, pubSpendKey: keys.public_spend_key });
    });

    it("refuses a userId that is not a UUID", async () => {
      expect(await failure(c.users.updateCryptoKeys({ userId: "nope" }))).toEqual({ code: Code.InvalidArgument, message: "invalid userId" });
    });

    it("refuses an unknown user", async () => {
      const keys = randomXmrKeys();
      const req = { userId: crypto.randomUUID(), xmrReq: { privViewKey: keys.private_view_key, pubSpendKey: keys.public_spend_key } };
      expect(await failure(c.users.updateCryptoKeys(req))).toEqual({ code: Code.InvalidArgument, message: "Invalid userId" });
    });

    const badViewKeys = [
      ["empty", ""],
      ["too short", "ab".repeat(31)],
      ["too long", "ab".repeat(33)],
      ["not hex", "zz".repeat(32)],
      ["zero", "00".repeat(32)],
      ["equal to l (not canonical)", L],
      ["above l", "ff".repeat(32)],
    ];
    it.each(badViewKeys)("refuses a private view key that is %s", async (_why, privViewKey) => {
      const { userId } = await c.users.registerUser({});
      const req = { userId, xmrReq: { privViewKey, pubSpendKey: randomXmrKeys().public_spend_key } };
      expect(await failure(c.users.updateCryptoKeys(req))).toEqual({ code: Code.InvalidArgument, message: "invalid XMR private view key" });
    });

    const badSpendKeys = [
      ["empty", ""],
      ["too short", "ab".repeat(31)],
      ["not hex", "zz".repeat(32)],
      ["not on the curve", "02" + "00".repeat(31)],
      ...SMALL_ORDER.map((k, i) => [`of small order (#${i})`, k]),
    ];
    it.each(badSpendKeys)("refuses a public spend key that is %s", async (_why, pubSpendKey) => {
      const { userId } = await c.users.registerUser({});
      const req = { userId, xmrReq: { privViewKey: randomXmrKeys().private_view_key, pubSpendKey } };
      expect(await failure(c.users.updateCryptoKeys(req))).toEqual({ code: Code.InvalidArgument, message: "invalid XMR public spend key" });
    });

    it("refuses keys another user already registered", async () => {
      const keys = randomXmrKeys();
      const xmrReq = { privViewKey: keys.private_view_key, pubSpendKey: keys.public_spend_key };
      const first = await c.users.registerUser({});
      await c.users.updateCryptoKeys({ userId: first.userId, xmrReq });
      const second = await c.users.registerUser({});
      expect(await failure(c.users.updateCryptoKeys({ userId: second.userId, xmrReq }))).toEqual({
        code: Code.AlreadyExists,
        message: "crypto keys are already used by another user",
      });
      // The owner may send its own keys again.
      await c.users.updateCryptoKeys({ userId: first.userId, xmrReq });
    });
  });

  describe("GetCryptoKeys (deprecated)", () => {
    it("answers no keys for a user without any", async () => {
      const { userId } = await c.users.registerUser({});
      expect((await c.users.getCryptoKeys({ userId })).xmrKeys).toBeUndefined();
    });
    it("refuses a userId that is not a UUID", async () => {
      expect(await failure(c.users.getCryptoKeys({ userId: "x" }))).toEqual({ code: Code.InvalidArgument, message: "invalid userId" });
    });
    it("refuses an unknown user", async () => {
      expect(await failure(c.users.getCryptoKeys({ userId: crypto.randomUUID() }))).toEqual({ code: Code.InvalidArgument, message: "Invalid userId" });
    });
  });
});

describe("keys at rest", () => {
  it("stores the private view key sealed, never in clear", async () => {
    const { env } = await import("cloudflare:workers");
    const c = clients("connect-json");
    const { userId } = await c.users.registerUser({});
    const keys = randomXmrKeys();
    await c.users.updateCryptoKeys({ userId, xmrReq: { privViewKey: keys.private_view_key, pubSpendKey: keys.public_spend_key } });
    const row = await (env as unknown as { DB: D1Database }).DB.prepare("SELECT sealed_secret, public_keys FROM key_sets WHERE user_id = ?").bind(userId).first<{ sealed_secret: string; public_keys: string }>();
    expect(row?.sealed_secret).toMatch(/^v1:/);
    expect(row?.sealed_secret).not.toContain(keys.private_view_key);
    expect(row?.public_keys).toContain(keys.public_spend_key);
  });

  it("accepts the vector merchant's keys (Monero's own wallet) and keeps exactly them", async () => {
    const { env } = await import("cloudflare:workers");
    const c = clients("connect-json");
    const { userId } = await c.users.registerUser({});
    await c.users.updateCryptoKeys({ userId, xmrReq: { privViewKey: merchant.private_view_key, pubSpendKey: merchant.public_spend_key } });
    expect((await c.users.getCryptoKeys({ userId })).xmrKeys).toMatchObject({ privViewKey: merchant.private_view_key, pubSpendKey: merchant.public_spend_key });
    const row = await (env as unknown as { DB: D1Database }).DB.prepare("SELECT fingerprint, active, next_index FROM key_sets WHERE user_id = ?").bind(userId).first();
    expect(row).toEqual({ fingerprint: merchant.public_spend_key, active: 1, next_index: 1 });
  });
});
