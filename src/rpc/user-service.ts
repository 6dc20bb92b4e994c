// user.v1.UserService: register merchants and store their watch-only keys.
// Thin: validate the request, call D1 or the user's account, map errors.

import type { ServiceImpl } from "@connectrpc/connect";
import { UserService } from "../../gen/user/v1/user_pb";
import { parsePrivateViewKey, parsePublicSpendKey } from "../chains/xmr/keys";
import { database } from "../db/client";
import { insertUser } from "../db/users";
import { Coin } from "../domain/coins";
import { Failures } from "../domain/errors";
import { parseUserId, type UserId } from "../domain/ids";
import { bytesToHex } from "@noble/hashes/utils.js";
import { invocation } from "./context";
import { guarded, reject, unwrap } from "./errors";
import type { Env } from "../env";

const account = (env: Env, userId: UserId) => env.USER_ACCOUNT.get(env.USER_ACCOUNT.idFromName(userId));

export const userService: ServiceImpl<typeof UserService> = {
  registerUser(req, ctx) {
    return guarded("RegisterUser", Failures.internal, async () => {
      const { env } = invocation(ctx);
      let userId: UserId;
      if (req.userId === undefined) userId = crypto.randomUUID() as UserId;
      else userId = parseUserId(req.userId) ?? reject(Failures.registerInvalidUserId);
      if (!(await insertUser(database(env.DB), userId, Date.now()))) reject(Failures.userAlreadyExists);
      return { userId };
    });
  },

  updateCryptoKeys(req, ctx) {
    return guarded("UpdateCryptoKeys", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      if (req.xmrReq === undefined) {
        // Nothing to store, but an unknown user is still an error.
        unwrap(await account(env, userId).readKeys(userId));
        return {};
      }
      const view = parsePrivateViewKey(req.xmrReq.privViewKey) ?? reject(Failures.invalidXmrViewKey);
      const spend = parsePublicSpendKey(req.xmrReq.pubSpendKey) ?? reject(Failures.invalidXmrSpendKey);
      const pubSpendKey = bytesToHex(spend);
      unwrap(
        await account(env, userId).updateKeys(userId, {
          coin: Coin.XMR,
          fingerprint: pubSpendKey,
          publicKeys: { pubSpendKey },
          secret: bytesToHex(view),
        }),
      );
      return {};
    });
  },

  getCryptoKeys(req, ctx) {
    return guarded("GetCryptoKeys", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const keys = unwrap(await account(env, userId).readKeys(userId));
      const xmr = keys[Coin.XMR];
      return {
        xmrKeys: xmr ? { privViewKey: xmr.secret ?? "", pubSpendKey: xmr.publicKeys.pubSpendKey ?? "" } : undefined,
      };
    });
  },
};
