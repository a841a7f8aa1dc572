import { apiCodeOf, messageOf } from "../errors.ts";

interface SaveStatusProps {
  error: unknown;
  saved: boolean;
  /** Fields whose errors are already shown next to the field. */
  shownFieldErrors?: boolean;
  onReload: () => void;
}

/**
 * The outcome of a save: "Saved", a lost version race (with a way to reload, never an overwrite), or
 * the server's message.
 */
export function SaveStatus({ error, saved, shownFieldErrors, onReload }: SaveStatusProps) {
  if (apiCodeOf(error) === "VERSION_CONFLICT") {
    return (
      <div className="conflict" role="alert">
        <p>This application was changed elsewhere. Your changes were not saved.</p>
        <button type="button" className="secondary" onClick={onReload}>
          Reload
        </button>
      </div>
    );
  }
  if (error && !shownFieldErrors) {
    return (
      <p className="form-error" role="alert">
        {messageOf(error)}
      </p>
    );
  }
  return (
    <span role="status" className="muted">
      {saved && !error ? "Saved" : ""}
    </span>
  );
}
