import { type ReactNode, useId } from "react";

/** A titled region: screen readers list it by its heading, tests find it by role and name. */
export function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="card">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}
