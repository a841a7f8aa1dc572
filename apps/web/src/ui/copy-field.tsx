import { useId, useState } from "react";

interface CopyFieldProps {
  label: string;
  value: string;
  /** Secrets: warn that the value cannot be shown again. */
  onceOnly?: boolean;
}

/** A read-only value with a Copy button; secrets carry the "shown only once" warning. */
export function CopyField({ label, value, onceOnly }: CopyFieldProps) {
  const id = useId();
  const [status, setStatus] = useState("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setStatus("Copied");
    } catch {
      setStatus("Copy failed: select the text and copy it by hand");
    }
  };
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input
          id={id}
          type="text"
          readOnly
          value={value}
          className="mono"
          onFocus={(e) => e.target.select()}
        />
        <button type="button" className="secondary" onClick={copy} aria-label={`Copy ${label}`}>
          Copy
        </button>
      </div>
      <span role="status" className="muted">
        {status}
      </span>
      {onceOnly ? (
        <p className="warning">
          This {label.toLowerCase()} is shown only once. Copy it now and keep it safe.
        </p>
      ) : null}
    </div>
  );
}
