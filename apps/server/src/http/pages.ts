import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { isApiError } from "../domain/errors.ts";
import { createSession, invalidateSession } from "../domain/sessions.ts";
import { signIn } from "../domain/sign-in.ts";
import {
  emailSchema,
  MAX_LOGIN_LENGTH,
  MAX_PASSWORD_LENGTH,
  passwordSchema,
  usernameSchema,
} from "../domain/user-fields.ts";
import { createUser } from "../domain/users.ts";
import { clientIp } from "./client-ip.ts";
import {
  isSameOriginRequest,
  preSessionCsrfToken,
  sessionCsrfToken,
  verifyPreSessionCsrfToken,
  verifySessionCsrfToken,
} from "./csrf.ts";
import { deviceCookie, readDeviceCookie } from "./device-cookie.ts";
import { readForm, singleField } from "./form.ts";
import {
  crossOriginRefusalPage,
  errorPage,
  html,
  htmlResponse,
  refusalPage,
  renderPage,
  type SafeHtml,
} from "./html.ts";
import {
  clearSessionCookie,
  isSecureIssuer,
  readPageSession,
  safeReturnTo,
  sessionCookie,
} from "./page-session.ts";
import { limitByIp } from "./rate-limit.ts";
import { redirectResponse } from "./responses.ts";

function withQuery(path: string, returnTo: string | null): string {
  return returnTo ? `${path}?return_to=${encodeURIComponent(returnTo)}` : path;
}

function loginBody(options: {
  csrf: string;
  returnTo: string | null;
  login?: string;
  error?: string;
}): SafeHtml {
  return html`<h1>Sign in</h1>
${options.error ? html`<div class="error" role="alert">${options.error}</div>` : ""}
<form method="post" action="/login">
  <input type="hidden" name="csrf_token" value="${options.csrf}">
  ${options.returnTo ? html`<input type="hidden" name="return_to" value="${options.returnTo}">` : ""}
  <label for="login">Username or email</label>
  <input type="text" id="login" name="login" autocomplete="username" required value="${options.login ?? ""}">
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
  <div class="actions"><button type="submit">Sign in</button></div>
</form>
<p class="muted">No account? <a href="${withQuery("/register", options.returnTo)}">Create one</a></p>`;
}

function registerBody(options: {
  csrf: string;
  returnTo: string | null;
  username?: string;
  email?: string;
  error?: string;
}): SafeHtml {
  return html`<h1>Create an account</h1>
${options.error ? html`<div class="error" role="alert">${options.error}</div>` : ""}
<form method="post" action="/register">
  <input type="hidden" name="csrf_token" value="${options.csrf}">
  ${options.returnTo ? html`<input type="hidden" name="return_to" value="${options.returnTo}">` : ""}
  <label for="username">Username</label>
  <input type="text" id="username" name="username" autocomplete="username" required value="${options.username ?? ""}">
  <label for="email">Email</label>
  <input type="email" id="email" name="email" autocomplete="email" required value="${options.email ?? ""}">
  <label for="password">Password (at least 8 characters)</label>
  <input type="password" id="password" name="password" autocomplete="new-password" required minlength="8">
  <div class="actions"><button type="submit">Create account</button></div>
</form>
<p class="muted">Have an account? <a href="${withQuery("/login", options.returnTo)}">Sign in</a></p>`;
}

const registerForm = z.object({ username: usernameSchema, email: emailSchema, password: passwordSchema });

/**
 * Sign-in, sign-up, sign-out and a minimal home page. Failed form submissions re-render the form
 * (4xx, nothing written); every successful POST answers 303 (post/redirect/get).
 */
export function pagesRoutes(deps: Deps) {
  const secure = isSecureIssuer(deps.config.issuer);
  const badCsrf = () => refusalPage("Invalid or missing CSRF token. Reload the page.");

  /** Renders a pre-session form page, storing its CSRF cookie if the browser has none yet. */
  const preSessionPage = (
    request: Request,
    title: string,
    body: (csrf: string) => SafeHtml,
    status = 200,
  ): Response => {
    const csrf = preSessionCsrfToken(request, { secure });
    return htmlResponse(renderPage({ title, body: body(csrf.token) }), {
      status,
      headers: csrf.setCookie ? { "Set-Cookie": csrf.setCookie } : {},
    });
  };

  /** Sign-in and sign-up forms: same-origin, well-formed, and carrying the pre-session CSRF token. */
  const readPreSessionForm = async (
    request: Request,
  ): Promise<{ form: URLSearchParams } | { refused: Response }> => {
    if (!isSameOriginRequest(request, deps.config.issuer)) return { refused: crossOriginRefusalPage() };
    const read = await readForm(request);
    if (!read.ok)
      return { refused: errorPage({ status: read.status, title: "Bad request", message: read.message }) };
    if (!verifyPreSessionCsrfToken(request, singleField(read.form, "csrf_token"), { secure }))
      return { refused: badCsrf() };
    return { form: read.form };
  };

  const startSession = async (userId: string) =>
    createSession(deps.db, {
      id: deps.nextId(),
      userId,
      now: deps.clock.now(),
      ttlSeconds: deps.config.sessionTtlSeconds,
    });

  return new Elysia({ name: "pages" })
    .get("/", async ({ request }) => {
      const page = await readPageSession(deps, request);
      const body = page
        ? html`<h1>Fluxer</h1><p>Signed in as <strong>${page.user.username}</strong>.</p>
<nav aria-label="Your account"><ul class="nav">
  <li><a href="/developers/applications">Applications</a></li>
  <li><a href="/settings/authorized-apps">Authorized apps</a></li>
</ul></nav>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="${sessionCsrfToken(page.token)}">
<div class="actions"><button type="submit" class="secondary">Sign out</button></div></form>`
        : html`<h1>Fluxer</h1><p><a href="/login">Sign in</a> or <a href="/register">create an account</a>.</p>`;
      return htmlResponse(renderPage({ title: "Fluxer", body }));
    })
    .get("/login", ({ request }) => {
      const returnTo = safeReturnTo(new URL(request.url).searchParams.get("return_to"));
      return preSessionPage(request, "Sign in", (csrf) => loginBody({ csrf, returnTo }));
    })
    .post(
      "/login",
      async ({ request, server }) => {
        const read = await readPreSessionForm(request);
        if ("refused" in read) return read.refused;
        const { form } = read;
        const returnTo = safeReturnTo(singleField(form, "return_to"));
        const login = singleField(form, "login")?.trim() ?? "";
        const password = singleField(form, "password") ?? "";
        const result =
          login.length > 0 &&
          login.length <= MAX_LOGIN_LENGTH &&
          password.length > 0 &&
          password.length <= MAX_PASSWORD_LENGTH
            ? await signIn(deps, {
                login,
                password,
                ip: clientIp(request, server, deps.config),
                deviceCookie: readDeviceCookie(deps, request),
              })
            : ({ ok: false, reason: "invalid_credentials" } as const);
        if (!result.ok) {
          const error =
            result.reason === "throttled"
              ? `Too many failed attempts. Try again in ${Math.max(1, Math.ceil(result.retryAfterSeconds / 60))} minute(s).`
              : "Invalid login or password.";
          const status = result.reason === "throttled" ? 429 : 401;
          return preSessionPage(
            request,
            "Sign in",
            (csrf) => loginBody({ csrf, returnTo, login, error }),
            status,
          );
        }
        const { user } = result;
        const { token } = await startSession(user.id);
        return redirectResponse(returnTo ?? "/", 303, {
          setCookie: [sessionCookie(deps, token), deviceCookie(deps, user.id)],
        });
      },
      { parse: "none" },
    )
    .get("/register", ({ request }) => {
      const returnTo = safeReturnTo(new URL(request.url).searchParams.get("return_to"));
      return preSessionPage(request, "Create an account", (csrf) => registerBody({ csrf, returnTo }));
    })
    .post(
      "/register",
      async ({ request }) => {
        const read = await readPreSessionForm(request);
        if ("refused" in read) return read.refused;
        const { form } = read;
        const returnTo = safeReturnTo(singleField(form, "return_to"));
        const username = singleField(form, "username") ?? "";
        const email = singleField(form, "email") ?? "";
        const rerender = (error: string, status: number) =>
          preSessionPage(
            request,
            "Create an account",
            (csrf) => registerBody({ csrf, returnTo, username, email, error }),
            status,
          );
        const parsed = registerForm.safeParse({
          username,
          email,
          password: singleField(form, "password") ?? "",
        });
        if (!parsed.success) return rerender(parsed.error.issues[0]?.message ?? "Invalid input.", 400);
        try {
          const user = await createUser(deps.db, {
            id: deps.nextId(),
            ...parsed.data,
            now: deps.clock.now(),
          });
          const { token } = await startSession(user.id);
          return redirectResponse(returnTo ?? "/", 303, { setCookie: sessionCookie(deps, token) });
        } catch (error) {
          if (isApiError(error)) return rerender(error.message, error.status);
          throw error;
        }
      },
      { parse: "none", beforeHandle: limitByIp(deps, "auth:register") },
    )
    .post(
      "/logout",
      async ({ request }) => {
        if (!isSameOriginRequest(request, deps.config.issuer)) return crossOriginRefusalPage();
        const read = await readForm(request);
        if (!read.ok) return errorPage({ status: read.status, title: "Bad request", message: read.message });
        const page = await readPageSession(deps, request);
        if (page) {
          if (!verifySessionCsrfToken(page.token, singleField(read.form, "csrf_token"))) return badCsrf();
          await invalidateSession(deps.db, page.session.id);
        }
        // "Switch account" on the consent page passes its authorization request, which then asks
        // the now signed-out browser to sign in and comes back.
        const returnTo = safeReturnTo(singleField(read.form, "return_to"));
        return redirectResponse(returnTo ?? "/", 303, { setCookie: clearSessionCookie(deps) });
      },
      { parse: "none" },
    );
}
