// The manager dashboard: sign in with the admin token, placements at a glance, and per placement
// the target editor (what-if check, save), a live share chart and the hourly history.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  type Ad,
  ApiError,
  api,
  clearToken,
  getToken,
  type Placement,
  type Report,
  type Status,
  setToken,
  setUnauthorizedHandler,
  type TargetSet,
  type WhatIf,
} from './api.js';
import { Chart, colorFor, drawHistory, drawLive, type LivePoint, livePoint } from './charts.js';
import { AdEditor, PlacementEditor } from './editors.js';
import {
  adDelivery,
  type Delivery,
  mapProblems,
  pct,
  percentOf,
  placementDelivery,
  type RowProblems,
  shareOf,
} from './model.js';

const LIVE_POLL_MS = 2000;
const OVERVIEW_POLL_MS = 5000;
const LIVE_POINTS = 300;

type Route = { page: 'overview' } | { page: 'placement'; id: string } | { page: 'ads' };

function parseRoute(hash: string): Route {
  const m = /^#\/placements\/([^/]+)$/.exec(hash);
  if (m?.[1] !== undefined) return { page: 'placement', id: decodeURIComponent(m[1]) };
  if (hash === '#/ads') return { page: 'ads' };
  return { page: 'overview' };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** Calls `load` now and every `everyMs` (if given) while mounted; the latest result or error. */
function usePoll<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  // `deps` lists what `load` reads.
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const v = await load();
        if (!live) return;
        setData(v);
        setError(null);
      } catch (e) {
        if (live) setError(message(e));
      }
      if (live && everyMs !== undefined) timer = setTimeout(run, everyMs);
    };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

function Badge({ state }: { state: Delivery }) {
  return <span class={`badge badge-${state.replace(' ', '-')}`}>{state}</span>;
}

function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice: string | null }) {
  const [token, setValue] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api('GET', '/v1/placements', undefined, token.trim());
      setToken(token.trim());
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That token was refused.' : message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} class="card">
        <h1>Allot</h1>
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          value={token}
          onInput={(e) => setValue(e.currentTarget.value)}
          required
        />
        {error !== null && <p class="error">{error}</p>}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <p class="hint">Kept in this tab only (sessionStorage), sent as a bearer token.</p>
      </form>
    </main>
  );
}

function ShareBar({ share, target, lo, hi }: { share: number; target: number; lo: number; hi: number }) {
  return (
    <div class="bar" title={`realized ${pct(share)} (95 %: ${pct(lo)}–${pct(hi)}), target ${pct(target)}`}>
      <div class="bar-ci" style={{ left: `${lo * 100}%`, width: `${Math.max(0, hi - lo) * 100}%` }} />
      <div class="bar-fill" style={{ width: `${share * 100}%` }} />
      <div class="bar-target" style={{ left: `${target * 100}%` }} />
    </div>
  );
}

function StatusTable({ status, swatches = false }: { status: Status; swatches?: boolean }) {
  return (
    <div class="scroll">
      <table class="status">
        <thead>
          <tr>
            <th>Ad</th>
            <th>Target</th>
            <th>Realized (95 %)</th>
            <th class="wide">Share</th>
            <th>Impr.</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {status.ads.map((a) => (
            <tr key={a.adId} data-ad={a.adId}>
              <td>
                {swatches && <span class="swatch" style={{ background: colorFor(a.adId) }} />}
                {a.adId}
                {a.role !== 'target' && <span class="role"> ({a.role})</span>}
              </td>
              <td class="num">{pct(a.targetShare)}</td>
              <td class="num">
                {pct(a.share)}
                <span class="ci">
                  {pct(a.ci95[0])}–{pct(a.ci95[1])}
                </span>
              </td>
              <td class="wide">
                <ShareBar share={a.share} target={a.targetShare} lo={a.ci95[0]} hi={a.ci95[1]} />
              </td>
              <td class="num">{Math.round(a.impressions)}</td>
              <td>
                <Badge state={adDelivery(a, status.totalImpressions)} />
                {a.reasons.length > 0 && <span class="reasons"> {a.reasons.join(', ')}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Overview() {
  const [creating, setCreating] = useState<Ad[] | null>(null);
  const { data, error, reload } = usePoll(
    async () => {
      const { placements } = await api<{ placements: Placement[] }>('GET', '/v1/placements');
      const statuses = await Promise.all(
        placements.map((p) =>
          api<Status>('GET', `/v1/placements/${encodeURIComponent(p.id)}/status`).catch((e) => message(e)),
        ),
      );
      return placements.map((p, i) => ({ placement: p, status: statuses[i]! }));
    },
    [],
    OVERVIEW_POLL_MS,
  );
  return (
    <main>
      <h1>
        Placements{' '}
        {creating === null && (
          <button
            type="button"
            id="new-placement"
            onClick={() =>
              api<{ ads: Ad[] }>('GET', '/v1/ads').then(
                ({ ads }) => setCreating(ads),
                () => setCreating([]),
              )
            }
          >
            New placement
          </button>
        )}
      </h1>
      {creating !== null && (
        <PlacementEditor
          placement={null}
          ads={creating}
          onCancel={() => setCreating(null)}
          onSaved={(p) => {
            setCreating(null);
            reload();
            location.hash = `#/placements/${encodeURIComponent(p.id)}`;
          }}
        />
      )}
      {error !== null && <p class="error">{error}</p>}
      {data === null && error === null && <p>Loading…</p>}
      {data?.length === 0 && <p>No placements yet.</p>}
      <div class="cards">
        {data?.map(({ placement: p, status }) => (
          <section class="card placement" key={p.id} data-placement={p.id}>
            <header>
              <h2>
                <a href={`#/placements/${encodeURIComponent(p.id)}`}>{p.name}</a> <small>{p.id}</small>
              </h2>
              {typeof status !== 'string' && <Badge state={placementDelivery(status)} />}
            </header>
            {typeof status === 'string' ? (
              <p class="error">{status}</p>
            ) : (
              <>
                <p class="meta">
                  {Math.round(status.totalImpressions)} impressions this window · fallback{' '}
                  {p.fallbackAdId ?? 'none'}
                </p>
                {status.ads.length === 0 ? <p>No targets.</p> : <StatusTable status={status} />}
              </>
            )}
          </section>
        ))}
      </div>
    </main>
  );
}

interface Row {
  key: number;
  adId: string;
  percent: string;
}

let rowKeys = 0;

function TargetEditor({ placement, ads }: { placement: Placement; ads: Ad[] }) {
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
        {whatIf !== null && (
          <p class="whatif" id="whatif">
            What-if:{' '}
            {whatIf.feasible === null
              ? 'no traffic yet to judge by'
              : whatIf.feasible
                ? 'feasible'
                : 'not feasible'}{' '}
            ({whatIf.basis.sampledRequests} sampled requests
            {whatIf.basis.frequencyCapsModelled ? '' : ', frequency caps not modelled'}).
          </p>
        )}
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

function LiveChart({ placementId }: { placementId: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const chart = new Chart(ref.current!);
    const points: LivePoint[] = [];
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const s = await api<Status>('GET', `/v1/placements/${encodeURIComponent(placementId)}/status`);
        if (!live) return;
        points.push(livePoint(s));
        if (points.length > LIVE_POINTS) points.shift();
        drawLive(chart, points);
        // What the chart shows, for tests and scripts: polled points and the latest total.
        ref.current?.setAttribute('data-points', String(points.length));
        ref.current?.setAttribute('data-impressions', String(Math.round(s.totalImpressions)));
        setStatus(s);
        setError(null);
      } catch (e) {
        if (live) setError(message(e));
      }
      if (live) timer = setTimeout(poll, LIVE_POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
      chart.destroy();
    };
  }, [placementId]);
  return (
    <section class="card" id="live">
      <h2>
        Live share <small>this window, every {LIVE_POLL_MS / 1000} s</small>{' '}
        {status !== null && <Badge state={placementDelivery(status)} />}
      </h2>
      <p class="meta">Solid: realized share, band: its 95 % interval, dashed: the target.</p>
      {error !== null && <p class="error">{error}</p>}
      <div id="live-chart" class="chart" ref={ref} />
      {status !== null && <StatusTable status={status} swatches />}
    </section>
  );
}

function HistoryChart({ placementId }: { placementId: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<Chart | null>(null);
  const { data, error } = usePoll(
    () => {
      const to = new Date();
      const from = new Date(to.getTime() - 72 * 3600_000);
      const q = new URLSearchParams({
        placementId,
        from: from.toISOString(),
        to: to.toISOString(),
        granularity: 'hour',
      });
      return api<Report>('GET', `/v1/reports/allocation?${q}`);
    },
    [placementId],
    60_000,
  );
  useEffect(() => {
    chart.current = new Chart(ref.current!);
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => {
    if (data !== null && data.rows.length > 0 && chart.current !== null) drawHistory(chart.current, data);
  }, [data]);
  return (
    <section class="card">
      <h2>
        History <small>hourly, last 3 days</small>
      </h2>
      {error !== null && <p class="error">Report unavailable: {error}</p>}
      {data?.rows.length === 0 && (
        <p class="meta">No archived events yet (the archive lags a few seconds).</p>
      )}
      <div id="history-chart" class="chart" ref={ref} />
    </section>
  );
}

function PlacementPage({ id }: { id: string }) {
  const { data, error, reload } = usePoll(async () => {
    const [placement, { ads }] = await Promise.all([
      api<Placement>('GET', `/v1/placements/${encodeURIComponent(id)}`),
      api<{ ads: Ad[] }>('GET', '/v1/ads'),
    ]);
    return { placement, ads };
  }, [id]);
  return (
    <main>
      <p class="crumbs">
        <a href="#/">Placements</a> ›
      </p>
      <h1>
        {data?.placement.name ?? id} <small>{id}</small>
      </h1>
      {error !== null && <p class="error">{error}</p>}
      {data !== null && (
        <div class="grid">
          <TargetEditor placement={data.placement} ads={data.ads} />
          <LiveChart placementId={id} />
          <HistoryChart placementId={id} />
          <PlacementEditor
            // Keyed by id, not by version: a save's own reload must not remount the form (and
            // drop its "Saved." notice); it already holds what was saved.
            key={data.placement.id}
            placement={data.placement}
            ads={data.ads}
            onSaved={() => reload()}
          />
        </div>
      )}
    </main>
  );
}

function AdsPage() {
  const { data, error, reload } = usePoll(() => api<{ ads: Ad[] }>('GET', '/v1/ads'), []);
  /** The ad being edited: null = none, 'new' = a new one. */
  const [editing, setEditing] = useState<Ad | 'new' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <main>
      <h1>
        Ads{' '}
        {editing === null && (
          <button
            type="button"
            id="new-ad"
            onClick={() => {
              setNotice(null);
              setEditing('new');
            }}
          >
            New ad
          </button>
        )}
      </h1>
      {error !== null && <p class="error">{error}</p>}
      {notice !== null && (
        <p class="notice" id="ads-notice" role="status">
          {notice}
        </p>
      )}
      {editing !== null && (
        <AdEditor
          key={editing === 'new' ? 'new' : editing.id}
          ad={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(ad) => {
            setEditing(null);
            setNotice(`Saved ad ${ad.id}.`);
            reload();
          }}
        />
      )}
      <div class="card scroll">
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>Name</th>
              <th>Status</th>
              <th>Creative</th>
              <th>Flight</th>
              <th>Cap</th>
              <th>Targeting</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data?.ads.map((a) => (
              <tr key={a.id} data-ad={a.id}>
                <td>{a.id}</td>
                <td>{a.name}</td>
                <td>{a.status}</td>
                <td>
                  {a.creative.type}
                  {a.creative.width !== undefined && ` ${a.creative.width}×${a.creative.height}`}
                </td>
                <td>
                  {a.startAt?.slice(0, 16).replace('T', ' ') ?? '…'} →{' '}
                  {a.endAt?.slice(0, 16).replace('T', ' ') ?? '…'}
                </td>
                <td>
                  {a.frequencyCap ? `${a.frequencyCap.impressions} / ${a.frequencyCap.windowSeconds} s` : '—'}
                </td>
                <td class="rule">{a.targeting ? JSON.stringify(a.targeting) : 'everyone'}</td>
                <td>
                  <button
                    type="button"
                    class="link edit"
                    onClick={() => {
                      setNotice(null);
                      setEditing(a);
                      scrollTo(0, 0);
                    }}
                  >
                    Edit
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </main>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(() => getToken() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();
  useMemo(
    () =>
      setUnauthorizedHandler(() => {
        clearToken();
        setNotice('The token was refused: sign in again.');
        setSignedIn(false);
      }),
    [],
  );
  if (!signedIn) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={() => {
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <>
      <nav class="top">
        <a class="brand" href="#/">
          Allot
        </a>
        <a href="#/" class={route.page !== 'ads' ? 'active' : ''}>
          Placements
        </a>
        <a href="#/ads" class={route.page === 'ads' ? 'active' : ''}>
          Ads
        </a>
        <button
          type="button"
          class="link"
          id="sign-out"
          onClick={() => {
            clearToken();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </nav>
      {route.page === 'overview' && <Overview />}
      {route.page === 'placement' && <PlacementPage key={route.id} id={route.id} />}
      {route.page === 'ads' && <AdsPage />}
    </>
  );
}

render(<App />, document.getElementById('app')!);
