// The overview page: every placement with its delivery state and live status, and a new-placement form.
import { useState } from 'preact/hooks';
import { type Ad, api, type Placement, type Status } from './api.js';
import { Badge } from './badge.js';
import { message } from './message.js';
import { placementDelivery } from './model.js';
import { PlacementEditor } from './placement-editor.js';
import { StatusTable } from './status-table.js';
import { usePoll } from './use-poll.js';

const OVERVIEW_POLL_MS = 5000;

export function Overview() {
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
