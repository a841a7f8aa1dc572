import { listUsers } from "../../domain/users.ts";
import { isSnowflake } from "../../snowflake.ts";
import {
  type AdminCommand,
  AdminInputError,
  integerOption,
  parseArguments,
  table,
  withDatabase,
} from "../command.ts";

export const usersList: AdminCommand = {
  summary: "list accounts (oldest first): id, username, email, created",
  usage: "[--limit <n>] [--after <id>] [--bots]",
  run: async (args) => {
    const { values } = parseArguments(
      "users:list",
      args,
      { limit: { type: "string" }, after: { type: "string" }, bots: { type: "boolean" } },
      { min: 0, max: 0, names: "" },
    );
    const limit = integerOption("users:list", "limit", values.limit, 100, 10_000);
    if (values.after !== undefined && !isSnowflake(values.after))
      throw new AdminInputError(`users:list: --after must be a user id (got ${values.after})`);
    const users = await withDatabase((db) =>
      listUsers(db, { limit, afterId: values.after, includeBots: values.bots ?? false }),
    );
    if (users.length === 0) return "no users";
    return table(
      ["id", "username", "email", "created"],
      users.map((user) => [
        user.id,
        `${user.username}#${user.discriminator}${user.bot ? " (bot)" : ""}`,
        user.email ?? "",
        new Date(user.created_at).toISOString(),
      ]),
    );
  },
};
