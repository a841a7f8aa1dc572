import { useState } from "react";
import { CopyField } from "../ui/copy-field.tsx";
import { SudoForm } from "../ui/sudo-form.tsx";

interface ResetCredentialProps {
  title: string;
  /** Names the new value's field, e.g. "Client secret". */
  credentialLabel: string;
  /** The button that starts the reset, e.g. "Reset secret". */
  resetLabel: string;
  hint: string;
  /** The new credential after a successful reset: shown once, never fetched again. */
  value: string | undefined;
  pending: boolean;
  error: unknown;
  onReset: (password: string, done: () => void) => void;
}

/** Reset a secret or token: ask for the password, then show the new value once with Copy. */
export function ResetCredential(props: ResetCredentialProps) {
  const [open, setOpen] = useState(false);
  return (
    <div className="subsection">
      <h3>{props.title}</h3>
      {props.value ? <CopyField label={props.credentialLabel} value={props.value} onceOnly /> : null}
      {open ? (
        <SudoForm
          confirmLabel="Confirm"
          danger
          pending={props.pending}
          error={props.error}
          onConfirm={(password) => props.onReset(password, () => setOpen(false))}
          onCancel={() => setOpen(false)}
        />
      ) : (
        <>
          <p className="hint">{props.hint}</p>
          <button type="button" className="secondary" onClick={() => setOpen(true)}>
            {props.resetLabel}
          </button>
        </>
      )}
    </div>
  );
}
