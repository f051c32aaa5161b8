// The targeting-rule editor of the ad editor: conditions (all/any of) or a rule as JSON, with the
// API's problems per condition.
import { useState } from 'preact/hooks';
import {
  type Condition,
  type FieldProblems,
  fieldProblems,
  OPS,
  type Op,
  structuredOf,
  structuredRule,
} from './forms.js';
import { conditionPath, type TargetingState, targetingRule } from './targeting-state.js';

export function TargetingEditor({
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
