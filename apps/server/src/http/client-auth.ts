import type { Deps } from "../deps.ts";
import {
  type AuthenticatedClient,
  authenticateClientCached,
  clientWithoutSecret,
} from "../domain/client-authentication.ts";
import { invalidClient, invalidRequest } from "../oauth/errors.ts";
import type { TokenEndpointAuthMethod } from "../oauth/metadata.ts";
import type { Params } from "../oauth/params.ts";

export type ClientCredentials =
  | { method: Exclude<TokenEndpointAuthMethod, "none">; clientId: string; clientSecret: string }
  | { method: "none"; clientId: string };

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded before going into Basic. */
function formDecode(value: string): string | null {
  if (!value.includes("%") && !value.includes("+")) return value;
  try {
    return decodeURIComponent(value.replaceAll("+", " "));
  } catch {
    return null;
  }
}

function parseBasic(header: string): { clientId: string; clientSecret: string } | null {
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match?.[1]) return null;
  let decoded: string;
  try {
    const binary = atob(match[1]);
    decoded = strictDecoder.decode(Buffer.from(binary, "latin1"));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (clientId === null || clientSecret === null || clientId === "") return null;
  return { clientId, clientSecret };
}

/**
 * Which credentials the request carries: `client_secret_basic` or `client_secret_post`, never both
 * (invalid_request), or `none`: a `client_id` alone (public clients, SPEC §7.2). Malformed or missing
 * credentials are invalid_client (401).
 */
function extractClientCredentials(request: Request, params: Params): ClientCredentials {
  const header = request.headers.get("authorization");
  const postId = params.get("client_id");
  const postSecret = params.get("client_secret");
  if (header !== null) {
    if (postSecret !== undefined)
      throw invalidRequest(
        "Use one client authentication method, not client_secret_basic and client_secret_post",
      );
    const basic = parseBasic(header);
    if (!basic) throw invalidClient("Malformed client credentials");
    if (postId !== undefined && postId !== basic.clientId)
      throw invalidRequest("client_id does not match the authenticated client");
    return { method: "client_secret_basic", ...basic };
  }
  if (postId === undefined) throw invalidClient("Client authentication required");
  if (postSecret === undefined) return { method: "none", clientId: postId };
  return { method: "client_secret_post", clientId: postId, clientSecret: postSecret };
}

/**
 * Client authentication shared by token, revocation and introspection; checked before anything else.
 * `methods` are the ones the endpoint (or grant) accepts, exactly what metadata advertises for it; a
 * public client's `none` elsewhere is a request without client authentication (invalid_client).
 * A client known to this process costs no query here, nor does `none`: the grant's read re-checks it
 * (see `AuthenticatedClient`).
 */
export async function authenticateClientRequest(
  deps: Deps,
  request: Request,
  params: Params,
  methods: readonly TokenEndpointAuthMethod[],
): Promise<AuthenticatedClient> {
  const credentials = extractClientCredentials(request, params);
  if (!methods.includes(credentials.method)) throw invalidClient("Client authentication required");
  const client =
    credentials.method === "none"
      ? clientWithoutSecret(credentials.clientId)
      : await authenticateClientCached(deps.db, credentials.clientId, credentials.clientSecret);
  if (!client) throw invalidClient();
  return client;
}
