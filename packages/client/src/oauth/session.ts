import { OAuthClientError } from "./errors.ts";
import type { TokenSet } from "./token-set.ts";

/**
 * Where a session reads the newest tokens before it refreshes and writes every new pair: shared by
 * the tabs of one browser (`webStorage(localStorage, key)`), or a server's own store.
 */
export interface TokenStorage {
  get(): TokenSet | null | undefined | Promise<TokenSet | null | undefined>;
  set(tokens: TokenSet): void | Promise<void>;
}

export interface SessionOptions {
  /** Called with every new token pair (after `storage.set`), e.g. to persist it. */
  onTokens?: (tokens: TokenSet) => void | Promise<void>;
  storage?: TokenStorage;
  /**
   * Name of the Web Lock that serialises refreshes across tabs (where `navigator.locks` exists).
   * Tabs that share `storage` must share this name. Default: one per issuer and client id.
   */
  lockName?: string;
  /** Refresh this many seconds before the access token expires (default 60). */
  refreshLeewaySeconds?: number;
}

export interface OAuthSession {
  /** A valid access token; refreshes first when it expires within the leeway (single-flight). */
  getAccessToken(): Promise<string>;
  /** The newest tokens this session holds. */
  readonly tokens: TokenSet;
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** Runs `task` under the browser-wide Web Lock `name` where the Web Locks API exists, else as is. */
function withLock<T>(name: string, task: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks ? locks.request(name, task) : task();
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A refresh token is single-use (rotation with reuse detection, SPEC §7.2): two refreshes with one
 * token revoke the family. So refreshes never overlap: concurrent callers in this process share one
 * promise, tabs take turns under a Web Lock, and whoever comes second first reads `storage`, where
 * the winner left the new pair, instead of presenting the used token.
 */
export function createSession(
  refresh: (refreshToken: string) => Promise<TokenSet>,
  initial: TokenSet,
  options: SessionOptions & { lockName: string },
): OAuthSession {
  let current = initial;
  let inflight: Promise<TokenSet> | null = null;
  const leeway = options.refreshLeewaySeconds ?? 60;
  const isFresh = (tokens: TokenSet) => tokens.expires_at - leeway > nowSeconds();

  async function renew(): Promise<TokenSet> {
    const stored = options.storage ? await options.storage.get() : null;
    // Tokens issued later expire later: the newer of ours and the stored ones is the live pair.
    const latest = stored && stored.expires_at > current.expires_at ? stored : current;
    if (isFresh(latest)) {
      current = latest;
      return latest;
    }
    if (!latest.refresh_token)
      throw new OAuthClientError(
        "invalid_grant",
        "The access token expired and there is no refresh token",
        null,
      );
    const next = await refresh(latest.refresh_token);
    current = next;
    await options.storage?.set(next);
    await options.onTokens?.(next);
    return next;
  }

  return {
    get tokens() {
      return current;
    },
    async getAccessToken() {
      if (isFresh(current)) return current.access_token;
      inflight ??= withLock(options.lockName, renew).finally(() => {
        inflight = null;
      });
      return (await inflight).access_token;
    },
  };
}

/** A `TokenStorage` over Web Storage (`localStorage` is shared by the tabs of one origin). */
export function webStorage(
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void },
  key: string,
): TokenStorage & { get(): TokenSet | null; set(tokens: TokenSet): void } {
  return {
    get() {
      const text = storage.getItem(key);
      if (!text) return null;
      try {
        const value = JSON.parse(text) as TokenSet;
        return typeof value?.access_token === "string" && typeof value.expires_at === "number" ? value : null;
      } catch {
        return null;
      }
    },
    set(tokens) {
      storage.setItem(key, JSON.stringify(tokens));
    },
  };
}
