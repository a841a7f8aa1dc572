/**
 * Operator commands: `bun run admin <command>` (`bun run admin --help` lists them). Each command reads
 * the same environment as the server (config.ts). Exit 0 on success, 1 with a message on stderr on
 * bad input or failure.
 */
import { AdminInputError } from "./admin/command.ts";
import { operatorCommands } from "./admin/commands.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { DataDirLockedError } from "./db/data-dir-lock.ts";
import { openDatabase } from "./db/database.ts";
import { DatabaseUnavailableError } from "./db/reachability.ts";
import { reencryptStoredKeys } from "./domain/server-secrets.ts";
import { loadServerKeys, SecretKeyError } from "./secret-key.ts";

interface Command {
  summary: string;
  run(args: string[]): Promise<string>;
}

const commands: Record<string, Command> = {
  "secrets:reencrypt": {
    summary:
      "encrypt all stored key material with SECRET_KEY (after a rotation: old keys in SECRET_KEY_PREVIOUS; afterwards they can go)",
    run: async (args) => {
      if (args.length > 0)
        throw new UsageError(`secrets:reencrypt takes no arguments (got ${args.join(" ")})`);
      const config = loadConfig();
      const keys = await loadServerKeys(config);
      const database = openDatabase(config);
      try {
        const { reencrypted } = await reencryptStoredKeys(database.db, keys);
        return `re-encrypted ${reencrypted} signing key(s) with key ${keys.encryption[0]?.id}`;
      } finally {
        await database.close();
      }
    },
  },
  ...operatorCommands,
};

class UsageError extends Error {}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    "usage: bun run admin <command>",
    "",
    "commands:",
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return 0;
  }
  const command = name === undefined ? undefined : commands[name];
  if (!command) {
    console.error(`${name === undefined ? "no command given" : `unknown command: ${name}`}\n\n${usage()}`);
    return 1;
  }
  if (args.includes("--help") || args.includes("-h")) {
    console.log(`usage: bun run admin ${name}\n\n${command.summary}`);
    return 0;
  }
  try {
    console.log(await command.run(args));
    return 0;
  } catch (error) {
    const known =
      error instanceof UsageError ||
      error instanceof AdminInputError ||
      error instanceof DatabaseUnavailableError ||
      error instanceof ConfigError ||
      error instanceof SecretKeyError ||
      error instanceof DataDirLockedError;
    console.error(known ? (error as Error).message : error);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
