// One placement's page: target editor, live chart, history and settings.
import { type Ad, api, type Placement } from './api.js';
import { HistoryChart } from './history-chart.js';
import { LiveChart } from './live-chart.js';
import { PlacementEditor } from './placement-editor.js';
import { TargetEditor } from './target-editor.js';
import { usePoll } from './use-poll.js';

export function PlacementPage({ id }: { id: string }) {
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
