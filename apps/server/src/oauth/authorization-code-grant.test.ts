import { describe, expect, test } from "bun:test";
import type { CodeExchangeState } from "../domain/authorization-codes.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import { decideCodeExchange } from "./authorization-code-grant.ts";
import { computeS256Challenge } from "./pkce.ts";

const now = new Date("2026-12-01T12:00:00Z");
const client: AuthenticatedClient = { id: "10", secretHash: "a".repeat(64), confirmed: false };
const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REDIRECT = "https://app.example/cb";

function state(
  code: Partial<NonNullable<CodeExchangeState["code"]>> | null = {},
  extra: Partial<CodeExchangeState> = {},
): CodeExchangeState {
  return {
    storedSecretHash: client.secretHash,
    publicClient: false,
    code:
      code === null
        ? null
        : {
            applicationId: client.id,
            userId: "30",
            redirectUri: REDIRECT,
            scopes: ["identify"],
            codeChallenge: computeS256Challenge(VERIFIER),
            codeChallengeMethod: "S256",
            nonce: null,
            authTime: null,
            expiresAt: new Date(now.getTime() + 60_000),
            ...code,
          },
    issuedFamily: null,
    ...extra,
  };
}
const request = { redirectUri: REDIRECT, verifier: VERIFIER };
const refuse = (description: string) => ({ kind: "refuse" as const, description });

describe("decideCodeExchange", () => {
  test("public client (token_endpoint_auth_method=none): only when the application is public, only S256", () => {
    const publicClient: AuthenticatedClient = { id: client.id, secretHash: null, confirmed: false };
    const nonce = "n-0S6_WzA2Mj";
    const authTime = new Date(now.getTime() - 30_000);
    expect(
      decideCodeExchange(state({ nonce, authTime }, { publicClient: true }), publicClient, request, now),
    ).toMatchObject({ kind: "issue", userId: "30", nonce, authTime, client: { secretHash: null } });
    expect(decideCodeExchange(state(), publicClient, request, now)).toEqual({ kind: "stale_client" });
    expect(decideCodeExchange(state({}, { storedSecretHash: null }), publicClient, request, now)).toEqual({
      kind: "stale_client",
    });
    const plain = state({ codeChallenge: VERIFIER, codeChallengeMethod: "plain" }, { publicClient: true });
    expect(decideCodeExchange(plain, publicClient, request, now)).toEqual(
      refuse("A public client's code must be bound to an S256 code_challenge"),
    );
    const without = state({ codeChallenge: null, codeChallengeMethod: null }, { publicClient: true });
    expect(decideCodeExchange(without, publicClient, { redirectUri: REDIRECT, verifier: null }, now)).toEqual(
      refuse("A public client's code must be bound to an S256 code_challenge"),
    );
    // A public application's secret still works as it always did.
    expect(decideCodeExchange(plain, client, request, now).kind).toBe("issue");
  });

  test("issue with S256, plain and no PKCE", () => {
    expect(decideCodeExchange(state(), client, request, now)).toMatchObject({
      kind: "issue",
      userId: "30",
      scopes: ["identify"],
    });
    const plain = state({ codeChallenge: VERIFIER, codeChallengeMethod: "plain" });
    expect(decideCodeExchange(plain, client, request, now).kind).toBe("issue");
    const none = state({ codeChallenge: null, codeChallengeMethod: null });
    expect(decideCodeExchange(none, client, { redirectUri: REDIRECT, verifier: null }, now).kind).toBe(
      "issue",
    );
  });

  test("a stale client (secret reset elsewhere, or application gone) is refused before anything else", () => {
    expect(decideCodeExchange(state({}, { storedSecretHash: "b".repeat(64) }), client, request, now)).toEqual(
      {
        kind: "stale_client",
      },
    );
    expect(decideCodeExchange(state(null, { storedSecretHash: null }), client, request, now).kind).toBe(
      "stale_client",
    );
  });

  test("unknown code, and another client's code: the same refusal", () => {
    expect(decideCodeExchange(state(null), client, request, now)).toEqual(
      refuse("Invalid authorization code"),
    );
    expect(decideCodeExchange(state({ applicationId: "11" }), client, request, now)).toEqual(
      refuse("Invalid authorization code"),
    );
    // Another client's consumed code is not a replay of ours: the read finds only our families, so it
    // is an unknown code and nothing of theirs is revoked.
    expect(decideCodeExchange(state(null), client, request, now)).toEqual(
      refuse("Invalid authorization code"),
    );
  });

  test("replay: a consumed (deleted) code whose family remembers it", () => {
    expect(
      decideCodeExchange(state(null, { issuedFamily: { userId: "31" } }), client, request, now),
    ).toMatchObject({ kind: "replay", userId: "31" });
  });

  test("a replay is recognised even with a wrong verifier or redirect (it says nothing about them)", () => {
    const replayed = state(null, { issuedFamily: { userId: "30" } });
    expect(decideCodeExchange(replayed, client, { redirectUri: "https://x", verifier: null }, now).kind).toBe(
      "replay",
    );
  });

  test("expired, wrong redirect_uri", () => {
    expect(decideCodeExchange(state({ expiresAt: now }), client, request, now)).toEqual(
      refuse("Authorization code expired"),
    );
    expect(decideCodeExchange(state(), client, { ...request, redirectUri: `${REDIRECT}/x` }, now)).toEqual(
      refuse("redirect_uri does not match the authorization request"),
    );
  });

  test("PKCE: missing, malformed, wrong verifier; a verifier for a code without a challenge", () => {
    expect(decideCodeExchange(state(), client, { ...request, verifier: null }, now)).toEqual(
      refuse("Missing code_verifier"),
    );
    expect(decideCodeExchange(state(), client, { ...request, verifier: "short" }, now)).toEqual(
      refuse("code_verifier must be 43-128 unreserved characters"),
    );
    expect(decideCodeExchange(state(), client, { ...request, verifier: `${VERIFIER}x` }, now)).toEqual(
      refuse("code_verifier does not match the code challenge"),
    );
    const none = state({ codeChallenge: null, codeChallengeMethod: null });
    expect(decideCodeExchange(none, client, request, now)).toEqual(
      refuse("code_verifier sent for a code issued without PKCE"),
    );
  });
});
