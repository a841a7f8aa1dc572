import { sql } from "kysely";
import type { Db } from "../db/database.ts";
import { uniqueViolation } from "../db/errors.ts";
import type { UserRow } from "../db/schema.ts";
import { isSnowflake } from "../snowflake.ts";
import { ApiError } from "./errors.ts";

/** The Fluxer user object; `email`/`verified` only when the caller may see them. */
export interface UserView {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  email?: string | null;
  verified?: boolean;
  flags: number;
  bot: boolean;
  system: boolean;
}

export interface PartialUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
}

/** What the user views below are made of: no password hash, nothing a resource response never shows. */
export const PROFILE_COLUMNS = [
  "id",
  "username",
  "discriminator",
  "global_name",
  "avatar",
  "email",
  "verified",
  "flags",
  "bot",
  "system",
] as const satisfies readonly (keyof UserRow)[];
export type UserProfileRow = Pick<UserRow, (typeof PROFILE_COLUMNS)[number]>;

export function toPartialUser(row: UserProfileRow): PartialUser {
  return {
    id: row.id,
    username: row.username,
    discriminator: row.discriminator,
    global_name: row.global_name,
    avatar: row.avatar,
  };
}

export function toUserView(row: UserProfileRow, options: { withEmail: boolean }): UserView {
  const view: UserView = { ...toPartialUser(row), flags: row.flags, bot: row.bot, system: row.system };
  if (options.withEmail) {
    view.email = row.email;
    view.verified = row.verified;
  }
  return view;
}

function randomDiscriminator(): string {
  const n = crypto.getRandomValues(new Uint16Array(1))[0] ?? 1;
  return String((n % 9999) + 1).padStart(4, "0");
}

export interface NewUser {
  id: string;
  username: string;
  email: string;
  password: string;
  now: Date;
}

/** The one place a users row is written; humans and bots differ only in these fields. */
function insertUser(
  db: Db,
  fields: {
    id: string;
    username: string;
    email: string | null;
    bot: boolean;
    passwordHash: string | null;
    now: Date;
  },
): Promise<UserRow> {
  return db
    .insertInto("users")
    .values({
      id: fields.id,
      username: fields.username,
      discriminator: randomDiscriminator(),
      global_name: null,
      avatar: null,
      email: fields.email,
      // Bots have no mailbox to verify; humans start unverified.
      verified: fields.bot,
      flags: 0,
      bot: fields.bot,
      system: false,
      password_hash: fields.passwordHash,
      created_at: fields.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function createUser(db: Db, input: NewUser): Promise<UserRow> {
  const passwordHash = await Bun.password.hash(input.password, { algorithm: "argon2id" });
  try {
    return await insertUser(db, { ...input, bot: false, passwordHash });
  } catch (error) {
    const constraint = uniqueViolation(error);
    if (constraint === "users_username_key")
      throw new ApiError("USERNAME_TAKEN", "Username is already taken");
    if (constraint === "users_email_key") throw new ApiError("EMAIL_TAKEN", "Email is already registered");
    throw error;
  }
}

export function createBotUser(db: Db, input: { id: string; username: string; now: Date }): Promise<UserRow> {
  return insertUser(db, { ...input, email: null, bot: true, passwordHash: null });
}

export async function findUserById(db: Db, id: string): Promise<UserRow | null> {
  return (await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst()) ?? null;
}

// A real argon2id hash of a random string: unknown logins pay the same verification cost as known ones.
const dummyHash = Bun.password.hash(crypto.randomUUID(), { algorithm: "argon2id" });

/** The human account a login (username or email, any case) names, if any. */
export async function findUserByLogin(db: Db, login: string): Promise<UserRow | null> {
  const normalized = login.toLowerCase();
  const user = await db
    .selectFrom("users")
    .selectAll()
    .where("bot", "=", false)
    .where((eb) => eb.or([eb(sql`lower(username)`, "=", normalized), eb(sql`lower(email)`, "=", normalized)]))
    .executeTakeFirst();
  return user ?? null;
}

/** The password check; an unknown user pays the same argon2id cost as a known one (no enumeration by time). */
export async function verifyUserPassword(user: UserRow | null, password: string): Promise<boolean> {
  const ok = await Bun.password.verify(password, user?.password_hash ?? (await dummyHash));
  return ok && !!user?.password_hash;
}

/** Re-authentication ("sudo") for destructive actions. */
export async function verifySudoPassword(user: UserRow, password: string): Promise<boolean> {
  if (!user.password_hash) return false;
  return Bun.password.verify(password, user.password_hash);
}

/** Users by id (oldest first), humans only unless `includeBots`; `afterId` pages on. */
export async function listUsers(
  db: Db,
  options: { limit: number; afterId?: string; includeBots?: boolean },
): Promise<UserRow[]> {
  let query = db.selectFrom("users").selectAll().orderBy("id").limit(options.limit);
  if (!options.includeBots) query = query.where("bot", "=", false);
  if (options.afterId !== undefined) query = query.where("id", ">", options.afterId);
  return query.execute();
}

/** The user an operator names: a snowflake id (bots too), else a username or email (humans). */
export async function findUserByIdOrLogin(db: Db, idOrLogin: string): Promise<UserRow | null> {
  if (isSnowflake(idOrLogin)) {
    const user = await findUserById(db, idOrLogin);
    if (user) return user;
  }
  return findUserByLogin(db, idOrLogin);
}
