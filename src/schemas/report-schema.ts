import { type TSchema, Type } from '@sinclair/typebox';
import { Nullable } from './common-schema.js';

/**
 * The allocation report's response schema, generated from the metric catalog: a metric added to
 * the catalog appears in the OpenAPI document, the JSON rows and the CSV without further code.
 */
export function allocationReportSchema(
  metrics: ReadonlyArray<{ name: string; description: string; format: 'count' | 'ratio' }>,
) {
  const metricProps: Record<string, TSchema> = {};
  for (const m of metrics) {
    metricProps[m.name] =
      m.format === 'count'
        ? Type.Integer({ description: m.description })
        : Nullable(Type.Number({ description: `${m.description} (null when undefined)` }));
  }
  return Type.Object({
    granularity: Type.Union([Type.Literal('hour'), Type.Literal('day')]),
    from: Type.String({ description: 'Start of the first period (UTC)' }),
    to: Type.String({ description: 'End of the last period, exclusive (UTC)' }),
    generatedAt: Type.String(),
    freshnessSeconds: Type.Number({
      description: 'Archived events are at most this far behind generatedAt (the archiver flush interval).',
    }),
    columns: Type.Array(Type.String(), { description: 'Row fields in CSV column order' }),
    rows: Type.Array(
      Type.Object({
        placementId: Type.String(),
        adId: Type.String(),
        period: Type.String({ description: 'Period start, ISO 8601 UTC' }),
        ...metricProps,
        targetShare: Nullable(
          Type.Number({ description: 'The ad’s current target share (fallback: what targets leave)' }),
        ),
        deviation: Nullable(Type.Number({ description: 'share − targetShare' })),
      }),
    ),
  });
}

const Drift = Type.Object({
  placementId: Type.String(),
  adId: Type.String(),
  hour: Type.String(),
  type: Type.Union([Type.Literal('decisions'), Type.Literal('impressions'), Type.Literal('clicks')]),
  live: Type.Number({ description: 'Live counter: exact, or the sampled estimate' }),
  archived: Type.Integer({ description: 'Exact count in the archive' }),
  margin: Type.Number({ description: 'Half-width of the live value’s 99 % interval (0 = exact)' }),
});

export const ReconciliationSchema = Type.Object({
  checkedAt: Nullable(Type.String()),
  from: Nullable(Type.String()),
  to: Nullable(Type.String()),
  cells: Type.Integer({ description: 'placement × ad × hour × count cells compared' }),
  drifted: Type.Integer({ description: 'cells outside the interval' }),
  drift: Type.Array(Drift, { description: 'Up to 100 drifted cells, largest relative drift first' }),
  error: Nullable(Type.String()),
});
