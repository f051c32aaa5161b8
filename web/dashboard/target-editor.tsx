// A placement's target editor: shares per ad, the fallback's remainder, the what-if check, save and revert.
import { useEffect, useState } from 'preact/hooks';
import { type Ad, ApiError, api, type Placement, type TargetSet, type WhatIf } from './api.js';
import { colorFor } from './charts.js';
import { message } from './message.js';
import { mapProblems, pct, percentOf, type RowProblems, shareOf } from './model.js';
import { WhatIfSummary } from './what-if-summary.js';

interface Row {
  key: number;
  adId: string;
  percent: string;
}

let rowKeys = 0;

export function TargetEditor({ placement, ads }: { placement: Placement; ads: Ad[] }) {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [problems, setProblems] = useState<RowProblems>({ rows: new Map(), general: [] });
  const [whatIf, setWhatIf] = useState<WhatIf | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [adding, setAdding] = useState('');
  const path = `/v1/placements/${encodeURIComponent(placement.id)}/targets`;

  const load = async () => {
    const set = await api<TargetSet>('GET', path);
    setRows(set.targets.map((t) => ({ key: rowKeys++, adId: t.adId, percent: percentOf(t.share) })));
    setVersion(set.version);
  };
  // Loaded again when the placement changes.
  useEffect(() => {
    load().catch((e) => setNotice(message(e)));
  }, [placement.id]);

  if (rows === null) return <p>{notice ?? 'Loading targets…'}</p>;

  const edit = (next: Row[]) => {
    setRows(next);
    setWhatIf(null);
    setNotice(null);
  };
  const sum = rows.reduce((s, r) => {
    const v = shareOf(r.percent);
    return typeof v === 'number' ? s + v : s;
  }, 0);
  const remainder = Math.max(0, 1 - sum);
  const unused = ads.filter((a) => !rows.some((r) => r.adId === a.id));
  const body = () => ({ targets: rows.map((r) => ({ adId: r.adId, share: shareOf(r.percent) })) });

  const send = async (kind: 'check' | 'save') => {
    setBusy(true);
    setNotice(null);
    try {
      if (kind === 'check') {
        setWhatIf(await api<WhatIf>('POST', `${path}/check`, body()));
        setProblems({ rows: new Map(), general: [] });
      } else {
        const saved = await api<TargetSet>('PUT', path, body());
        setProblems({ rows: new Map(), general: [] });
        setRows(saved.targets.map((t) => ({ key: rowKeys++, adId: t.adId, percent: percentOf(t.share) })));
        setVersion(saved.version);
        setNotice(`Saved: version ${saved.version}.`);
      }
    } catch (e) {
      if (e instanceof ApiError && e.problems.length > 0) {
        setProblems(mapProblems(e.problems));
        setNotice(kind === 'save' ? 'Not saved: fix the problems below.' : 'The check found problems.');
      } else {
        setNotice(message(e));
      }
      setWhatIf(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card editor">
      <h2>
        Targets <small>version {version}</small>
      </h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send('save');
        }}
      >
        <div class="rows">
          {rows.map((r, i) => {
            const errs = problems.rows.get(i) ?? [];
            const achievable = whatIf?.ads.find((a) => a.adId === r.adId && a.role !== 'fallback');
            return (
              <div
                class={`row${errs.length > 0 ? ' invalid' : ''}`}
                key={r.key}
                data-row={i}
                data-ad={r.adId}
              >
                <span class="swatch" style={{ background: colorFor(r.adId) }} />
                <label class="ad" for={`share-${r.key}`}>
                  {r.adId}
                  <small>{ads.find((a) => a.id === r.adId)?.name ?? 'unknown ad'}</small>
                </label>
                <span class="share">
                  <input
                    id={`share-${r.key}`}
                    name="share"
                    inputMode="decimal"
                    value={r.percent}
                    aria-invalid={errs.length > 0}
                    onInput={(e) =>
                      edit(rows.map((x) => (x.key === r.key ? { ...x, percent: e.currentTarget.value } : x)))
                    }
                  />
                  %
                </span>
                {achievable !== undefined && (
                  <span class="achievable">
                    achievable {pct(achievable.achievableShare)}
                    {achievable.reasons.length > 0 && ` (${achievable.reasons.join(', ')})`}
                  </span>
                )}
                <button
                  type="button"
                  class="remove"
                  aria-label={`Remove ${r.adId}`}
                  onClick={() => edit(rows.filter((x) => x.key !== r.key))}
                >
                  ✕
                </button>
                {errs.length > 0 && (
                  <ul class="field-error">
                    {errs.map((p) => (
                      <li key={p.field + p.message}>
                        {p.field === '' || p.field === 'share' ? '' : `${p.field}: `}
                        {p.message}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            );
          })}
        </div>
        <div class="add">
          <select value={adding} onChange={(e) => setAdding(e.currentTarget.value)} aria-label="Ad to add">
            <option value="">Add an ad…</option>
            {unused.map((a) => (
              <option key={a.id} value={a.id}>
                {a.id} — {a.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            id="add-ad"
            disabled={adding === ''}
            onClick={() => {
              edit([...rows, { key: rowKeys++, adId: adding, percent: '0' }]);
              setAdding('');
            }}
          >
            Add
          </button>
        </div>
        <div class={`sum${sum > 1 + 1e-9 ? ' over' : ''}`} id="targets-sum">
          Sum <strong>{pct(sum, 2)}</strong> · fallback <strong>{placement.fallbackAdId ?? 'none'}</strong>{' '}
          gets the remainder <strong>{pct(remainder, 2)}</strong>
          {placement.fallbackAdId === null && remainder > 0 && ' (unfilled)'}
          {sum > 1 + 1e-9 && <span class="warn"> — over 100 %</span>}
        </div>
        {problems.general.length > 0 && (
          <ul class="field-error" id="targets-error">
            {problems.general.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        )}
        {whatIf !== null && <WhatIfSummary whatIf={whatIf} />}
        <div class="actions">
          <button type="button" id="check" disabled={busy} onClick={() => void send('check')}>
            Check
          </button>
          <button type="submit" id="save" class="primary" disabled={busy}>
            Save
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setProblems({ rows: new Map(), general: [] });
              setWhatIf(null);
              load().then(
                () => setNotice(null),
                (e) => setNotice(message(e)),
              );
            }}
          >
            Revert
          </button>
        </div>
        {notice !== null && (
          <p class="notice" id="editor-notice" role="status">
            {notice}
          </p>
        )}
      </form>
    </section>
  );
}
