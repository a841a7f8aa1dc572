// Types only: the client bundle never contains server code.
import type { AppRouter } from "@fluxer/server/src/trpc/router.ts";
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export interface ClientOptions {
  /** Server base URL, e.g. "https://auth.example.com" (the client appends /trpc). */
  url: string;
  /** Session token (`flx_…`), or a function returning the current one. */
  token?: string | null | (() => string | null | undefined);
  fetch?: typeof fetch;
}

/** The typed tRPC client of `/trpc`; a wrong input type is a compile error. */
export function createClient(options: ClientOptions): TRPCClient<AppRouter> {
  const base = options.url.replace(/\/+$/, "");
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${base}/trpc`,
        fetch: options.fetch,
        headers: () => {
          const token = typeof options.token === "function" ? options.token() : options.token;
          return token ? { authorization: token } : {};
        },
      }),
    ],
  });
}

export type FluxerClient = TRPCClient<AppRouter>;
