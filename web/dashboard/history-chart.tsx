// A placement's hourly allocation history over the last three days, from the reports API.
import { useEffect, useRef } from 'preact/hooks';
import { api, type Report } from './api.js';
import { Chart, drawHistory } from './charts.js';
import { usePoll } from './use-poll.js';

export function HistoryChart({ placementId }: { placementId: string }) {
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
