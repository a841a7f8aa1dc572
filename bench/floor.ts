/**
 * The floor: the least a token endpoint must do per request, as a bare Bun.serve + postgres.js server
 * (no framework, no validation, no client authentication). `bun run bench` starts it next to the real
 * server and reports every scenario as a ratio to the matching floor:
 * - POST /insert: 32 random bytes → SHA-256 → INSERT one row (what issuing a token costs at least);
 * - GET /select: SHA-256 of the bearer token → SELECT one row by primary key (what checking one costs).
 * Usage: bun bench/floor.ts <port> <database url>
 */
import postgres from "postgres";

const port = Number(process.argv[2]);
const databaseUrl = process.argv[3];
if (!databaseUrl || !Number.isInteger(port))
  throw new Error("usage: bun bench/floor.ts <port> <database url>");

// The same pool size as the server's (apps/server/src/db/database.ts).
const sql = postgres(databaseUrl, { max: 20, onnotice: () => {} });
await sql`create table if not exists bench_floor (token_hash text primary key, created_at timestamptz not null)`;

// Hex, as the server stores token hashes (apps/server/src/crypto.ts).
const sha256 = (bytes: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

Bun.serve({
  port,
  hostname: "127.0.0.1",
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/insert") {
      const tokenHash = sha256(crypto.getRandomValues(new Uint8Array(32)));
      await sql`insert into bench_floor (token_hash, created_at) values (${tokenHash}, ${new Date()})`;
      return Response.json({ ok: true });
    }
    if (path === "/select") {
      const token = request.headers.get("authorization")?.slice("Bearer ".length) ?? "";
      const rows =
        await sql`select token_hash, expires_at from access_tokens where token_hash = ${sha256(token)}`;
      return rows.length === 1 ? Response.json({ ok: true }) : new Response("not found", { status: 404 });
    }
    return new Response("not found", { status: 404 });
  },
});
// A clean exit on SIGTERM, so a CPU profile (`bun --cpu-prof`) gets written.
process.on("SIGTERM", () => process.exit(0));
console.log(`floor listening on ${port}`);
