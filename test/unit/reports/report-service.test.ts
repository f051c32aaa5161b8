import { describe, expect, it } from 'vitest';
import { createSqliteConfigStore } from '../../../src/adapters/sqlite/sqlite-config-store.js';
import { DEFAULT_ALLOCATION_WINDOW } from '../../../src/core/domain/placement.js';
import { AllotError } from '../../../src/core/errors.js';
import type { AnalyticsEngine, ReportQuery, ReportRow } from '../../../src/core/ports/analytics-engine.js';
import { createReportService, reportToCsv } from '../../../src/manager/report-service.js';

const METRICS = [{ name: 'impressions' }, { name: 'share' }];
const T = '2026-06-01T00:00:00.000Z';

/** An analytics port answering fixed rows and recording the queries it was asked. */
function fixedAnalytics(rows: ReportRow[]): AnalyticsEngine & { queries: ReportQuery[] } {
  const queries: ReportQuery[] = [];
  return {
    queries,
    report: async (q) => {
      queries.push(q);
      return rows;
    },
    hourlyCounts: async () => [],
    close: async () => undefined,
  };
}

async function setup(rows: ReportRow[]) {
  const store = createSqliteConfigStore({ path: ':memory:' });
  for (const id of ['a', 'house'])
    await store.createAd({
      id,
      name: id,
      status: 'active',
      creative: { type: 'image', url: 'https://x.example/a.png', width: 1, height: 1 },
      clickUrl: 'https://x.example',
      targeting: null,
      frequencyCap: null,
      startAt: null,
      endAt: null,
      createdAt: T,
      updatedAt: T,
    } as never);
  await store.createPlacement({
    id: 'home',
    name: 'Home',
    fallbackAdId: 'house',
    window: DEFAULT_ALLOCATION_WINDOW,
    createdAt: T,
    updatedAt: T,
  });
  await store.putTargets('home', [{ adId: 'a', share: 0.3 }], T);
  const analytics = fixedAnalytics(rows);
  const service = createReportService({
    analytics,
    store,
    metrics: METRICS,
    now: () => 0,
    freshnessSeconds: 5,
  });
  return { service, analytics, store };
}

const row = (adId: string, impressions: number, share: number | null): ReportRow => ({
  placementId: 'home',
  adId,
  period: T,
  metrics: { impressions, share },
});

describe('allocation report service', () => {
  it('floors from / ceils to whole periods and joins target shares (the fallback takes the rest)', async () => {
    const { service, analytics } = await setup([
      row('a', 40, 0.4),
      row('house', 60, 0.6),
      row('gone', 0, null),
    ]);
    const r = await service.allocation({
      placementId: 'home',
      from: '2026-06-01T10:30:00Z',
      to: '2026-06-02T10:30:00+02:00',
      granularity: 'day',
    });
    expect(analytics.queries).toEqual([
      {
        placementId: 'home',
        fromMs: Date.parse(T),
        toMs: Date.parse('2026-06-03T00:00:00Z'),
        granularity: 'day',
      },
    ]);
    expect(r.columns).toEqual([
      'placementId',
      'adId',
      'period',
      'impressions',
      'share',
      'targetShare',
      'deviation',
    ]);
    expect(r.rows.map((x) => [x.adId, x.targetShare, x.deviation])).toEqual([
      ['a', 0.3, 0.1],
      ['house', 0.7, -0.1],
      ['gone', null, null],
    ]);
  });

  it('lists every problem of a bad query at once and asks nothing of the engine', async () => {
    const { service, analytics } = await setup([]);
    const err = await service
      .allocation({ placementId: 'bad id!', from: 'yesterday', granularity: 'week' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllotError);
    expect((err as AllotError).code).toBe('ALLOT_ERR_VALIDATION');
    expect((err as AllotError).problems.map((p) => p.path).sort()).toEqual([
      '/from',
      '/granularity',
      '/placementId',
      '/to',
    ]);
    const reversed = await service
      .allocation({ from: '2026-06-02T00:00:00Z', to: '2026-06-01T00:00:00Z' })
      .catch((e: unknown) => e);
    expect((reversed as AllotError).problems).toEqual([{ path: '/to', message: 'must be after from' }]);
    const tooLong = await service
      .allocation({ from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z', granularity: 'hour' })
      .catch((e: unknown) => e);
    expect((tooLong as AllotError).problems[0]?.message).toMatch(/more than 744 hours/);
    const unknown = await service
      .allocation({ placementId: 'nope', from: T, to: '2026-06-02T00:00:00Z' })
      .catch((e: unknown) => e);
    expect((unknown as AllotError).code).toBe('ALLOT_ERR_PLACEMENT_NOT_FOUND');
    expect(analytics.queries).toEqual([]);
  });

  it('writes RFC 4180 CSV (quotes, empty cells for null)', () => {
    const csv = reportToCsv({
      columns: ['placementId', 'adId', 'note', 'share'],
      rows: [
        {
          placementId: 'home',
          adId: 'a',
          note: 'say "hi", twice',
          share: null,
          period: T,
          targetShare: null,
          deviation: null,
        },
      ],
    });
    expect(csv).toBe('placementId,adId,note,share\r\nhome,a,"say ""hi"", twice",\r\n');
  });
});
