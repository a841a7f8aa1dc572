import { listAllApplications } from "../../domain/applications.ts";
import { findUserByIdOrLogin } from "../../domain/users.ts";
import {
  type AdminCommand,
  AdminInputError,
  integerOption,
  parseArguments,
  table,
  withDatabase,
} from "../command.ts";

export const appsList: AdminCommand = {
  summary: "list applications (oldest first): client id, name, owner, redirect URIs",
  usage: "[--owner <user>] [--limit <n>]",
  run: async (args) => {
    const { values } = parseArguments(
      "apps:list",
      args,
      { owner: { type: "string" }, limit: { type: "string" } },
      { min: 0, max: 0, names: "" },
    );
    const limit = integerOption("apps:list", "limit", values.limit, 100, 10_000);
    const owner = values.owner;
    const applications = await withDatabase(async (db) => {
      let ownerId: string | undefined;
      if (owner !== undefined) {
        const user = await findUserByIdOrLogin(db, owner);
        if (!user) throw new AdminInputError(`apps:list: no user "${owner}" (give an id, username or email)`);
        ownerId = user.id;
      }
      return listAllApplications(db, { limit, ownerId });
    });
    if (applications.length === 0) return "no applications";
    return table(
      ["client_id", "name", "owner", "redirect_uris"],
      applications.map((app) => [app.id, app.name, app.owner.username, app.redirect_uris.join(" ")]),
    );
  },
};
