import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";

// Placeholder: filled in by its issue.
export function pagesRoutes(_deps: Deps) {
  return new Elysia({ name: "pages" });
}
