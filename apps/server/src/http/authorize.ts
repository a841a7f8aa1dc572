import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";

// Placeholder: filled in by its issue.
export function authorizeRoutes(_deps: Deps) {
  return new Elysia({ name: "authorize" });
}
