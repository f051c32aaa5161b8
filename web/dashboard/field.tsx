// Form fields with the API's validation problems shown under them, and the problems no field claims.
import type { ComponentChildren } from 'preact';
import type { FieldProblems } from './forms.js';

/** The id of the input for the field at `path` (a JSON pointer), for its label. */
export const fieldId = (path: string) => `f${path.replace(/\//g, '-')}`;

/** A labelled field with the API's problems for `path` under it. */
export function Field({
  label,
  path,
  problems,
  children,
}: {
  label: string;
  path: string;
  problems: FieldProblems;
  children: ComponentChildren;
}) {
  const errs = problems.at(path);
  return (
    <div class={`field${errs.length > 0 ? ' invalid' : ''}`} data-field={path}>
      <label for={fieldId(path)}>{label}</label>
      {children}
      {errs.length > 0 && (
        <ul class="field-error">
          {errs.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function General({ problems }: { problems: FieldProblems }) {
  if (problems.general.length === 0) return null;
  return (
    <ul class="field-error" data-field="">
      {problems.general.map((m) => (
        <li key={m}>{m}</li>
      ))}
    </ul>
  );
}
