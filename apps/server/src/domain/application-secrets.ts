import { sql } from "kysely";
import { generateToken, hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import { type Application, authorizeSudo, type SudoInput, toApplication } from "./applications.ts";
import { recordAuditEvent } from "./audit.ts";
import { generateBotToken } from "./bot-tokens.ts";
import { ApiError } from "./errors.ts";

// Resetting a credential is sudo (account password) and audited; the new value is returned once.

/** New client secret; the old one stops authenticating at once, issued tokens stay valid. */
export async function resetClientSecret(
  db: Db,
  input: SudoInput,
): Promise<{ application: Application; clientSecret: string }> {
  await authorizeSudo(db, input);
  const clientSecret = generateToken();
  const application = await rotateCredential(db, input, { client_secret_hash: hashToken(clientSecret) });
  return { application, clientSecret };
}

export async function resetBotToken(
  db: Db,
  input: SudoInput,
): Promise<{ application: Application; botToken: string }> {
  await authorizeSudo(db, input);
  const bot = generateBotToken(input.id);
  const application = await rotateCredential(db, input, { bot_token_hash: bot.hash });
  return { application, botToken: bot.token };
}

async function rotateCredential(
  db: Db,
  input: SudoInput,
  set: { client_secret_hash: string } | { bot_token_hash: string },
): Promise<Application> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("applications")
      .set({ ...set, version: sql`version + 1`, updated_at: input.now })
      .where("id", "=", input.id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new ApiError("UNKNOWN_APPLICATION", "Unknown application");
    await recordAuditEvent(trx, {
      id: input.auditId,
      type: "client_secret_hash" in set ? "application.secret_reset" : "application.bot_token_reset",
      at: input.now,
      userId: input.user.id,
      applicationId: input.id,
      data: {},
    });
    return toApplication(row, input.user);
  });
}
