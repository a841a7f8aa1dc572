import { Elysia } from "elysia";

/** A white "F" on the brand colour, drawn with one path so it needs no font. */
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#5865f2"/>' +
  '<path fill="#fff" d="M10 7h13v4h-9v4h7v4h-7v6h-4z"/></svg>';

const FAVICON_BYTES = new TextEncoder().encode(FAVICON_SVG);

function faviconResponse(): Response {
  return new Response(FAVICON_BYTES, {
    headers: {
      "Content-Type": "image/svg+xml",
      "Cache-Control": "public, max-age=31536000, immutable",
    },
  });
}

/**
 * `GET /favicon.svg`, which every page links, and `GET /favicon.ico`, which browsers and crawlers
 * ask for on their own: the same SVG (browsers go by Content-Type, not the extension), never a 404.
 */
export function faviconRoutes() {
  return new Elysia({ name: "favicon" })
    .get("/favicon.svg", faviconResponse)
    .get("/favicon.ico", faviconResponse);
}
