// What a Connect handler needs from the Worker invocation, passed through Connect's context values.

import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Env } from "../env";

export interface Invocation {
  env: Env;
  /** The request's origin (`https://host`): the checkout URL's default base. */
  origin: string;
  waitUntil(promise: Promise<unknown>): void;
}

export const kInvocation = createContextKey<Invocation | undefined>(undefined);

export function invocation(ctx: HandlerContext): Invocation {
  const inv = ctx.values.get(kInvocation);
  if (!inv) throw new Error("handler called without a Worker invocation");
  return inv;
}
