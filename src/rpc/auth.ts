// Bearer-token authentication for every RPC, in Connect's request gate: it runs before the body is
// read, and its refusal is encoded in whatever protocol the client speaks. No token configured =
// everything refused.

import type { HandlerContext } from "@connectrpc/connect";
import { Failures } from "../domain/errors";
import { kInvocation } from "./context";
import { reject } from "./errors";

export async function requireBearerToken(ctx: HandlerContext): Promise<void> {
  const expected = ctx.values.get(kInvocation)?.env.API_TOKEN;
  const header = ctx.requestHeader.get("authorization") ?? "";
  const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  if (!expected || !presented || !(await sameSecret(presented, expected))) reject(Failures.unauthenticated);
}

/** Constant-time comparison: both sides hashed first, so neither length nor content leaks through timing. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [x, y] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  const xa = new Uint8Array(x);
  const ya = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < xa.length; i++) diff |= xa[i]! ^ ya[i]!;
  return diff === 0;
}
