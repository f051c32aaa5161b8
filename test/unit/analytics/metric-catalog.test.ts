import { describe, expect, it } from 'vitest';
import {
  defineMetrics,
  METRICS,
  type MetricDefinition,
  storedMetrics,
} from '../../../src/analytics/metric-catalog.js';
import { AllotError } from '../../../src/core/errors.js';

const impressions = METRICS.find((m) => m.name === 'impressions')!;

function problemsOf(list: MetricDefinition[]): string[] {
  try {
    defineMetrics(list);
  } catch (err) {
    expect(err).toBeInstanceOf(AllotError);
    expect((err as AllotError).code).toBe('ALLOT_ERR_VALIDATION');
    return (err as AllotError).problems.map((p) => `${p.path} ${p.message}`);
  }
  return [];
}

describe('metric catalog', () => {
  it('is the report’s seven metrics, four stored in rollups, in order', () => {
    expect(METRICS.map((m) => `${m.name}:${m.column}:${m.rollup}:${m.format}`)).toEqual([
      'decisions:decisions:sum:count',
      'impressions:impressions:sum:count',
      'clicks:clicks:sum:count',
      'uniqueUsers:unique_users:distinct:count',
      'ctr:ctr:derived:ratio',
      'renderRate:render_rate:derived:ratio',
      'share:share:derived:ratio',
    ]);
    expect(storedMetrics(METRICS).map((m) => m.column)).toEqual([
      'decisions',
      'impressions',
      'clicks',
      'unique_users',
    ]);
    expect(Object.isFrozen(METRICS) && Object.isFrozen(METRICS[0])).toBe(true);
  });

  it('writes portable SQL: no FILTER clause, every ratio CAST to DOUBLE over a NULLIF denominator', () => {
    for (const m of METRICS) expect(m.expression).not.toMatch(/\bFILTER\b|::/i);
    for (const m of METRICS.filter((x) => x.format === 'ratio'))
      expect(m.expression).toMatch(/^CAST\(\w+ AS DOUBLE\) \/ NULLIF\(.+, 0\)$/);
  });

  it('accepts one more entry (the way to add a metric)', () => {
    const extended = defineMetrics([
      ...METRICS,
      {
        name: 'clickedUsers',
        column: 'clicked_users',
        description: 'Distinct users who clicked',
        rollup: 'distinct',
        expression: "count(DISTINCT CASE WHEN type = 'click' THEN user_id END)",
        format: 'count',
      },
      {
        name: 'clicksPerUser',
        column: 'clicks_per_user',
        description: 'Clicks per clicking user',
        rollup: 'derived',
        expression: 'CAST(clicks AS DOUBLE) / NULLIF(clicked_users, 0)',
        format: 'ratio',
      },
    ]);
    expect(extended.map((m) => m.name).slice(-2)).toEqual(['clickedUsers', 'clicksPerUser']);
  });

  it('lists every problem at once: names, columns, duplicates, and derived metrics over unknown or derived ones', () => {
    expect(
      problemsOf([
        ...METRICS,
        { ...impressions },
        { ...impressions, name: 'Bad Name', column: 'period' },
        { ...impressions, name: 'semi', column: 'semi', expression: 'sum(1); DROP TABLE x' },
        {
          ...impressions,
          name: 'ctrSquared',
          column: 'ctr_squared',
          rollup: 'derived',
          expression: 'ctr * ctr',
        },
        {
          ...impressions,
          name: 'typo',
          column: 'typo',
          rollup: 'derived',
          expression: "CAST(clickz AS DOUBLE) / NULLIF(impressions, 0) + length('ignored words')",
        },
      ]),
    ).toEqual([
      '/metrics/7 metric name "impressions" is defined twice',
      '/metrics/7 metric column "impressions" is defined twice',
      '/metrics/8 metric name "Bad Name" must be camelCase letters and digits',
      '/metrics/8 metric "Bad Name": column "period" must be snake_case and not a reserved column',
      '/metrics/9 metric "semi": one expression, no ";"',
      '/metrics/10 metric "ctrSquared" uses "ctr", which is derived: derived metrics use stored metrics only',
      '/metrics/11 metric "typo" uses "clickz", which is no stored metric\'s column',
    ]);
  });
});
