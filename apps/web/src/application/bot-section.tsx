import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTRPC } from "../trpc.ts";
import { Section } from "../ui/section.tsx";
import { ResetCredential } from "./reset-credential.tsx";
import { SaveStatus } from "./save-status.tsx";
import { type Application, useApplicationRefresh, useApplicationUpdate } from "./use-application-update.ts";

function BotSettings({ application, onReload }: { application: Application; onReload: () => void }) {
  const update = useApplicationUpdate();
  const [botPublic, setBotPublic] = useState(application.bot_public);
  const [requireCodeGrant, setRequireCodeGrant] = useState(application.bot_require_code_grant);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({
      id: application.id,
      version: application.version,
      bot_public: botPublic,
      bot_require_code_grant: requireCodeGrant,
    });
  };
  return (
    <form onSubmit={submit}>
      <label className="check">
        <input type="checkbox" checked={botPublic} onChange={(event) => setBotPublic(event.target.checked)} />{" "}
        Public bot
      </label>
      <p className="hint">Anyone can add the bot; otherwise only you can.</p>
      <label className="check">
        <input
          type="checkbox"
          checked={requireCodeGrant}
          onChange={(event) => setRequireCodeGrant(event.target.checked)}
        />{" "}
        Requires OAuth2 code grant
      </label>
      <p className="hint">Adding the bot goes through the full authorization code flow.</p>
      <div className="row">
        <button type="submit" disabled={update.isPending}>
          Save bot settings
        </button>
        <SaveStatus error={update.error} saved={update.isSuccess} onReload={onReload} />
      </div>
    </form>
  );
}

function ResetBotToken({ application }: { application: Application }) {
  const trpc = useTRPC();
  const refresh = useApplicationRefresh();
  const reset = useMutation(trpc.applications.resetBotToken.mutationOptions({ onSuccess: refresh }));
  return (
    <ResetCredential
      title="Token"
      credentialLabel="Bot token"
      resetLabel="Reset token"
      hint="Resetting makes the current bot token stop working at once."
      value={reset.data?.bot_token}
      pending={reset.isPending}
      error={reset.error}
      onReset={(password, done) => reset.mutate({ id: application.id, password }, { onSuccess: done })}
    />
  );
}

export function BotSection({ application, onReload }: { application: Application; onReload: () => void }) {
  return (
    <Section title="Bot">
      <BotSettings application={application} onReload={onReload} />
      <ResetBotToken application={application} />
    </Section>
  );
}
