import type { Updateable } from "kysely";
import { sql } from "kysely";
import { generateToken, hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import { retryOnConflict } from "../db/retry.ts";
import type { ApplicationRow, ApplicationsTable, UserRow } from "../db/schema.ts";
import { encryptSecret, type ServerKeys } from "../secret-key.ts";
import { isSnowflake } from "../snowflake.ts";
import { parseIcon, replaceIcon } from "./application-icons.ts";
import { recordAuditEvent } from "./audit.ts";
import { generateBotToken } from "./bot-tokens.ts";
import { ApiError } from "./errors.ts";
import { generateInteractionKeyPair } from "./interaction-signing.ts";
import { signingKeyContext } from "./server-secrets.ts";
import { createBotUser, findUserById, type PartialUser, toPartialUser, verifySudoPassword } from "./users.ts";

/** The application object of SPEC §5 as the owner sees it; secrets are never part of it. */
export interface Application {
  id: string;
  name: string;
  icon_hash: string | null;
  description: string | null;
  owner: PartialUser;
  owner_id: string;
  bot_user_id: string | null;
  bot_public: boolean;
  bot_require_code_grant: boolean;
  terms_of_service_url: string | null;
  privacy_policy_url: string | null;
  redirect_uris: string[];
  verify_key: string;
  /** Uses the code grant without its secret (SPA, native app): PKCE S256 instead (SPEC §7.2). */
  public_client: boolean;
  version: number;
}

/** What anyone may see (a consent screen): no redirect URIs, no version, no bot user. */
export interface PublicApplication {
  id: string;
  name: string;
  icon_hash: string | null;
  description: string | null;
  owner: PartialUser;
  bot_public: boolean;
  bot_require_code_grant: boolean;
  terms_of_service_url: string | null;
  privacy_policy_url: string | null;
  verify_key: string;
}

export function toApplication(row: ApplicationRow, owner: UserRow): Application {
  return {
    id: row.id,
    name: row.name,
    icon_hash: row.icon_hash,
    description: row.description,
    owner: toPartialUser(owner),
    owner_id: row.owner_id,
    bot_user_id: row.bot_user_id,
    bot_public: row.bot_public,
    bot_require_code_grant: row.bot_require_code_grant,
    terms_of_service_url: row.terms_of_service_url,
    privacy_policy_url: row.privacy_policy_url,
    redirect_uris: row.redirect_uris,
    verify_key: row.verify_key,
    public_client: row.public_client,
    version: row.version,
  };
}

export function toPublicApplication(row: ApplicationRow, owner: UserRow): PublicApplication {
  const { owner_id, bot_user_id, redirect_uris, public_client, version, ...view } = toApplication(row, owner);
  return view;
}

/** The editable fields of "Modify Application"; `icon` is base64 (or a data: URI), null removes it. */
export interface ApplicationChanges {
  name?: string;
  description?: string | null;
  icon?: string | null;
  redirectUris?: string[];
  botPublic?: boolean;
  botRequireCodeGrant?: boolean;
  publicClient?: boolean;
  termsOfServiceUrl?: string | null;
  privacyPolicyUrl?: string | null;
}

type ColumnChanges = Pick<
  Updateable<ApplicationsTable>,
  | "name"
  | "description"
  | "icon_hash"
  | "redirect_uris"
  | "bot_public"
  | "bot_require_code_grant"
  | "public_client"
  | "terms_of_service_url"
  | "privacy_policy_url"
>;

function toColumns(changes: ApplicationChanges): ColumnChanges {
  const columns: ColumnChanges = {};
  if (changes.name !== undefined) columns.name = changes.name;
  if (changes.description !== undefined) columns.description = changes.description;
  if (changes.redirectUris !== undefined) columns.redirect_uris = changes.redirectUris;
  if (changes.botPublic !== undefined) columns.bot_public = changes.botPublic;
  if (changes.botRequireCodeGrant !== undefined) columns.bot_require_code_grant = changes.botRequireCodeGrant;
  if (changes.publicClient !== undefined) columns.public_client = changes.publicClient;
  if (changes.termsOfServiceUrl !== undefined) columns.terms_of_service_url = changes.termsOfServiceUrl;
  if (changes.privacyPolicyUrl !== undefined) columns.privacy_policy_url = changes.privacyPolicyUrl;
  return columns;
}

export interface CreatedApplication {
  application: Application;
  /** Shown once; only its SHA-256 is stored. */
  clientSecret: string;
  /** `<application_id>.<secret>`, shown once; only its SHA-256 is stored. */
  botToken: string;
}

export async function createApplication(
  db: Db,
  input: {
    id: string;
    botUserId: string;
    ownerId: string;
    now: Date;
    maxApplications: number;
    fields: ApplicationChanges & { name: string };
    /** Encrypts the new signing key (SPEC §16). */
    keys: ServerKeys;
  },
): Promise<CreatedApplication> {
  // Everything that can fail on bad input, or is slow, happens before the transaction.
  const icon = input.fields.icon != null ? parseIcon(input.fields.icon) : null;
  const keys = await generateInteractionKeyPair();
  const signingKey = await encryptSecret(input.keys, keys.signingKey, signingKeyContext(input.id));
  const clientSecret = generateToken();
  const bot = generateBotToken(input.id);
  return db.transaction().execute(async (trx) => {
    // Locking the owner's row serialises concurrent creates by one user, so the count below is exact.
    const owner = await trx
      .selectFrom("users")
      .selectAll()
      .where("id", "=", input.ownerId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const { n } = await trx
      .selectFrom("applications")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("owner_id", "=", input.ownerId)
      .executeTakeFirstOrThrow();
    if (n >= input.maxApplications)
      throw new ApiError("MAX_APPLICATIONS", `At most ${input.maxApplications} applications per user`);
    await createBotUser(trx, {
      id: input.botUserId,
      username: input.fields.name.slice(0, 32),
      now: input.now,
    });
    const row = await trx
      .insertInto("applications")
      .values({
        id: input.id,
        owner_id: input.ownerId,
        bot_user_id: input.botUserId,
        client_secret_hash: hashToken(clientSecret),
        bot_token_hash: bot.hash,
        verify_key: keys.verifyKey,
        signing_key: signingKey,
        name: input.fields.name,
        description: null,
        icon_hash: icon?.hash ?? null,
        bot_public: true,
        bot_require_code_grant: false,
        terms_of_service_url: null,
        privacy_policy_url: null,
        redirect_uris: [],
        ...toColumns(input.fields),
        version: 1,
        created_at: input.now,
        updated_at: input.now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (icon) await replaceIcon(trx, { applicationId: row.id, icon, now: input.now });
    return { application: toApplication(row, owner), clientSecret, botToken: bot.token };
  });
}

/** An application with its owner, or null for unknown (and malformed) ids. */
export async function findApplicationWithOwner(
  db: Db,
  id: string,
): Promise<{ row: ApplicationRow; owner: UserRow } | null> {
  if (!isSnowflake(id)) return null;
  const row = await db.selectFrom("applications").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) return null;
  const owner = await findUserById(db, row.owner_id);
  return owner ? { row, owner } : null;
}

/**
 * What an authorization request needs of a client: its registered redirect URIs and what the consent
 * page shows (owner's username included, in one query). Null for unknown (and malformed) ids.
 */
export async function findAuthorizationClient(db: Db, id: string) {
  if (!isSnowflake(id)) return null;
  const client = await db
    .selectFrom("applications")
    .leftJoin("users", "users.id", "applications.owner_id")
    .select([
      "applications.id",
      "applications.name",
      "applications.description",
      "applications.icon_hash",
      "applications.terms_of_service_url",
      "applications.privacy_policy_url",
      "applications.redirect_uris",
      "applications.public_client",
      "users.username as owner_username",
    ])
    .where("applications.id", "=", id)
    .executeTakeFirst();
  return client ?? null;
}

/** Unknown → UNKNOWN_APPLICATION; someone else's → ACCESS_DENIED, with none of its data. */
export async function findOwnedApplication(db: Db, id: string, user: UserRow): Promise<ApplicationRow> {
  const row = isSnowflake(id)
    ? await db.selectFrom("applications").selectAll().where("id", "=", id).executeTakeFirst()
    : undefined;
  if (!row) throw new ApiError("UNKNOWN_APPLICATION", "Unknown application");
  if (row.owner_id !== user.id) throw new ApiError("ACCESS_DENIED", "You do not own this application");
  return row;
}

export async function getApplication(db: Db, id: string, user: UserRow): Promise<Application> {
  return toApplication(await findOwnedApplication(db, id, user), user);
}

export async function listApplications(db: Db, user: UserRow): Promise<Application[]> {
  const rows = await db
    .selectFrom("applications")
    .selectAll()
    .where("owner_id", "=", user.id)
    .orderBy("id")
    .execute();
  return rows.map((row) => toApplication(row, user));
}

export async function getPublicApplication(db: Db, id: string): Promise<PublicApplication> {
  const found = await findApplicationWithOwner(db, id);
  if (!found) throw new ApiError("UNKNOWN_APPLICATION", "Unknown application");
  return toPublicApplication(found.row, found.owner);
}

/**
 * "Modify Application" with optimistic concurrency: one conditional UPDATE (`… and version = ?`).
 * Zero rows means unknown, not ours, or a stale version; the transaction then rolls back the icon too.
 * A changed set of redirect URIs is audited (`application.redirect_uris_changed`, with what was added
 * and removed); a reordering is not a change.
 */
export async function updateApplication(
  db: Db,
  input: {
    id: string;
    user: UserRow;
    version: number;
    now: Date;
    changes: ApplicationChanges;
    nextId: () => string;
  },
): Promise<Application> {
  const icon = input.changes.icon != null ? parseIcon(input.changes.icon) : null;
  if (!isSnowflake(input.id)) throw new ApiError("UNKNOWN_APPLICATION", "Unknown application");
  return db.transaction().execute(async (trx) => {
    const columns = toColumns(input.changes);
    if (input.changes.icon !== undefined) columns.icon_hash = icon?.hash ?? null;
    // `previous` reads the row as the statement's snapshot saw it. Every change bumps `version`, so
    // when the conditional UPDATE matches, the row it changed is the one `previous` read.
    const updated = await trx
      .with("previous", (q) =>
        q.selectFrom("applications").select("redirect_uris").where("id", "=", input.id),
      )
      .updateTable("applications")
      .set({ ...columns, version: sql`version + 1`, updated_at: input.now })
      .where("id", "=", input.id)
      .where("owner_id", "=", input.user.id)
      .where("version", "=", input.version)
      .returningAll()
      .returning((eb) => eb.selectFrom("previous").select("redirect_uris").as("previous_redirect_uris"))
      .executeTakeFirst();
    if (!updated) {
      await findOwnedApplication(trx, input.id, input.user);
      throw new ApiError("VERSION_CONFLICT", "The application was changed by someone else; reload it");
    }
    const { previous_redirect_uris: previousRedirectUris, ...row } = updated;
    if (input.changes.icon !== undefined)
      await replaceIcon(trx, { applicationId: row.id, icon, now: input.now });
    if (input.changes.redirectUris !== undefined) {
      // A redirect URI that is no longer registered must not deliver tokens: codes issued for it and
      // not yet exchanged go with it.
      await trx
        .deleteFrom("authorization_codes")
        .where("application_id", "=", row.id)
        .where(sql<boolean>`not (redirect_uri = any(${row.redirect_uris}::text[]))`)
        .execute();
      const before = previousRedirectUris ?? [];
      const added = row.redirect_uris.filter((uri) => !before.includes(uri));
      const removed = before.filter((uri) => !row.redirect_uris.includes(uri));
      if (added.length > 0 || removed.length > 0)
        await recordAuditEvent(trx, {
          id: input.nextId(),
          type: "application.redirect_uris_changed",
          at: input.now,
          userId: input.user.id,
          applicationId: row.id,
          data: { added, removed },
        });
    }
    return toApplication(row, input.user);
  });
}

export interface SudoInput {
  id: string;
  user: UserRow;
  password: string;
  now: Date;
  auditId: string;
}

/** Ownership first (a stranger learns nothing from the password check), then the account password. */
export async function authorizeSudo(db: Db, input: SudoInput): Promise<ApplicationRow> {
  const row = await findOwnedApplication(db, input.id, input.user);
  if (!(await verifySudoPassword(input.user, input.password)))
    throw new ApiError("INVALID_PASSWORD", "Password is incorrect");
  return row;
}

/** Cascades remove its icons, codes, consents and token families (so its tokens die at once). */
export async function deleteApplication(db: Db, input: SudoInput): Promise<void> {
  await authorizeSudo(db, input);
  // The cascade locks codes, families and tokens after the application row, the opposite order of a
  // grant in flight: PostgreSQL may pick this transaction as the deadlock victim, so it runs again.
  await retryOnConflict(() => removeApplication(db, input));
}

/** The delete itself, once ownership and password are checked (exported for the race test). */
export async function removeApplication(
  db: Db,
  input: Pick<SudoInput, "id" | "user" | "now" | "auditId">,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const deleted = await trx
      .deleteFrom("applications")
      .where("id", "=", input.id)
      .returning("bot_user_id")
      .executeTakeFirst();
    if (!deleted) throw new ApiError("UNKNOWN_APPLICATION", "Unknown application");
    if (deleted.bot_user_id)
      await trx.deleteFrom("users").where("id", "=", deleted.bot_user_id).where("bot", "=", true).execute();
    await recordAuditEvent(trx, {
      id: input.auditId,
      type: "application.deleted",
      at: input.now,
      userId: input.user.id,
      applicationId: input.id,
      data: {},
    });
  });
}

/** Every application with its owner, oldest first (operators: `bun run admin apps:list`). */
export async function listAllApplications(
  db: Db,
  options: { limit: number; ownerId?: string },
): Promise<Application[]> {
  let query = db.selectFrom("applications").selectAll().orderBy("id").limit(options.limit);
  if (options.ownerId !== undefined) query = query.where("owner_id", "=", options.ownerId);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const owners = await db
    .selectFrom("users")
    .selectAll()
    .where("id", "in", [...new Set(rows.map((row) => row.owner_id))])
    .execute();
  const ownerOf = new Map(owners.map((owner) => [owner.id, owner]));
  return rows.flatMap((row) => {
    const owner = ownerOf.get(row.owner_id);
    return owner ? [toApplication(row, owner)] : [];
  });
}
