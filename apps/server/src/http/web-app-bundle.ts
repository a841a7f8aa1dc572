import { watch } from "node:fs";
import { fileURLToPath } from "node:url";

/** The web app's sources (apps/web); bundled in process, so `bun run start` needs no build step. */
const WEB_SOURCE = fileURLToPath(new URL("../../../web/src/", import.meta.url));
const ENTRY = `${WEB_SOURCE}main.tsx`;

export interface WebAsset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

export interface WebBundle {
  /** Content-hashed file names, served under /assets/ with immutable caching. */
  assets: Map<string, WebAsset>;
  script: string;
  stylesheet: string | null;
}

export class WebBundleError extends Error {}

async function buildWebBundle(): Promise<WebBundle> {
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "browser",
    minify: true,
    // In the monorepo, @fluxer/client resolves to its sources (see packages/client/package.json).
    conditions: ["fluxer-source"],
    naming: { entry: "[name]-[hash].[ext]", chunk: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]" },
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    throw: false,
  });
  if (!result.success) {
    throw new WebBundleError(result.logs.map((log) => String(log)).join("\n") || "web app build failed");
  }
  const assets = new Map<string, WebAsset>();
  let script: string | null = null;
  let stylesheet: string | null = null;
  for (const output of result.outputs) {
    const name = output.path.replace(/^.*\//, "");
    assets.set(name, { body: new Uint8Array(await output.arrayBuffer()), contentType: output.type });
    if (output.kind === "entry-point") script = name;
    else if (name.endsWith(".css")) stylesheet = name;
  }
  if (!script) throw new WebBundleError("web app build produced no entry point");
  return { assets, script, stylesheet };
}

let pending: Promise<WebBundle> | null = null;
let watching = false;

/**
 * The bundle is built once per process, on first use (tests that never open the web app never pay
 * for it). With `watch`, a change under apps/web/src drops it, so the next page load rebuilds.
 */
export function webBundle(options: { watch: boolean }): Promise<WebBundle> {
  if (options.watch && !watching) {
    watching = true;
    watch(WEB_SOURCE, { recursive: true }, () => {
      pending = null;
    });
  }
  if (!pending) {
    pending = buildWebBundle();
    // A failed build is not cached: the next request tries again (e.g. after a fix in dev).
    pending.catch(() => {
      pending = null;
    });
  }
  return pending;
}
