// The placement editor (new placement or settings): sends what was typed and shows the API's
// validation problems next to their fields.
import { useState } from 'preact/hooks';
import type { Ad, Placement } from './api.js';
import { Field, fieldId, General } from './field.js';
import { type FieldProblems, NO_PROBLEMS, numberOf } from './forms.js';
import { submit } from './submit.js';

/** The allocation window lengths the API accepts (hours). */
export const WINDOW_LENGTHS = [1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 96, 120, 144, 168];

const PLACEMENT_FIELDS = [
  '/id',
  '/name',
  '/fallbackAdId',
  '/window',
  '/window/lengthHours',
  '/window/timeZone',
];

/** Creates a placement (`placement` null) or edits one. */
export function PlacementEditor({
  placement,
  ads,
  onSaved,
  onCancel,
}: {
  placement: Placement | null;
  ads: Ad[];
  onSaved: (p: Placement) => void;
  onCancel?: () => void;
}) {
  const [id, setId] = useState('');
  const [name, setName] = useState(placement?.name ?? '');
  const [fallback, setFallback] = useState(placement?.fallbackAdId ?? '');
  const [lengthHours, setLengthHours] = useState(String(placement?.window.lengthHours ?? 24));
  const [timeZone, setTimeZone] = useState(placement?.window.timeZone ?? 'UTC');
  const [problems, setProblems] = useState<FieldProblems>(NO_PROBLEMS);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const zones =
    (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setNotice(null);
    const body = {
      ...(placement === null && id.trim() !== '' ? { id: id.trim() } : {}),
      name,
      fallbackAdId: fallback === '' ? null : fallback,
      window: { lengthHours: numberOf(lengthHours) ?? '', timeZone },
    };
    const result = await submit<Placement>(
      placement === null ? 'POST' : 'PATCH',
      placement === null ? '/v1/placements' : `/v1/placements/${encodeURIComponent(placement.id)}`,
      body,
      PLACEMENT_FIELDS,
    );
    setBusy(false);
    if ('saved' in result) {
      setProblems(NO_PROBLEMS);
      setNotice(placement === null ? null : 'Saved.');
      onSaved(result.saved);
    } else {
      setProblems(result.problems);
      setNotice(result.notice);
    }
  };

  return (
    <section class="card form-card" id="placement-editor">
      <h2>{placement === null ? 'New placement' : 'Placement settings'}</h2>
      <form onSubmit={save} class="form">
        {placement === null && (
          <Field label="Id (optional)" path="/id" problems={problems}>
            <input
              id={fieldId('/id')}
              name="id"
              value={id}
              placeholder="generated when empty"
              aria-invalid={problems.at('/id').length > 0}
              onInput={(e) => setId(e.currentTarget.value)}
            />
          </Field>
        )}
        <Field label="Name" path="/name" problems={problems}>
          <input
            id={fieldId('/name')}
            name="name"
            value={name}
            aria-invalid={problems.at('/name').length > 0}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <Field label="Fallback (house) ad" path="/fallbackAdId" problems={problems}>
          <select
            id={fieldId('/fallbackAdId')}
            name="fallbackAdId"
            value={fallback}
            onChange={(e) => setFallback(e.currentTarget.value)}
          >
            <option value="">none</option>
            {ads.map((a) => (
              <option key={a.id} value={a.id}>
                {a.id} — {a.name}
              </option>
            ))}
          </select>
        </Field>
        <div class="pair">
          <Field label="Window length" path="/window/lengthHours" problems={problems}>
            <select
              id={fieldId('/window/lengthHours')}
              name="lengthHours"
              value={lengthHours}
              onChange={(e) => setLengthHours(e.currentTarget.value)}
            >
              {WINDOW_LENGTHS.map((h) => (
                <option key={h} value={String(h)}>
                  {h} h
                </option>
              ))}
            </select>
          </Field>
          <Field label="Time zone" path="/window/timeZone" problems={problems}>
            <input
              id={fieldId('/window/timeZone')}
              name="timeZone"
              list="time-zones"
              value={timeZone}
              aria-invalid={problems.at('/window/timeZone').length > 0}
              onInput={(e) => setTimeZone(e.currentTarget.value)}
            />
            <datalist id="time-zones">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </Field>
        </div>
        {problems.at('/window').length > 0 && (
          <ul class="field-error">
            {problems.at('/window').map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        )}
        <General problems={problems} />
        <div class="actions">
          <button type="submit" id="placement-save" class="primary" disabled={busy}>
            Save
          </button>
          {onCancel !== undefined && (
            <button type="button" onClick={onCancel} disabled={busy}>
              Cancel
            </button>
          )}
        </div>
        {notice !== null && (
          <p class="notice" id="placement-notice" role="status">
            {notice}
          </p>
        )}
      </form>
    </section>
  );
}
