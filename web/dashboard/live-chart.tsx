// A placement's live share chart, polled, with its status table.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Status } from './api.js';
import { Badge } from './badge.js';
import { Chart, drawLive, type LivePoint, livePoint } from './charts.js';
import { message } from './message.js';
import { placementDelivery } from './model.js';
import { StatusTable } from './status-table.js';

const LIVE_POLL_MS = 2000;
const LIVE_POINTS = 300;

export function LiveChart({ placementId }: { placementId: string }) {
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
