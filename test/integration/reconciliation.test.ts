import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createFolderArchiveStore } from '../../src/adapters/file/folder-archive-store.js';
import { createMemoryCounterStore } from '../../src/adapters/memory/memory-counter-store.js';
import { createSqliteConfigStore } from '../../src/adapters/sqlite/sqlite-config-store.js';
import { createDuckDbAnalytics } from '../../src/analytics/duckdb-analytics.js';
import { createReconciliationJob } from '../../src/analytics/reconciliation-job.js';
import { createParquetArchive } from '../../src/archive/parquet-archive.js';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';

const H = 3_600_000;
const T = Date.parse('2026-06-01T10:00:00Z');
const TTL = { decision: 7 * 24 * H, impression: 7 * 24 * H, click: 7 * 24 * H };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** 3 hours of events on two placements: decision, impression for 2 in 3, click for 1 in 10. */
function traffic(): AllotEvent[] {
  const out: AllotEvent[] = [];
  for (let i = 0; i < 900; i++) {
    const base = { decisionId: `d${i}`, placementId: `p${i % 2}`, adId: `a${i % 3}`, userId: `u${i % 40}` };
    const ts = T + Math.floor((i / 900) * 3 * H);
    const add = (type: EventType, dt: number) =>
      out.push({ ...base, id: `d${i}:${type[0]}`, type, ts: ts + dt });
    add('decision', 0);
    if (i % 3 !== 0) add('impression', 10);
    if (i % 10 === 0) add('click', 20);
  }
  return out;
}

async function setup(live: readonly AllotEvent[], archived: readonly AllotEvent[]) {
  const root = mkdtempSync(join(tmpdir(), 'allot-reconcile-'));
  dirs.push(root);
  const archive = await createParquetArchive({
    store: createFolderArchiveStore({ dir: root }),
    stagingDir: join(root, '.staging'),
  });
  await archive.write(archived);
  await archive.close();
  const counters = createMemoryCounterStore();
  await counters.countOnce(live, TTL, T + 4 * H);
  const store = createSqliteConfigStore({ path: ':memory:' });
  const analytics = await createDuckDbAnalytics({ root });
  const job = createReconciliationJob({
    counters,
    analytics,
    store,
    now: () => T + 4 * H, // hours 10:00–13:00 are closed and settled
    logger: pino({ level: 'silent' }),
    intervalMs: 0,
  });
  return { job, close: () => analytics.close() };
}

describe('reconciliation of live counters with the archive', () => {
  it('finds nothing when both counted every event (exact counters)', async () => {
    const events = traffic();
    const { job, close } = await setup(events, events);
    const r = await job.runNow();
    expect(r.error).toBeNull();
    expect(r.from).toBe('2026-06-01T07:00:00.000Z');
    expect(r.to).toBe('2026-06-01T13:00:00.000Z');
    // 2 placements × 3 ads × 3 hours with traffic × 3 counts.
    expect(r.cells).toBe(2 * 3 * 3 * 3);
    expect(r.drifted).toBe(0);
    expect(job.latest()).toEqual(r);
    await close();
  });

  it('reports each cell the live counters missed, with both values', async () => {
    const events = traffic();
    // The live side lost p0/a1's impressions of the first hour (say, a counter reset).
    const lost = (e: AllotEvent) =>
      e.placementId === 'p0' && e.adId === 'a1' && e.type === 'impression' && e.ts < T + H;
    const { job, close } = await setup(
      events.filter((e) => !lost(e)),
      events,
    );
    const r = await job.runNow();
    const missing = events.filter(lost).length;
    expect(missing).toBeGreaterThan(0);
    expect(r.drifted).toBe(1);
    expect(r.drift).toEqual([
      {
        placementId: 'p0',
        adId: 'a1',
        hour: '2026-06-01T10:00:00.000Z',
        type: 'impressions',
        live: 0,
        archived: missing,
        margin: 0,
      },
    ]);
    await close();
  });
});
