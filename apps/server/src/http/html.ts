/**
 * Server-rendered HTML with escaping by construction: every value interpolated into `html` is escaped
 * unless it is itself the result of `html` (or `raw`, which only this module's callers use for
 * constant markup). There is no other way to put text into a page.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (char) => ESCAPES[char] ?? char);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#1e1f24;color:#e8e8ea;margin:0;
padding:16px;box-sizing:border-box;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#2b2d33;border-radius:12px;padding:28px 32px;width:100%;max-width:420px;box-sizing:border-box;
box-shadow:0 8px 30px #0006;overflow-wrap:anywhere}
@media (max-width:480px){main{padding:20px}}
h1{font-size:1.3rem;margin:0 0 16px}
label{display:block;margin:12px 0 4px;font-size:.9rem;color:#b5b7bd}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:10px;border-radius:6px;
border:1px solid #444;background:#1e1f24;color:inherit;font-size:1rem}
button{margin-top:18px;padding:10px 16px;border-radius:6px;border:0;font-size:1rem;cursor:pointer;background:#5865f2;color:#fff}
button.secondary{background:#4e5058}
button.link{margin:0;padding:0;background:none;color:#8ea1ff;font-size:inherit;text-decoration:underline}
.actions{display:flex;justify-content:flex-end;flex-wrap:wrap;gap:12px}
.inline{display:inline}
.error{background:#5c2226;color:#ffd7d9;padding:10px;border-radius:6px;margin-bottom:12px}
.app{display:flex;gap:14px;align-items:center;margin-bottom:12px}
.app img,.app .placeholder{width:64px;height:64px;border-radius:50%;background:#5865f2;flex:none}
.scopes{list-style:none;padding:0;margin:8px 0}
.scopes li{padding:6px 0;border-bottom:1px solid #3a3c43}
.scopes label{margin:0;color:inherit;font-size:1rem}
.required{margin-left:6px;padding:1px 6px;border-radius:4px;background:#3a3c43;color:#c9cbd1;font-size:.75rem}
.muted{color:#9a9ca3;font-size:.85rem}
.detail{color:#9a9ca3;font-size:.75rem;margin-top:20px}
.nav{list-style:none;padding:0;margin:12px 0;display:flex;flex-wrap:wrap;gap:8px 20px}
a{color:#8ea1ff}
`;

/** The one page layout: no scripts (the CSP allows none), inline style only. */
export function renderPage(options: { title: string; body: SafeHtml }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Fluxer</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>${new SafeHtml(STYLE)}</style>
</head>
<body><main>${options.body}</main></body>
</html>`.value;
}

/** Pages carry CSRF tokens and per-user content: never cached. Security headers come from app.ts. */
export function htmlResponse(body: string, init: { status?: number; headers?: HeadersInit } = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", "text/html; charset=utf-8");
  headers.set("Cache-Control", "no-store");
  return new Response(body, { status: init.status ?? 200, headers });
}

/**
 * Error pages speak to the person in front of the browser: what happened in plain words, technical
 * detail for developers in small print, and a way onward (home).
 */
export function errorPage(options: {
  status: number;
  title: string;
  message: string;
  detail?: string | null;
}): Response {
  const body = html`<h1>${options.title}</h1>
<p>${options.message}</p>
<p><a href="/">Go to the Fluxer home page</a></p>
${options.detail ? html`<p class="detail">For developers: <code>${options.detail}</code></p>` : ""}`;
  return htmlResponse(renderPage({ title: options.title, body }), { status: options.status });
}

/** Browsers list `text/html`; API clients (JSON, any type, or no Accept at all) keep the JSON envelope. */
export function prefersHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/html");
}

/** The 404 for a browser that opened an address no route answers. */
export function notFoundPage(request: Request): Response {
  return errorPage({
    status: 404,
    title: "Page not found",
    message: "There is nothing at this address. The link may be mistyped, or the page may have moved.",
    detail: `404 Not Found: ${request.method} ${new URL(request.url).pathname}`,
  });
}

/** A state-changing form submission refused before anything was read or written. */
export function refusalPage(message: string): Response {
  return errorPage({ status: 403, title: "Request refused", message });
}

export function crossOriginRefusalPage(): Response {
  return refusalPage("Cross-origin form submission.");
}
