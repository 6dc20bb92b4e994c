// user.v1.UserService: register merchants and store their watch-only keys.
// Thin: validate the request, call D1 or the user's account, map errors.

import type { ServiceImpl } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { UserService, type GetCryptoKeysResponseSchema } from "../../gen/user/v1/user_pb";
import { coinModules } from "../chains/registry";
import { database } from "../db/client";
import { insertUser, updateDisplayName, userExists } from "../db/users";
import { parseDisplayName } from "../domain/invoice-details";
import { Failures } from "../domain/errors";
import { parseUserId, type UserId } from "../domain/ids";
import { invocation } from "./context";
import { guarded, reject, unwrap } from "./errors";
import type { NewKeys } from "../durable/user-account";
import type { Env } from "../env";

const account = (env: Env, userId: UserId) => env.USER_ACCOUNT.get(env.USER_ACCOUNT.idFromName(userId));

export const userService: ServiceImpl<typeof UserService> = {
  registerUser(req, ctx) {
    return guarded("RegisterUser", Failures.internal, async () => {
      const { env } = invocation(ctx);
      let userId: UserId;
      if (req.userId === undefined) userId = crypto.randomUUID() as UserId;
      else userId = parseUserId(req.userId) ?? reject(Failures.registerInvalidUserId);
      const displayName = unwrap(parseDisplayName(req.displayName));
      if (!(await insertUser(database(env.DB), userId, displayName, Date.now()))) reject(Failures.userAlreadyExists);
      return { userId };
    });
  },

  updateUser(req, ctx) {
    return guarded("UpdateUser", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const db = database(env.DB);
      if (req.displayName === undefined) {
        if (!(await userExists(db, userId))) reject(Failures.unknownUser);
        return {};
      }
      // An empty name removes it.
      const displayName = unwrap(parseDisplayName(req.displayName));
      if (!(await updateDisplayName(db, userId, displayName))) reject(Failures.unknownUser);
      return {};
    });
  },

  updateCryptoKeys(req, ctx) {
    return guarded("UpdateCryptoKeys", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      // Every coin's keys in the request are judged before anything is stored.
      const updates: NewKeys[] = [];
      for (const module of coinModules()) {
        const found = module.keysIn(req, env);
        if (!found.given) continue;
        if ("failure" in found) reject(found.failure);
        updates.push({ coin: module.facts.coin, firstIndex: module.firstAddressIndex, ...found.keys });
      }
      // With no keys to store an unknown user is still an error.
      if (updates.length === 0) unwrap(await account(env, userId).readKeys(userId));
      else unwrap(await account(env, userId).updateKeys(userId, updates));
      return {};
    });
  },

  getCryptoKeys(req, ctx) {
    return guarded("GetCryptoKeys", Failures.internal, async () => {
      const { env } = invocation(ctx);
      const userId = parseUserId(req.userId) ?? reject(Failures.invalidUserId);
      const keys = unwrap(await account(env, userId).readKeys(userId));
      const response: MessageInitShape<typeof GetCryptoKeysResponseSchema> = {};
      for (const module of coinModules()) {
        const stored = keys[module.facts.coin];
        if (stored) Object.assign(response, module.keysOut(stored));
      }
      return response;
    });
  },
};
