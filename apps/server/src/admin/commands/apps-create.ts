import { systemClock } from "../../clock.ts";
import { createApplication } from "../../domain/applications.ts";
import { findUserByIdOrLogin } from "../../domain/users.ts";
import { loadServerKeys } from "../../secret-key.ts";
import { createSnowflakeGenerator } from "../../snowflake.ts";
import { createApplicationInput } from "../../trpc/applications.ts";
import {
  ADMIN_WORKER_ID,
  type AdminCommand,
  AdminInputError,
  parseArguments,
  withDatabase,
} from "../command.ts";

const nextId = createSnowflakeGenerator(ADMIN_WORKER_ID);

export const appsCreate: AdminCommand = {
  summary: "create an application for a user; prints its client secret and bot token once",
  usage: "--owner <user> --name <name> [--redirect <uri>]… [--description <text>]",
  run: async (args) => {
    const { values } = parseArguments(
      "apps:create",
      args,
      {
        owner: { type: "string" },
        name: { type: "string" },
        redirect: { type: "string", multiple: true },
        description: { type: "string" },
      },
      { min: 0, max: 0, names: "" },
    );
    if (values.owner === undefined) throw new AdminInputError("apps:create: --owner <user> is required");
    if (values.name === undefined) throw new AdminInputError("apps:create: --name <name> is required");
    // The same rules as applications.create (SPEC §5): name, description, redirect URIs.
    const input = createApplicationInput.safeParse({
      name: values.name,
      description: values.description ?? null,
      redirect_uris: values.redirect ?? [],
    });
    if (!input.success)
      throw new AdminInputError(
        `apps:create: ${input.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
      );
    const owner = values.owner;
    return withDatabase(async (db, config) => {
      const user = await findUserByIdOrLogin(db, owner);
      if (!user || user.bot)
        throw new AdminInputError(`apps:create: no user "${owner}" (give an id, username or email)`);
      const { application, clientSecret, botToken } = await createApplication(db, {
        id: nextId(),
        botUserId: nextId(),
        ownerId: user.id,
        now: systemClock.now(),
        maxApplications: config.maxApplications,
        fields: {
          name: input.data.name,
          description: input.data.description,
          redirectUris: input.data.redirect_uris,
        },
        keys: await loadServerKeys(config),
      });
      return [
        `created "${application.name}" for ${user.username}`,
        `  client_id      ${application.id}`,
        `  client_secret  ${clientSecret}`,
        `  bot_token      ${botToken}`,
        `  redirect_uris  ${application.redirect_uris.join(" ") || "(none)"}`,
        "The secret and the bot token are shown only this once; only their hashes are stored.",
      ].join("\n");
    });
  },
};
