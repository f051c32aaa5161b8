// The ad editor (with its targeting-rule editor): sends what was typed and shows the API's
// validation problems next to their fields. The API is the single source of truth, and a refused
// request saves nothing.
import { useState } from 'preact/hooks';
import { AD_FIELDS, type AdForm, adBody, adForm } from './ad-form.js';
import type { Ad } from './api.js';
import { Field, fieldId, General } from './field.js';
import { type FieldProblems, fieldProblems, NO_PROBLEMS } from './forms.js';
import { submit } from './submit.js';
import { TargetingEditor } from './targeting-editor.js';
import { targetingRule, targetingState } from './targeting-state.js';

/** Creates an ad (`ad` null) or edits one; `onSaved` after a successful save. */
export function AdEditor({
  ad,
  onSaved,
  onCancel,
}: {
  ad: Ad | null;
  onSaved: (ad: Ad) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState(() => adForm(ad));
  const [targeting, setTargeting] = useState(() => targetingState(ad?.targeting ?? null));
  const [problems, setProblems] = useState<FieldProblems>(NO_PROBLEMS);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<AdForm>) => setForm({ ...form, ...patch });
  const input = (k: keyof AdForm, path: string, extra: Record<string, unknown> = {}) => (
    <input
      id={fieldId(path)}
      name={k}
      value={form[k]}
      aria-invalid={problems.at(path).length > 0}
      onInput={(e) => set({ [k]: e.currentTarget.value })}
      {...extra}
    />
  );

  const save = async (e: Event) => {
    e.preventDefault();
    const r = targetingRule(targeting);
    if ('error' in r) {
      setProblems(fieldProblems([{ path: '/targeting', message: r.error }], AD_FIELDS));
      setNotice('Not saved: fix the problems shown.');
      return;
    }
    setBusy(true);
    setNotice(null);
    const result = await submit<Ad>(
      ad === null ? 'POST' : 'PATCH',
      ad === null ? '/v1/ads' : `/v1/ads/${encodeURIComponent(ad.id)}`,
      adBody(form, r.rule, ad === null),
      AD_FIELDS,
    );
    setBusy(false);
    if ('saved' in result) {
      setProblems(NO_PROBLEMS);
      onSaved(result.saved);
    } else {
      setProblems(result.problems);
      setNotice(result.notice);
    }
  };

  return (
    <section class="card form-card" id="ad-editor">
      <h2>{ad === null ? 'New ad' : `Edit ad ${ad.id}`}</h2>
      <form onSubmit={save} class="form">
        {ad === null && (
          <Field label="Id (optional)" path="/id" problems={problems}>
            {input('id', '/id', { placeholder: 'generated when empty' })}
          </Field>
        )}
        <Field label="Name" path="/name" problems={problems}>
          {input('name', '/name')}
        </Field>
        <Field label="Status" path="/status" problems={problems}>
          <select
            id={fieldId('/status')}
            name="status"
            value={form.status}
            onChange={(e) => set({ status: e.currentTarget.value as 'active' | 'paused' })}
          >
            <option value="active">active</option>
            <option value="paused">paused</option>
          </select>
        </Field>
        <Field label="Click URL" path="/clickUrl" problems={problems}>
          {input('clickUrl', '/clickUrl', { placeholder: 'https://advertiser.example.com/landing' })}
        </Field>
        <fieldset class="creative" data-field="/creative">
          <legend>Creative</legend>
          <Field label="Type" path="/creative/type" problems={problems}>
            <select
              id={fieldId('/creative/type')}
              name="type"
              value={form.type}
              onChange={(e) => set({ type: e.currentTarget.value as 'image' | 'html' })}
            >
              <option value="image">image</option>
              <option value="html">HTML</option>
            </select>
          </Field>
          {form.type === 'image' ? (
            <Field label="Image URL" path="/creative/url" problems={problems}>
              {input('url', '/creative/url')}
            </Field>
          ) : (
            <Field label="HTML" path="/creative/html" problems={problems}>
              <textarea
                id={fieldId('/creative/html')}
                name="html"
                rows={4}
                value={form.html}
                aria-invalid={problems.at('/creative/html').length > 0}
                onInput={(e) => set({ html: e.currentTarget.value })}
              />
            </Field>
          )}
          <div class="pair">
            <Field label="Width (px)" path="/creative/width" problems={problems}>
              {input('width', '/creative/width', { inputMode: 'numeric' })}
            </Field>
            <Field label="Height (px)" path="/creative/height" problems={problems}>
              {input('height', '/creative/height', { inputMode: 'numeric' })}
            </Field>
          </div>
          {form.type === 'image' && (
            <Field label="Alt text (optional)" path="/creative/alt" problems={problems}>
              {input('alt', '/creative/alt')}
            </Field>
          )}
          {problems.at('/creative').length > 0 && (
            <ul class="field-error">
              {problems.at('/creative').map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
        </fieldset>
        <div class="pair">
          <Field label="Start (optional, local time)" path="/startAt" problems={problems}>
            {input('startAt', '/startAt', { type: 'datetime-local' })}
          </Field>
          <Field label="End (optional)" path="/endAt" problems={problems}>
            {input('endAt', '/endAt', { type: 'datetime-local' })}
          </Field>
        </div>
        <fieldset data-field="/frequencyCap">
          <legend>Frequency cap (optional, per user)</legend>
          <div class="pair">
            <Field label="Impressions" path="/frequencyCap/impressions" problems={problems}>
              {input('capImpressions', '/frequencyCap/impressions', { inputMode: 'numeric' })}
            </Field>
            <Field label="per window (seconds)" path="/frequencyCap/windowSeconds" problems={problems}>
              {input('capWindow', '/frequencyCap/windowSeconds', { inputMode: 'numeric' })}
            </Field>
          </div>
          {problems.at('/frequencyCap').length > 0 && (
            <ul class="field-error">
              {problems.at('/frequencyCap').map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
        </fieldset>
        <TargetingEditor value={targeting} onChange={setTargeting} problems={problems} />
        <General problems={problems} />
        <div class="actions">
          <button type="submit" id="ad-save" class="primary" disabled={busy}>
            Save
          </button>
          <button type="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        </div>
        {notice !== null && (
          <p class="notice" id="ad-notice" role="status">
            {notice}
          </p>
        )}
      </form>
    </section>
  );
}
