/**
 * A single-page app as a third party would write it: oidc-client-ts, a public client (no secret),
 * configured by the page that serves it (`window.SPA_CONFIG`). On `/callback` it completes the sign-in
 * by itself; the test drives the rest through `window.spa`.
 */
import { OidcClient, UserManager, WebStorageStateStore } from "oidc-client-ts";

interface SpaConfig {
  authority: string;
  client_id: string;
  redirect_uri: string;
}

declare global {
  interface Window {
    SPA_CONFIG: SpaConfig;
    spa: typeof spa;
    spaCallback?: { ok: true } | { ok: false; message: string };
  }
}

const settings = {
  ...window.SPA_CONFIG,
  response_type: "code",
  scope: "openid profile email offline_access",
  loadUserInfo: true,
  automaticSilentRenew: false,
  userStore: new WebStorageStateStore({ store: window.localStorage }),
};
const manager = new UserManager(settings);

async function current() {
  const user = await manager.getUser();
  if (!user) throw new Error("not signed in");
  return user;
}

async function userinfoStatus(accessToken: string): Promise<number> {
  const response = await fetch(`${settings.authority}/v1/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return response.status;
}

const spa = {
  signIn: () => manager.signinRedirect({ nonce: undefined }),
  async user() {
    const user = await current();
    return {
      accessToken: user.access_token,
      refreshToken: user.refresh_token ?? null,
      idToken: user.id_token ?? null,
      profile: user.profile,
    };
  },
  userinfoStatus,
  async silentRefresh() {
    const user = await manager.signinSilent();
    if (!user) throw new Error("no user after the silent refresh");
    return { accessToken: user.access_token, idToken: user.id_token ?? null, profile: user.profile };
  },
  async revoke() {
    await manager.revokeTokens(["access_token", "refresh_token"]);
  },
  /** The sign-in request alone (its state kept in this origin's storage): the authorize URL. */
  async createRequest(): Promise<string> {
    const request = await new OidcClient(settings).createSigninRequest({});
    return request.url;
  },
  /** Completes a sign-in from a callback URL: the token request goes out from this page's origin. */
  async complete(url: string): Promise<{ ok: true } | { ok: false; message: string }> {
    try {
      await new OidcClient(settings).processSigninResponse(url);
      return { ok: true };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  },
};
window.spa = spa;

if (location.pathname === "/callback")
  manager.signinCallback().then(
    () => {
      window.spaCallback = { ok: true };
    },
    (error: unknown) => {
      window.spaCallback = { ok: false, message: error instanceof Error ? error.message : String(error) };
    },
  );
