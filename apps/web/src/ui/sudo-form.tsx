import { type FormEvent, useState } from "react";
import { apiCodeOf, messageOf } from "../errors.ts";
import { Field } from "./field.tsx";

interface SudoFormProps {
  /** What the confirm button does, e.g. "Confirm" or "Delete application". */
  confirmLabel: string;
  danger?: boolean;
  pending: boolean;
  error: unknown;
  onConfirm: (password: string) => void;
  onCancel?: () => void;
}

/** Re-authentication for destructive actions: the account password, then one confirm button. */
export function SudoForm({ confirmLabel, danger, pending, error, onConfirm, onCancel }: SudoFormProps) {
  const [password, setPassword] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onConfirm(password);
  };
  const wrongPassword = apiCodeOf(error) === "INVALID_PASSWORD";
  return (
    <form className="sudo" onSubmit={submit}>
      <Field label="Password" error={wrongPassword ? "Wrong password. Nothing was changed." : undefined}>
        <input
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </Field>
      {error && !wrongPassword ? (
        <p className="form-error" role="alert">
          {messageOf(error)}
        </p>
      ) : null}
      <div className="row">
        <button type="submit" className={danger ? "danger" : undefined} disabled={pending}>
          {confirmLabel}
        </button>
        {onCancel ? (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
