/**
 * Builds the publishable package: ESM JavaScript for browsers, Node ≥ 20 and Bun (Bun's bundler),
 * and one bundled declaration file per entry (rollup + rollup-plugin-dts) with the router types
 * inlined. Fails if a declaration file would reach for anything but the @trpc/* peer dependencies.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";

const root = import.meta.dir;
const dist = join(root, "dist");
const entries = { index: "src/index.ts", oauth: "src/oauth.ts" };
const peers = ["@trpc/client", "@trpc/server"];
/** Runtime dependencies stay imports (installed next to the package); jose validates ID tokens. */
const dependencies = ["jose"];

rmSync(dist, { recursive: true, force: true });

const js = await Bun.build({
  entrypoints: Object.values(entries).map((entry) => join(root, entry)),
  root: join(root, "src"),
  outdir: dist,
  target: "browser",
  format: "esm",
  external: [...peers.map((peer) => `${peer}*`), ...dependencies],
});
if (!js.success) throw new AggregateError(js.logs, "JavaScript build failed");

/**
 * The router's types come from the server's source. Its modules are resolved to their real paths
 * (not the workspace symlink, so @trpc/server's types exist once) and inlined; its request context
 * becomes the public stand-in of build/context.d.ts. Only types a procedure's input or output names
 * survive rollup-plugin-dts's tree-shaking; everything from node_modules stays an import, and the
 * check below allows none but the peers.
 */
const serverRoot = join(root, "..", "..", "apps", "server");
const serverSource = join(serverRoot, "src");
const serverContext = join(serverRoot, "src", "trpc", "context.ts");
const publicContext = join(root, "build", "context.d.ts");

const bundle = await rollup({
  input: Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, join(root, entry)])),
  plugins: [
    {
      name: "server-types",
      resolveId(source, importer) {
        let path: string;
        if (source.startsWith("@fluxer/server/"))
          path = join(serverRoot, source.slice("@fluxer/server/".length));
        else if (importer?.startsWith(serverSource) && source.startsWith("."))
          path = join(importer, "..", source);
        else return null;
        if (!path.endsWith(".ts")) path += ".ts";
        return path === serverContext ? publicContext : path;
      },
    },
    dts({ tsconfig: join(root, "tsconfig.json") }),
  ],
  external: (id) => peers.some((peer) => id === peer || id.startsWith(`${peer}/`)),
});
await bundle.write({
  dir: dist,
  format: "es",
  entryFileNames: "[name].d.ts",
  chunkFileNames: "[name]-[hash].d.ts",
});
await bundle.close();

for (const name of Object.keys(entries)) {
  const text = readFileSync(join(dist, `${name}.d.ts`), "utf8");
  const imports = [...text.matchAll(/from\s+["']([^"']+)["']|import\(["']([^"']+)["']\)/g)].map(
    (match) => match[1] ?? match[2] ?? "",
  );
  const foreign = imports.filter((id) => !peers.some((peer) => id === peer || id.startsWith(`${peer}/`)));
  if (foreign.length > 0) throw new Error(`dist/${name}.d.ts imports ${foreign.join(", ")}`);
  if (text.includes("apps/server")) throw new Error(`dist/${name}.d.ts names a server path`);
}
console.log(
  `built ${Object.keys(entries)
    .map((name) => `dist/${name}.{js,d.ts}`)
    .join(", ")}`,
);
