import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { html } from "./html.ts";
import { readPageSession } from "./page-session.ts";
import { apiErrorResponse, redirectResponse } from "./responses.ts";
import { type WebBundle, webBundle } from "./web-app-bundle.ts";

/**
 * The pages' policy, narrowed to the bundle: scripts and styles only from this origin (no inline code),
 * API calls only to this origin, images from the icon route or a local file preview (data:).
 */
const WEB_APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function shell(bundle: WebBundle): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fluxer Developers</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
${bundle.stylesheet ? html`<link rel="stylesheet" href="/assets/${bundle.stylesheet}">` : ""}
<script type="module" src="/assets/${bundle.script}"></script>
</head>
<body><div id="root"></div></body>
</html>`.value;
}

/**
 * The first-party web app (apps/web): one HTML shell for every client-side route, and its bundle.
 * Signed-out visitors go to /login and come back; the session cookie then signs in the tRPC calls.
 */
export function webAppRoutes(deps: Deps) {
  const page = async ({ request }: { request: Request }) => {
    if (!(await readPageSession(deps, request))) {
      const url = new URL(request.url);
      return redirectResponse(`/login?return_to=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    const bundle = await webBundle({ watch: deps.config.webAppWatch });
    return new Response(shell(bundle), {
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": WEB_APP_CSP,
      },
    });
  };

  return new Elysia({ name: "web-app" })
    .get("/developers", () => redirectResponse("/developers/applications", 302))
    .get("/developers/applications", page)
    .get("/developers/applications/:id", page)
    .get("/settings/authorized-apps", page)
    .get("/assets/:name", async ({ params }) => {
      const bundle = await webBundle({ watch: deps.config.webAppWatch });
      const asset = bundle.assets.get(params.name);
      if (!asset) return apiErrorResponse("NOT_FOUND", "Not found");
      return new Response(asset.body, {
        headers: {
          "Content-Type": asset.contentType,
          // Names carry a content hash: a changed file is a new URL.
          "Cache-Control": "public, max-age=31536000, immutable",
        },
      });
    });
}
