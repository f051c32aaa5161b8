// The ad editor (with its targeting-rule editor) and the placement editor. Both send what was
// typed and show the API's validation problems next to their fields: the API is the single
// source of truth, and a refused request saves nothing.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { type Ad, ApiError, api, type Placement, type Problem } from './api.js';
import {
  type Condition,
  type FieldProblems,
  fieldProblems,
  isoOf,
  localOf,
  NO_PROBLEMS,
  numberOf,
  OPS,
  type Op,
  type Structured,
  structuredOf,
  structuredRule,
} from './forms.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The allocation window lengths the API accepts (hours). */
export const WINDOW_LENGTHS = [1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 96, 120, 144, 168];

const fieldId = (path: string) => `f${path.replace(/\//g, '-')}`;

/** A labelled field with the API's problems for `path` under it. */
function Field({
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

function General({ problems }: { problems: FieldProblems }) {
  if (problems.general.length === 0) return null;
  return (
    <ul class="field-error" data-field="">
      {problems.general.map((m) => (
        <li key={m}>{m}</li>
      ))}
    </ul>
  );
}

/** Sends a form's body; on a validation error, the problems for the fields; else the saved object. */
async function submit<T>(
  method: string,
  path: string,
  body: unknown,
  fields: readonly string[],
): Promise<{ saved: T } | { problems: FieldProblems; notice: string }> {
  try {
    return { saved: await api<T>(method, path, body) };
  } catch (e) {
    const problems: Problem[] = e instanceof ApiError ? e.problems : [];
    return {
      problems: fieldProblems(problems, fields),
      notice: problems.length > 0 ? 'Not saved: fix the problems shown.' : `Not saved: ${message(e)}`,
    };
  }
}

// ── Targeting ────────────────────────────────────────────────────────────────────────────────

export interface TargetingState {
  mode: 'structured' | 'advanced';
  structured: Structured;
  json: string;
}

export function targetingState(rule: unknown): TargetingState {
  const s = structuredOf(rule);
  const json = rule === null || rule === undefined ? '' : JSON.stringify(rule, null, 2);
  return s === null
    ? { mode: 'advanced', structured: { combinator: 'all', conditions: [] }, json }
    : { mode: 'structured', structured: s, json };
}

/** The rule to send, or a message when the advanced JSON does not parse. */
function targetingRule(t: TargetingState): { rule: unknown } | { error: string } {
  if (t.mode === 'structured') return { rule: structuredRule(t.structured) };
  if (t.json.trim() === '') return { rule: null };
  try {
    return { rule: JSON.parse(t.json) };
  } catch (e) {
    return { error: `not JSON: ${message(e)}` };
  }
}

/** The JSON-pointer prefix of condition `i`'s problems, as sent by `structuredRule`. */
const conditionPath = (s: Structured, i: number) =>
  s.conditions.length === 1 ? '/targeting' : `/targeting/${s.combinator}/${i}`;

function TargetingEditor({
  value,
  onChange,
  problems,
}: {
  value: TargetingState;
  onChange: (t: TargetingState) => void;
  problems: FieldProblems;
}) {
  const [switchError, setSwitchError] = useState<string | null>(null);
  const s = value.structured;
  const setConditions = (conditions: Condition[]) => onChange({ ...value, structured: { ...s, conditions } });
  const update = (i: number, c: Partial<Condition>) =>
    setConditions(s.conditions.map((x, j) => (j === i ? { ...x, ...c } : x)));
  // Problems under /targeting, per condition row (by the path `structuredRule` gives it).
  const rows = fieldProblems(
    problems.raw.filter((p) => p.path === '/targeting' || p.path.startsWith('/targeting/')),
    ['/targeting', ...s.conditions.map((_, i) => conditionPath(s, i))],
  );
  const general = value.mode === 'structured' && s.conditions.length > 1 ? rows.at('/targeting') : [];
  const advancedErrs = value.mode === 'advanced' ? problems.at('/targeting') : [];
  return (
    <fieldset class="targeting" data-field="/targeting" data-mode={value.mode}>
      <legend>
        Targeting{' '}
        <span class="modes">
          <button
            type="button"
            class={`link${value.mode === 'structured' ? ' active' : ''}`}
            id="targeting-structured"
            onClick={() => {
              const r = targetingRule(value);
              const st = 'rule' in r ? structuredOf(r.rule) : null;
              if (st === null) {
                setSwitchError('This rule needs the advanced editor (nested or negated rules).');
                return;
              }
              setSwitchError(null);
              onChange({ ...value, mode: 'structured', structured: st });
            }}
          >
            Conditions
          </button>
          {' · '}
          <button
            type="button"
            class={`link${value.mode === 'advanced' ? ' active' : ''}`}
            id="targeting-advanced"
            onClick={() => {
              const rule = value.mode === 'structured' ? structuredRule(s) : null;
              setSwitchError(null);
              onChange({
                ...value,
                mode: 'advanced',
                json:
                  value.mode === 'structured'
                    ? rule === null
                      ? ''
                      : JSON.stringify(rule, null, 2)
                    : value.json,
              });
            }}
          >
            Advanced (JSON)
          </button>
        </span>
      </legend>
      {switchError !== null && <p class="field-error">{switchError}</p>}
      {value.mode === 'advanced' ? (
        <>
          <textarea
            id="targeting-json"
            rows={8}
            spellcheck={false}
            placeholder='empty = everyone, e.g. { "not": { "key": "country", "in": ["FR"] } }'
            value={value.json}
            aria-invalid={advancedErrs.length > 0}
            onInput={(e) => onChange({ ...value, json: e.currentTarget.value })}
          />
          {advancedErrs.length > 0 && (
            <ul class="field-error">
              {advancedErrs.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
        </>
      ) : (
        <>
          {s.conditions.length === 0 && <p class="meta">No conditions: every request matches.</p>}
          {s.conditions.length > 1 && (
            <label class="combinator">
              Match{' '}
              <select
                id="targeting-combinator"
                value={s.combinator}
                onChange={(e) =>
                  onChange({
                    ...value,
                    structured: { ...s, combinator: e.currentTarget.value as 'all' | 'any' },
                  })
                }
              >
                <option value="all">all of</option>
                <option value="any">any of</option>
              </select>{' '}
              these conditions
            </label>
          )}
          {s.conditions.map((c, i) => {
            const errs = rows.at(conditionPath(s, i));
            return (
              <div class={`condition${errs.length > 0 ? ' invalid' : ''}`} data-condition={i} key={i}>
                <input
                  name="cond-key"
                  placeholder="context key"
                  aria-label="Context key"
                  value={c.key}
                  onInput={(e) => update(i, { key: e.currentTarget.value })}
                />
                <select
                  name="cond-op"
                  aria-label="Operator"
                  value={c.op}
                  onChange={(e) => {
                    const op = e.currentTarget.value as Op;
                    update(i, op === 'exists' ? { op, value: 'true' } : { op });
                  }}
                >
                  {OPS.map((o) => (
                    <option key={o.op} value={o.op}>
                      {o.label}
                    </option>
                  ))}
                </select>
                {c.op === 'exists' ? (
                  <select
                    name="cond-value"
                    aria-label="Value"
                    value={c.value}
                    onChange={(e) => update(i, { value: e.currentTarget.value })}
                  >
                    <option value="true">yes</option>
                    <option value="false">no</option>
                  </select>
                ) : (
                  <input
                    name="cond-value"
                    aria-label="Value"
                    placeholder={c.op === 'in' || c.op === 'notIn' ? 'DE, FR, 42, true, "42"' : 'number'}
                    value={c.value}
                    onInput={(e) => update(i, { value: e.currentTarget.value })}
                  />
                )}
                <button
                  type="button"
                  class="remove"
                  aria-label="Remove condition"
                  onClick={() => setConditions(s.conditions.filter((_, j) => j !== i))}
                >
                  ✕
                </button>
                {errs.length > 0 && (
                  <ul class="field-error">
                    {errs.map((m) => (
                      <li key={m}>{m}</li>
                    ))}
                  </ul>
                )}
              </div>
            );
          })}
          {general.length > 0 && (
            <ul class="field-error">
              {general.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
          <button
            type="button"
            id="add-condition"
            onClick={() => setConditions([...s.conditions, { key: '', op: 'in', value: '' }])}
          >
            Add condition
          </button>
        </>
      )}
    </fieldset>
  );
}

// ── Ads ──────────────────────────────────────────────────────────────────────────────────────

const AD_FIELDS = [
  '/id',
  '/name',
  '/status',
  '/clickUrl',
  '/creative',
  '/creative/type',
  '/creative/url',
  '/creative/width',
  '/creative/height',
  '/creative/alt',
  '/creative/html',
  '/targeting',
  '/frequencyCap',
  '/frequencyCap/impressions',
  '/frequencyCap/windowSeconds',
  '/startAt',
  '/endAt',
];

interface AdForm {
  id: string;
  name: string;
  status: 'active' | 'paused';
  clickUrl: string;
  type: 'image' | 'html';
  url: string;
  html: string;
  width: string;
  height: string;
  alt: string;
  startAt: string;
  endAt: string;
  capImpressions: string;
  capWindow: string;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

function adForm(ad: Ad | null): AdForm {
  const c = ad?.creative;
  return {
    id: ad?.id ?? '',
    name: ad?.name ?? '',
    status: ad?.status ?? 'active',
    clickUrl: ad?.clickUrl ?? '',
    type: c?.type ?? 'image',
    url: str(c?.url),
    html: str(c?.html),
    width: str(c?.width),
    height: str(c?.height),
    alt: str(c?.alt),
    startAt: localOf(ad?.startAt),
    endAt: localOf(ad?.endAt),
    capImpressions: str(ad?.frequencyCap?.impressions),
    capWindow: str(ad?.frequencyCap?.windowSeconds),
  };
}

function adBody(f: AdForm, rule: unknown, creating: boolean): Record<string, unknown> {
  const opt = (k: string, v: unknown) => (v === undefined || v === '' ? {} : { [k]: v });
  const creative =
    f.type === 'image'
      ? {
          type: 'image',
          url: f.url,
          ...opt('width', numberOf(f.width)),
          ...opt('height', numberOf(f.height)),
          ...opt('alt', f.alt),
        }
      : {
          type: 'html',
          html: f.html,
          ...opt('width', numberOf(f.width)),
          ...opt('height', numberOf(f.height)),
        };
  const cap =
    f.capImpressions.trim() === '' && f.capWindow.trim() === ''
      ? null
      : { impressions: numberOf(f.capImpressions) ?? '', windowSeconds: numberOf(f.capWindow) ?? '' };
  return {
    ...(creating && f.id.trim() !== '' ? { id: f.id.trim() } : {}),
    name: f.name,
    status: f.status,
    clickUrl: f.clickUrl,
    creative,
    targeting: rule,
    frequencyCap: cap,
    startAt: isoOf(f.startAt),
    endAt: isoOf(f.endAt),
  };
}

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

// ── Placements ───────────────────────────────────────────────────────────────────────────────

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
