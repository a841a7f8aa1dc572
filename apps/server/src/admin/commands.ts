import type { AdminCommand } from "./command.ts";
import { appsCreate } from "./commands/apps-create.ts";
import { appsList } from "./commands/apps-list.ts";
import { dbMigrate } from "./commands/db-migrate.ts";
import { keysRotate } from "./commands/keys-rotate.ts";
import { usersList } from "./commands/users-list.ts";
import { usersRevokeGrants } from "./commands/users-revoke-grants.ts";

/** The operator commands; `bun run admin` (src/admin.ts) dispatches to them. */
export const operatorCommands: Record<string, AdminCommand> = {
  "users:list": usersList,
  "users:revoke-grants": usersRevokeGrants,
  "apps:create": appsCreate,
  "apps:list": appsList,
  "db:migrate": dbMigrate,
  "keys:rotate": keysRotate,
};
