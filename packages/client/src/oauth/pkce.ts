/** Random values and the PKCE S256 challenge (RFC 7636) with WebCrypto: browsers, Node ≥ 20, Bun. */

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** 32 random bytes, base64url: 43 characters, a valid code verifier, state or nonce. */
export function generateRandomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function computeS256Challenge(codeVerifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier));
  return base64url(new Uint8Array(digest));
}
