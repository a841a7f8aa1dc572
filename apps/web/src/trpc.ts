import { type AppRouter, createClient } from "@fluxer/client";
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { apiCodeOf } from "./errors.ts";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

/**
 * Same origin as the server: the session cookie set by /login authenticates every call, so no token
 * ever lives in JavaScript or in storage.
 */
export const trpcClient = createClient({ url: window.location.origin });

/** A session that ended while the app was open sends the user to sign in and back here. */
function signInAgainOnUnauthorized(error: unknown): void {
  if (apiCodeOf(error) !== "UNAUTHORIZED") return;
  const here = window.location.pathname + window.location.search;
  window.location.assign(`/login?return_to=${encodeURIComponent(here)}`);
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: signInAgainOnUnauthorized }),
    mutationCache: new MutationCache({ onError: signInAgainOnUnauthorized }),
    defaultOptions: {
      // A 4xx answer (not found, forbidden, rate limited) does not get better by asking again.
      queries: {
        retry: (failures, error) => apiCodeOf(error) === null && failures < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
}
