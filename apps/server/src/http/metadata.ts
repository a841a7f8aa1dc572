import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";

// Placeholder: filled in by its issue.
export function metadataRoutes(_deps: Deps) {
  return new Elysia({ name: "metadata" });
}
