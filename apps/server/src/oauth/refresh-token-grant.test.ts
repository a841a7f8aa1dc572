import { describe, expect, test } from "bun:test";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import type { RefreshState } from "../domain/refresh-tokens.ts";
import { decideRefresh } from "./refresh-token-grant.ts";

const now = new Date("2026-12-01T12:00:00Z");
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
const client: AuthenticatedClient = { id: "10", secretHash: "a".repeat(64), confirmed: false };
const noGrace = { graceSeconds: 0, idleSeconds: null };
const grace = { graceSeconds: 30, idleSeconds: null };

function state(overrides: {
  token?: Partial<NonNullable<RefreshState["token"]>> | null;
  successor?: RefreshState["successor"];
  storedSecretHash?: string | null;
  publicClient?: boolean;
}): RefreshState {
  return {
    publicClient: overrides.publicClient ?? false,
    storedSecretHash:
      overrides.storedSecretHash === undefined ? client.secretHash : overrides.storedSecretHash,
    token:
      overrides.token === null
        ? null
        : {
            familyId: "20",
            generation: 3,
            scopes: ["identify", "email"],
            createdAt: ago(60),
            usedAt: null,
            applicationId: client.id,
            userId: "30",
            familyRevokedAt: null,
            authTime: null,
            ...overrides.token,
          },
    successor: overrides.successor ?? null,
  };
}
const unscoped = { scopes: null };

describe("decideRefresh", () => {
  test("a public client refreshes without its secret only while its application is public", () => {
    const publicClient: AuthenticatedClient = { id: client.id, secretHash: null, confirmed: false };
    const authTime = ago(7200);
    expect(
      decideRefresh(state({ publicClient: true, token: { authTime } }), publicClient, unscoped, now, noGrace),
    ).toMatchObject({ kind: "rotate", authTime, client: { secretHash: null, confirmed: true } });
    expect(decideRefresh(state({}), publicClient, unscoped, now, noGrace)).toEqual({ kind: "stale_client" });
  });

  test("a client whose stored secret changed, or whose application is gone, is stale", () => {
    expect(
      decideRefresh(state({ storedSecretHash: "b".repeat(64) }), client, unscoped, now, noGrace),
    ).toEqual({
      kind: "stale_client",
    });
    expect(decideRefresh(state({ storedSecretHash: null }), client, unscoped, now, noGrace).kind).toBe(
      "stale_client",
    );
  });

  test("unknown and foreign tokens get the same refusal; a revoked family its own", () => {
    const invalid = { kind: "refuse", error: "invalid_grant", description: "Invalid refresh token" } as const;
    expect(decideRefresh(state({ token: null }), client, unscoped, now, noGrace)).toEqual(invalid);
    expect(decideRefresh(state({ token: { applicationId: "11" } }), client, unscoped, now, noGrace)).toEqual(
      invalid,
    );
    expect(
      decideRefresh(state({ token: { familyRevokedAt: ago(1) } }), client, unscoped, now, noGrace),
    ).toEqual({
      kind: "refuse",
      error: "invalid_grant",
      description: "Refresh token revoked",
    });
  });

  test("rotate without scope: both new tokens keep the presented token's scope", () => {
    const decision = decideRefresh(state({}), client, unscoped, now, noGrace);
    expect(decision).toMatchObject({
      kind: "rotate",
      familyId: "20",
      userId: "30",
      generation: 3,
      refreshScopes: ["identify", "email"],
      accessScopes: ["identify", "email"],
    });
    if (decision.kind === "rotate") expect(decision.client.confirmed).toBe(true);
  });

  test("rotate with scope: it narrows the access token only; the refresh token keeps its scope", () => {
    expect(decideRefresh(state({}), client, { scopes: ["identify"] }, now, noGrace)).toMatchObject({
      kind: "rotate",
      refreshScopes: ["identify", "email"],
      accessScopes: ["identify"],
    });
  });

  test("a scope beyond the presented token's is invalid_scope", () => {
    expect(decideRefresh(state({}), client, { scopes: ["identify", "guilds"] }, now, noGrace)).toEqual({
      kind: "refuse",
      error: "invalid_scope",
      description: "Requested scope exceeds the original grant",
    });
  });

  test("idle expiry: a token created REFRESH_TOKEN_IDLE_SECONDS ago has expired, one second less has not", () => {
    const idle = { graceSeconds: 0, idleSeconds: 60 };
    expect(decideRefresh(state({ token: { createdAt: ago(60) } }), client, unscoped, now, idle)).toEqual({
      kind: "refuse",
      error: "invalid_grant",
      description: "Refresh token expired",
    });
    expect(decideRefresh(state({ token: { createdAt: ago(59) } }), client, unscoped, now, idle).kind).toBe(
      "rotate",
    );
  });

  test("a used token without grace is reuse: revoke the family", () => {
    expect(decideRefresh(state({ token: { usedAt: ago(1) } }), client, unscoped, now, noGrace)).toMatchObject(
      {
        kind: "reuse",
        familyId: "20",
        userId: "30",
        generation: 3,
        usedAt: ago(1),
      },
    );
  });

  const successor = { usedAt: null, accessScopes: ["identify", "email"], accessExpiresAt: ago(-3600) };

  test("grace retry: the same pair again, for the same scope (omitted = the original scope)", () => {
    const retry = state({ token: { usedAt: ago(10) }, successor });
    expect(decideRefresh(retry, client, unscoped, now, grace)).toEqual({
      kind: "grace_retry",
      expiresAt: successor.accessExpiresAt,
      scopes: ["identify", "email"],
      userId: "30",
      authTime: null,
    });
    expect(decideRefresh(retry, client, { scopes: ["email", "identify"] }, now, grace).kind).toBe(
      "grace_retry",
    );
  });

  test("grace retry asking for another scope than the first attempt is invalid_grant, nothing broader", () => {
    const narrowed = state({
      token: { usedAt: ago(10) },
      successor: { ...successor, accessScopes: ["identify"] },
    });
    for (const scopes of [null, ["identify", "email"], ["email"]])
      expect(decideRefresh(narrowed, client, { scopes }, now, grace)).toEqual({
        kind: "refuse",
        error: "invalid_grant",
        description: "A retry must ask for the same scope as the first request",
      });
    expect(decideRefresh(narrowed, client, { scopes: ["identify"] }, now, grace).kind).toBe("grace_retry");
  });

  test("outside the window, with the successor used, or with no successor found: reuse", () => {
    expect(
      decideRefresh(state({ token: { usedAt: ago(31) }, successor }), client, unscoped, now, grace).kind,
    ).toBe("reuse");
    const usedSuccessor = { ...successor, usedAt: ago(5) };
    expect(
      decideRefresh(
        state({ token: { usedAt: ago(10) }, successor: usedSuccessor }),
        client,
        unscoped,
        now,
        grace,
      ).kind,
    ).toBe("reuse");
    expect(decideRefresh(state({ token: { usedAt: ago(10) } }), client, unscoped, now, grace).kind).toBe(
      "reuse",
    );
  });

  test("reuse is detected before scope and idle checks, so a thief's odd request still revokes", () => {
    const used = state({ token: { usedAt: ago(1), createdAt: ago(10_000) } });
    expect(
      decideRefresh(used, client, { scopes: ["guilds"] }, now, { graceSeconds: 0, idleSeconds: 60 }).kind,
    ).toBe("reuse");
  });
});
