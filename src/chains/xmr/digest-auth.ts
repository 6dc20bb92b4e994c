// HTTP Digest access authentication (RFC 7616 / RFC 2617, qop="auth", MD5 and MD5-sess) as monerod
// speaks it with `--rpc-login user:pass`: challenge parsing, the response hash, and a per-endpoint session.
import { md5 } from "@noble/hashes/legacy.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: "MD5" | "MD5-sess";
  qop: string[];
  opaque?: string;
  stale: boolean;
}

export interface DigestCredentials {
  user: string;
  pass: string;
}

// Headers.get() joins repeated WWW-Authenticate fields with ", ", and monerod sends two (MD5 and
// MD5-sess), so a value may hold several challenges: `Digest a=1,b="x", Digest a=2`.
export function parseDigestChallenges(header: string): DigestChallenge[] {
  const challenges: DigestChallenge[] = [];
  let params: Map<string, string> | null = null;
  let scheme = "";
  const flush = () => {
    if (params && scheme.toLowerCase() === "digest") {
      const challenge = toChallenge(params);
      if (challenge) challenges.push(challenge);
    }
  };
  let i = 0;
  const skip = (chars: string) => {
    while (i < header.length && chars.includes(header[i]!)) i++;
  };
  while (i < header.length) {
    skip(" \t,");
    const tokenMatch = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(header.slice(i));
    if (!tokenMatch) break;
    const token = tokenMatch[0];
    i += token.length;
    skip(" \t");
    if (header[i] !== "=") {
      // A bare token starts a new challenge (auth-scheme).
      flush();
      scheme = token;
      params = new Map();
      continue;
    }
    i++;
    skip(" \t");
    let value: string;
    if (header[i] === '"') {
      i++;
      value = "";
      while (i < header.length && header[i] !== '"') {
        if (header[i] === "\\" && i + 1 < header.length) i++;
        value += header[i];
        i++;
      }
      i++;
    } else {
      const valueMatch = /^[^,\s]*/.exec(header.slice(i));
      value = valueMatch ? valueMatch[0] : "";
      i += value.length;
    }
    params?.set(token.toLowerCase(), value);
  }
  flush();
  return challenges;
}

function toChallenge(params: Map<string, string>): DigestChallenge | null {
  const realm = params.get("realm");
  const nonce = params.get("nonce");
  const algorithmRaw = (params.get("algorithm") ?? "MD5").toUpperCase();
  if (realm === undefined || nonce === undefined) return null;
  if (algorithmRaw !== "MD5" && algorithmRaw !== "MD5-SESS") return null;
  const opaque = params.get("opaque");
  return {
    realm,
    nonce,
    algorithm: algorithmRaw === "MD5" ? "MD5" : "MD5-sess",
    qop: (params.get("qop") ?? "").split(",").map((q) => q.trim().toLowerCase()).filter(Boolean),
    ...(opaque === undefined ? {} : { opaque }),
    stale: (params.get("stale") ?? "").toLowerCase() === "true",
  };
}

// Only qop="auth" is answered: the legacy RFC 2069 form has no replay counter and auth-int buys nothing here.
export function pickDigestChallenge(challenges: DigestChallenge[]): DigestChallenge | null {
  const usable = challenges.filter((c) => c.qop.includes("auth"));
  return usable.find((c) => c.algorithm === "MD5") ?? usable[0] ?? null;
}

const md5Hex = (s: string): string => bytesToHex(md5(utf8ToBytes(s)));

export function digestAuthorization(args: {
  challenge: DigestChallenge;
  credentials: DigestCredentials;
  method: string;
  uri: string;
  nc: number;
  cnonce: string;
}): string {
  const { challenge, credentials, method, uri, cnonce } = args;
  const nc = args.nc.toString(16).padStart(8, "0");
  let ha1 = md5Hex(`${credentials.user}:${challenge.realm}:${credentials.pass}`);
  if (challenge.algorithm === "MD5-sess") ha1 = md5Hex(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = md5Hex(`${method}:${uri}`);
  const response = md5Hex(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  const quote = (s: string) => `"${s.replace(/["\\]/g, "\\$&")}"`;
  const fields = [
    `username=${quote(credentials.user)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${challenge.algorithm}`,
    `qop=auth`,
    `nc=${nc}`,
    `cnonce=${quote(cnonce)}`,
    `response=${quote(response)}`,
  ];
  if (challenge.opaque !== undefined) fields.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${fields.join(", ")}`;
}

/**
 * One endpoint's digest state. monerod keeps the nonce and the expected nonce count per TCP
 * connection and answers `stale=true` when either is off, so the client re-authenticates on
 * every 401 and treats only a non-stale 401 to an authenticated request as bad credentials.
 */
export interface DigestSession {
  /** Authorization header for the next request, or undefined before the first challenge. */
  authorize(method: string, uri: string): string | undefined;
  /** Takes a 401's WWW-Authenticate value; null when it holds no usable challenge. */
  challenge(header: string | null): DigestChallenge | null;
}

export function createDigestSession(credentials: DigestCredentials): DigestSession {
  let current: DigestChallenge | null = null;
  let nc = 0;
  return {
    authorize(method, uri) {
      if (!current) return undefined;
      nc += 1;
      return digestAuthorization({ challenge: current, credentials, method, uri, nc, cnonce: randomCnonce() });
    },
    challenge(header) {
      const picked = header ? pickDigestChallenge(parseDigestChallenges(header)) : null;
      if (!picked) return null;
      current = picked;
      nc = 0;
      return picked;
    },
  };
}

function randomCnonce(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
}
