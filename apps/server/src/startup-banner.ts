import { resolve } from "node:path";
import type { Config } from "./config.ts";
import { postgresTarget } from "./db/reachability.ts";

export interface BannerInput {
  config: Pick<Config, "issuer" | "databaseUrl" | "dataDir">;
  /** The bound address (`HOST`) and port. */
  hostname: string;
  port: number;
  metricsUrl: string | null;
  /** No account yet: the banner adds the first steps. */
  empty: boolean;
}

/** What `bun run start` prints once it listens, whatever the database: where everything is. */
export function startupBanner(input: BannerInput): string {
  const { config } = input;
  const database = config.databaseUrl
    ? (() => {
        const target = postgresTarget(config.databaseUrl);
        return `PostgreSQL ${target.host}:${target.port}, database "${target.database}" (user ${target.user})`;
      })()
    : `embedded PGlite in ${resolve(config.dataDir)}`;
  const portal = `${config.issuer}/developers/applications`;
  const lines = [
    "",
    "Fluxer OAuth2 server",
    `  listening   ${input.hostname}:${input.port}`,
    `  issuer      ${config.issuer}`,
    `  database    ${database}`,
    `  portal      ${portal}`,
    `  metadata    ${config.issuer}/.well-known/oauth-authorization-server`,
    `  openapi     ${config.issuer}/openapi.json`,
    `  metrics     ${input.metricsUrl ?? "off (set METRICS_PORT)"}`,
  ];
  if (input.empty)
    lines.push(
      "",
      "No accounts yet. To try it:",
      `  1. Create an account:      ${config.issuer}/register`,
      `  2. Create an application:  ${portal} (or bun run admin apps:create)`,
      `  3. Try the flow:           ${config.issuer}/v1/oauth2/authorize?client_id=<id>&redirect_uri=<uri>&response_type=code&scope=identify`,
    );
  lines.push("");
  return lines.join("\n");
}
