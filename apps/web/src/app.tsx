import { QueryClientProvider, useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApplicationPage } from "./application/application-page.tsx";
import { ApplicationsPage } from "./applications/applications-page.tsx";
import { AuthorizedAppsPage } from "./authorized-apps/authorized-apps-page.tsx";
import { Link, usePath } from "./router.tsx";
import { createQueryClient, TRPCProvider, trpcClient, useTRPC } from "./trpc.ts";

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <Layout />
      </TRPCProvider>
    </QueryClientProvider>
  );
}

const APPLICATION_PATH = /^\/developers\/applications\/(\d{1,20})$/;

function Page({ path }: { path: string }) {
  if (path === "/developers/applications") return <ApplicationsPage />;
  const application = APPLICATION_PATH.exec(path);
  if (application?.[1]) return <ApplicationPage key={application[1]} id={application[1]} />;
  if (path === "/settings/authorized-apps") return <AuthorizedAppsPage />;
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link to="/developers/applications">Go to your applications</Link>
      </p>
    </>
  );
}

function Layout() {
  const path = usePath();
  const trpc = useTRPC();
  const me = useQuery(trpc.users.me.queryOptions());
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({ onSettled: () => window.location.assign("/login") }),
  );

  // Each page announces itself: the document title follows the route.
  useEffect(() => {
    document.title = path.startsWith("/settings") ? "Authorized apps · Fluxer" : "Applications · Fluxer";
  }, [path]);

  return (
    <>
      <header className="top">
        <a className="brand" href="/">
          Fluxer
        </a>
        <nav aria-label="Main">
          <Link
            to="/developers/applications"
            aria-current={path.startsWith("/developers") ? "page" : undefined}
          >
            Applications
          </Link>
          <Link
            to="/settings/authorized-apps"
            aria-current={path.startsWith("/settings") ? "page" : undefined}
          >
            Authorized apps
          </Link>
        </nav>
        <div className="account">
          {me.data ? <span className="muted">{me.data.username}</span> : null}
          <button type="button" className="link" onClick={() => logout.mutate()} disabled={logout.isPending}>
            Sign out
          </button>
        </div>
      </header>
      <main className="page">
        <Page path={path} />
      </main>
    </>
  );
}
