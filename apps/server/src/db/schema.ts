import type { ColumnType, Generated, Insertable, Selectable } from "kysely";

/** Snowflake ids travel as decimal strings (int8 is parsed to string by both drivers). */
type Id = string;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface UsersTable {
  id: Id;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  email: string | null;
  verified: boolean;
  flags: number;
  bot: boolean;
  system: boolean;
  password_hash: string | null;
  created_at: Timestamp;
}

export interface SessionsTable {
  id: Id;
  user_id: Id;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface ApplicationsTable {
  id: Id;
  owner_id: Id;
  name: string;
  description: string | null;
  icon_hash: string | null;
  bot_user_id: Id | null;
  bot_public: boolean;
  bot_require_code_grant: boolean;
  terms_of_service_url: string | null;
  privacy_policy_url: string | null;
  redirect_uris: string[];
  client_secret_hash: string;
  bot_token_hash: string | null;
  verify_key: string;
  /** PKCS#8 Ed25519 private key, base64, encrypted under SECRET_KEY (secret-key.ts); signs interactions. */
  signing_key: string;
  /** Uses the code grant without its secret (`token_endpoint_auth_method=none`, PKCE S256). */
  public_client: Generated<boolean>;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApplicationIconsTable {
  application_id: Id;
  hash: string;
  content_type: string;
  data: Uint8Array;
  created_at: Timestamp;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  application_id: Id;
  user_id: Id;
  redirect_uri: string;
  scopes: string[];
  code_challenge: string | null;
  code_challenge_method: "S256" | "plain" | null;
  /** OpenID Connect: the request's nonce, and when the user signed in (the ID token's auth_time). */
  nonce: string | null;
  auth_time: Timestamp | null;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface TokenFamiliesTable {
  id: Id;
  application_id: Id;
  user_id: Id;
  grant_type: "authorization_code" | "client_credentials";
  scopes: string[];
  /** Hash of the authorization code the family was issued from: a replay of that code revokes it. */
  code_hash: string | null;
  /** When the user signed in for the code this family came from: refreshed ID tokens keep it. */
  auth_time: Timestamp | null;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  family_id: Id;
  generation: number;
  scopes: string[];
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface AccessTokensTable {
  token_hash: string;
  family_id: Id;
  application_id: Id;
  user_id: Id;
  scopes: string[];
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface AuthorizationsTable {
  user_id: Id;
  application_id: Id;
  scopes: string[];
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AuditEventsTable {
  id: Id;
  type: string;
  user_id: Id | null;
  application_id: Id | null;
  family_id: Id | null;
  /** A JSON object (never a JSON string); its shape depends on `type` (domain/audit.ts). */
  data: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, Record<string, unknown>>;
  created_at: Timestamp;
}

export interface ServerSecretsTable {
  name: string;
  value: string;
  created_at: Generated<Timestamp>;
}

/** ID token signing keys (OpenID Connect, signing-keys.ts). */
export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** The public JWK, JSON. */
  public_jwk: string;
  /** PKCS#8 private key, encrypted under SECRET_KEY (secret-key.ts). */
  private_key: string;
  created_at: Timestamp;
  /** Signs from this moment on (a rotated-in key is published first, then signs). */
  activates_at: Timestamp;
  /** Set when a newer key took over; published until the ID tokens it signed have expired. */
  retired_at: Timestamp | null;
}

export interface RateLimitsTable {
  bucket: string;
  key: string;
  window_start: Timestamp;
  count: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  applications: ApplicationsTable;
  application_icons: ApplicationIconsTable;
  authorization_codes: AuthorizationCodesTable;
  token_families: TokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  access_tokens: AccessTokensTable;
  authorizations: AuthorizationsTable;
  audit_events: AuditEventsTable;
  server_secrets: ServerSecretsTable;
  rate_limits: RateLimitsTable;
  signing_keys: SigningKeysTable;
}

export type UserRow = Selectable<UsersTable>;
export type ApplicationRow = Selectable<ApplicationsTable>;
export type NewApplication = Insertable<ApplicationsTable>;
