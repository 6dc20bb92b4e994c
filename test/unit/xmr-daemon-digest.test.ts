// HTTP digest auth for monerod's --rpc-login: the RFCs' own MD5 examples, monerod's real challenge
// header, and the nonce-count bookkeeping of a session.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createDigestSession,
  digestAuthorization,
  parseDigestChallenges,
  pickDigestChallenge,
  type DigestChallenge,
} from "../../src/chains/xmr/digest-auth";

const field = (header: string, name: string) => new RegExp(`${name}="?([^",]*)"?`).exec(header)?.[1];
const md5Hex = (s: string) => createHash("md5").update(s).digest("hex");

// Exactly what monerod 0.18.0.0 sent (two WWW-authenticate fields), joined the way fetch's Headers.get joins them.
const MONEROD_401 =
  'Digest qop="auth",algorithm=MD5,realm="monero-rpc",nonce="wFKdJ/eUN14wkKwnbq9XTA==",stale=false, ' +
  'Digest qop="auth",algorithm=MD5-sess,realm="monero-rpc",nonce="wFKdJ/eUN14wkKwnbq9XTA==",stale=false';

describe("digestAuthorization", () => {
  it("matches the RFC 2617 section 3.5 example", () => {
    const challenge: DigestChallenge = {
      realm: "testrealm@host.com",
      nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
      algorithm: "MD5",
      qop: ["auth", "auth-int"],
      opaque: "5ccc069c403ebaf9f0171e9517f40e41",
      stale: false,
    };
    const header = digestAuthorization({
      challenge,
      credentials: { user: "Mufasa", pass: "Circle Of Life" },
      method: "GET",
      uri: "/dir/index.html",
      nc: 1,
      cnonce: "0a4f113b",
    });
    expect(field(header, "response")).toBe("6629fae49393a05397450978507c4ef1");
    expect(field(header, "nc")).toBe("00000001");
    expect(field(header, "opaque")).toBe("5ccc069c403ebaf9f0171e9517f40e41");
  });

  it("matches the RFC 7616 section 3.9.1 MD5 example", () => {
    const header = digestAuthorization({
      challenge: {
        realm: "http-auth@example.org",
        nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        algorithm: "MD5",
        qop: ["auth"],
        stale: false,
      },
      credentials: { user: "Mufasa", pass: "Circle of Life" },
      method: "GET",
      uri: "/dir/index.html",
      nc: 1,
      cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    });
    expect(field(header, "response")).toBe("8ca523f5e9506fed4657c9700eebdbec");
  });

  it("hashes MD5-sess as H(H(user:realm:pass):nonce:cnonce)", () => {
    const challenge: DigestChallenge = { realm: "monero-rpc", nonce: "n0nce", algorithm: "MD5-sess", qop: ["auth"], stale: false };
    const header = digestAuthorization({
      challenge,
      credentials: { user: "u", pass: "p" },
      method: "POST",
      uri: "/json_rpc",
      nc: 0x1a,
      cnonce: "c",
    });
    const ha1 = md5Hex(`${md5Hex("u:monero-rpc:p")}:n0nce:c`);
    const expected = md5Hex(`${ha1}:n0nce:0000001a:c:auth:${md5Hex("POST:/json_rpc")}`);
    expect(field(header, "response")).toBe(expected);
    expect(field(header, "algorithm")).toBe("MD5-sess");
  });
});

describe("parseDigestChallenges", () => {
  it("splits monerod's two joined challenges and prefers plain MD5", () => {
    const challenges = parseDigestChallenges(MONEROD_401);
    expect(challenges.map((c) => c.algorithm)).toEqual(["MD5", "MD5-sess"]);
    expect(challenges[0]).toEqual({
      realm: "monero-rpc",
      nonce: "wFKdJ/eUN14wkKwnbq9XTA==",
      algorithm: "MD5",
      qop: ["auth"],
      stale: false,
    });
    expect(pickDigestChallenge(challenges)?.algorithm).toBe("MD5");
  });

  it("reads stale=true, quoted escapes, and skips other schemes and unsupported algorithms", () => {
    const challenges = parseDigestChallenges(
      'Basic realm="x", Digest realm="a \\"b\\"", nonce="n", qop="auth,auth-int", stale=TRUE, Digest realm="r", nonce="m", algorithm=SHA-256',
    );
    expect(challenges).toEqual([{ realm: 'a "b"', nonce: "n", algorithm: "MD5", qop: ["auth", "auth-int"], stale: true }]);
  });

  it("has no usable challenge without qop=auth", () => {
    expect(pickDigestChallenge(parseDigestChallenges('Digest realm="r", nonce="n"'))).toBeNull();
    expect(parseDigestChallenges("")).toEqual([]);
  });
});

describe("createDigestSession", () => {
  it("sends nothing before a challenge, then counts requests per nonce and restarts on a new one", () => {
    const session = createDigestSession({ user: "u", pass: "p" });
    expect(session.authorize("POST", "/json_rpc")).toBeUndefined();
    expect(session.challenge(null)).toBeNull();
    expect(session.challenge(MONEROD_401)?.stale).toBe(false);
    expect(field(session.authorize("POST", "/json_rpc")!, "nc")).toBe("00000001");
    expect(field(session.authorize("POST", "/json_rpc")!, "nc")).toBe("00000002");
    session.challenge(MONEROD_401.replaceAll("wFKd", "zzzz").replaceAll("stale=false", "stale=true"));
    const next = session.authorize("POST", "/get_transactions")!;
    expect(field(next, "nc")).toBe("00000001");
    expect(field(next, "nonce")).toBe("zzzzJ/eUN14wkKwnbq9XTA==");
    expect(field(next, "uri")).toBe("/get_transactions");
  });
});
