import { type ChangeEvent, type FormEvent, useState } from "react";
import { apiCodeOf, fieldErrorsOf } from "../errors.ts";
import { AppIcon } from "../ui/app-icon.tsx";
import { CopyField } from "../ui/copy-field.tsx";
import { Field } from "../ui/field.tsx";
import { Section } from "../ui/section.tsx";
import { SaveStatus } from "./save-status.tsx";
import { type Application, useApplicationUpdate } from "./use-application-update.ts";

const ICON_TYPES = "image/png,image/jpeg,image/gif,image/webp";

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export function GeneralInformation({
  application,
  onReload,
}: {
  application: Application;
  onReload: () => void;
}) {
  const update = useApplicationUpdate();
  const [name, setName] = useState(application.name);
  const [description, setDescription] = useState(application.description ?? "");
  const [terms, setTerms] = useState(application.terms_of_service_url ?? "");
  const [privacy, setPrivacy] = useState(application.privacy_policy_url ?? "");
  // undefined: unchanged; null: remove; a data: URI: the new icon.
  const [icon, setIcon] = useState<string | null | undefined>(undefined);

  const chooseIcon = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) setIcon(await readAsDataUrl(file));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate(
      {
        id: application.id,
        version: application.version,
        name,
        description: description || null,
        terms_of_service_url: terms || null,
        privacy_policy_url: privacy || null,
        ...(icon === undefined ? {} : { icon }),
      },
      { onSuccess: () => setIcon(undefined) },
    );
  };

  const errors = fieldErrorsOf(update.error);
  const iconError = apiCodeOf(update.error) === "INVALID_ICON" ? update.error?.message : errors.icon;
  const hasFieldErrors = Object.values(errors).some(Boolean) || Boolean(iconError);
  const preview =
    icon === undefined ? (
      <AppIcon application={application} size="large" />
    ) : icon === null ? (
      <AppIcon application={{ ...application, icon_hash: null }} size="large" />
    ) : (
      <img className="app-icon large" src={icon} alt="" width={64} height={64} />
    );

  return (
    <Section title="General information">
      <form onSubmit={submit} noValidate>
        <div className="icon-row">
          {preview}
          <div>
            <Field label="Icon" error={iconError} hint="PNG, JPEG, GIF or WebP, up to 1 MiB.">
              <input type="file" accept={ICON_TYPES} onChange={chooseIcon} />
            </Field>
            {application.icon_hash || icon ? (
              <button type="button" className="link" onClick={() => setIcon(null)}>
                Remove icon
              </button>
            ) : null}
          </div>
        </div>
        <Field label="Name" error={errors.name}>
          <input
            type="text"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </Field>
        <Field label="Description" error={errors.description}>
          <textarea
            maxLength={400}
            rows={3}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </Field>
        <Field label="Terms of Service URL" error={errors.terms_of_service_url}>
          <input type="url" placeholder="https://" value={terms} onChange={(e) => setTerms(e.target.value)} />
        </Field>
        <Field label="Privacy Policy URL" error={errors.privacy_policy_url}>
          <input
            type="url"
            placeholder="https://"
            value={privacy}
            onChange={(e) => setPrivacy(e.target.value)}
          />
        </Field>
        <div className="row">
          <button type="submit" disabled={update.isPending}>
            Save changes
          </button>
          <SaveStatus
            error={update.error}
            saved={update.isSuccess}
            shownFieldErrors={hasFieldErrors}
            onReload={onReload}
          />
        </div>
      </form>
      <CopyField label="Client ID" value={application.id} />
      <CopyField label="Public key" value={application.verify_key} />
    </Section>
  );
}
