import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { apiCodeOf, messageOf } from "../errors.ts";
import { Link } from "../router.tsx";
import { useTRPC } from "../trpc.ts";
import { AppIcon } from "../ui/app-icon.tsx";
import { CopyField } from "../ui/copy-field.tsx";
import { BotSection } from "./bot-section.tsx";
import { DeleteApplication } from "./delete-application.tsx";
import { takeFreshCredentials } from "./fresh-credentials.ts";
import { GeneralInformation } from "./general-information.tsx";
import { OAuth2Section } from "./oauth2-section.tsx";
import { SecurityEvents } from "./security-events.tsx";
import { UrlGenerator } from "./url-generator.tsx";

/** Shown right after Create: the only time the secret and bot token of a new application are visible. */
function NewCredentials({ id }: { id: string }) {
  const [credentials] = useState(() => takeFreshCredentials(id));
  if (!credentials) return null;
  return (
    <section className="card fresh" aria-label="New credentials">
      <p>Your application is ready. Copy its credentials now: they are shown only once.</p>
      {credentials.clientSecret ? (
        <CopyField label="Client secret" value={credentials.clientSecret} onceOnly />
      ) : null}
      {credentials.botToken ? <CopyField label="Bot token" value={credentials.botToken} onceOnly /> : null}
    </section>
  );
}

export function ApplicationPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const application = useQuery(trpc.applications.get.queryOptions({ id }));
  // Bumped by "Reload" after a lost version race: every section starts again from the stored application.
  const [generation, setGeneration] = useState(0);
  const reload = async () => {
    await application.refetch();
    setGeneration((value) => value + 1);
  };

  if (application.isPending) return <p className="muted">Loading…</p>;
  if (application.error) {
    const missing = ["UNKNOWN_APPLICATION", "ACCESS_DENIED", "NOT_FOUND"].includes(
      apiCodeOf(application.error) ?? "",
    );
    return (
      <>
        <h1>{missing ? "Application not found" : "Could not load the application"}</h1>
        <p>{messageOf(application.error)}</p>
        <p>
          <Link to="/developers/applications">Back to applications</Link>
        </p>
      </>
    );
  }

  const app = application.data;
  return (
    <>
      <p>
        <Link to="/developers/applications">← Applications</Link>
      </p>
      <div className="page-title">
        <AppIcon application={app} size="large" />
        <h1>{app.name}</h1>
      </div>
      <NewCredentials id={id} />
      <div key={generation} className="sections">
        <GeneralInformation application={app} onReload={reload} />
        <OAuth2Section application={app} onReload={reload} />
        <UrlGenerator application={app} />
        <BotSection application={app} onReload={reload} />
        <SecurityEvents id={id} />
        <DeleteApplication application={app} />
      </div>
    </>
  );
}
