import { systemClock } from "../../clock.ts";
import { revokeAllAuthorizations } from "../../domain/authorizations.ts";
import { invalidateUserSessions } from "../../domain/sessions.ts";
import { findUserByIdOrLogin } from "../../domain/users.ts";
import { createSnowflakeGenerator } from "../../snowflake.ts";
import {
  ADMIN_WORKER_ID,
  type AdminCommand,
  AdminInputError,
  parseArguments,
  withDatabase,
} from "../command.ts";

const nextId = createSnowflakeGenerator(ADMIN_WORKER_ID);

export const usersRevokeGrants: AdminCommand = {
  summary:
    "revoke every token and authorization of a user and sign them out everywhere (takes effect at once)",
  usage: "<user id, username or email>",
  run: async (args) => {
    const { positionals } = parseArguments(
      "users:revoke-grants",
      args,
      {},
      { min: 1, max: 1, names: "a user" },
    );
    const named = positionals[0] ?? "";
    return withDatabase(async (db) => {
      const user = await findUserByIdOrLogin(db, named);
      if (!user)
        throw new AdminInputError(`users:revoke-grants: no user "${named}" (give an id, username or email)`);
      const { revokedFamilies, forgottenConsents } = await revokeAllAuthorizations(db, {
        userId: user.id,
        now: systemClock.now(),
        nextId,
      });
      const sessions = await invalidateUserSessions(db, user.id);
      return `${user.username} (${user.id}): revoked ${revokedFamilies} token ${revokedFamilies === 1 ? "family" : "families"}, forgot ${forgottenConsents} ${forgottenConsents === 1 ? "authorization" : "authorizations"}, ended ${sessions} sign-in ${sessions === 1 ? "session" : "sessions"}`;
    });
  },
};
