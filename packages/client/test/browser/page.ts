/**
 * What the browser test's pages run (bundled by Bun.build, not a test file): the client library as a
 * frontend on another origin uses it. Results go to `window` for the test to read.
 */
import { createClient } from "../../src/index.ts";
import { createOAuthClient, type TokenSet, webStorage } from "../../src/oauth.ts";

declare global {
  interface Window {
    fluxerTest: typeof fluxerTest;
  }
}

const fluxerTest = {
  /** `users.me` through the typed client, cross-origin, with the session token in Authorization. */
  async me(url: string, token: string) {
    try {
      const me = await createClient({ url, token }).users.me.query();
      return { ok: true as const, username: me.username };
    } catch (error) {
      return { ok: false as const, message: error instanceof Error ? error.message : String(error) };
    }
  },

  /**
   * `calls` concurrent getAccessToken() on a session over `tokens`, sharing localStorage and the Web
   * Lock with the other tabs. The OAuth requests go through this page's own origin (`/proxy`), which
   * forwards them to the issuer: the token endpoint answers no CORS for confidential clients.
   */
  async accessTokens(options: {
    issuer: string;
    clientId: string;
    clientSecret: string;
    redirectUri: string;
    tokens: TokenSet;
    calls: number;
  }) {
    const client = createOAuthClient({
      issuer: options.issuer,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      redirectUri: options.redirectUri,
      fetch: (url, init) => fetch(`/proxy?to=${encodeURIComponent(url)}`, init),
    });
    const session = client.session(options.tokens, { storage: webStorage(localStorage, "fluxer-tokens") });
    return Promise.all(Array.from({ length: options.calls }, () => session.getAccessToken()));
  },

  hasWebLocks: () => typeof navigator.locks?.request === "function",
};

window.fluxerTest = fluxerTest;
