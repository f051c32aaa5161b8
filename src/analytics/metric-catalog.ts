/**
 * How a metric rolls up:
 * - `sum`: an aggregate over the (deduplicated) events of a period that adds up across periods;
 *   stored in the hourly and daily rollups.
 * - `distinct`: an aggregate that does not add up (unique users); computed from the events of each
 *   period, hourly and daily alike.
 * - `derived`: an expression over the `sum`/`distinct` columns, computed when a report is read
 *   (ratios, shares); may use a window over the rows of one placement and period.
 */
export type Rollup = 'sum' | 'distinct' | 'derived';

export interface MetricDefinition {
  /** The API, CSV and dashboard name (camelCase). */
  name: string;
  /** The SQL column (snake_case). */
  column: string;
  description: string;
  rollup: Rollup;
  /**
   * Portable SQL (DuckDB and Athena/Trino): for `sum`/`distinct` an aggregate over event rows
   * (id, type, ts, placement_id, ad_id, user_id); for `derived` an expression over other metrics'
   * columns and `placement_id`/`period`. Integer division truncates on Athena: CAST ratios.
   */
  expression: string;
  format: 'count' | 'ratio';
}

const NAME = /^[a-z][A-Za-z0-9]{0,63}$/;
const COLUMN = /^[a-z][a-z0-9_]{0,63}$/;
const RESERVED = new Set(['placement_id', 'ad_id', 'period', 'id', 'type', 'ts', 'user_id', 'dt', 'hour']);

/**
 * The metrics of the allocation report. Adding one is adding an entry here: it flows into the
 * rollups, the report SQL, `GET /v1/reports/allocation` (its OpenAPI schema too), the CSV and
 * `allot report`, on DuckDB and Athena alike.
 */
export const METRICS: readonly MetricDefinition[] = defineMetrics([
  {
    name: 'decisions',
    column: 'decisions',
    description: 'Decisions that chose the ad',
    rollup: 'sum',
    expression: "sum(CASE WHEN type = 'decision' THEN 1 ELSE 0 END)",
    format: 'count',
  },
  {
    name: 'impressions',
    column: 'impressions',
    description: 'Impressions (beacons), each decision’s once',
    rollup: 'sum',
    expression: "sum(CASE WHEN type = 'impression' THEN 1 ELSE 0 END)",
    format: 'count',
  },
  {
    name: 'clicks',
    column: 'clicks',
    description: 'Clicks, each decision’s once',
    rollup: 'sum',
    expression: "sum(CASE WHEN type = 'click' THEN 1 ELSE 0 END)",
    format: 'count',
  },
  {
    name: 'uniqueUsers',
    column: 'unique_users',
    description: 'Distinct user ids among the ad’s events (requests without a user id are not counted)',
    rollup: 'distinct',
    expression: 'count(DISTINCT user_id)',
    format: 'count',
  },
  {
    name: 'ctr',
    column: 'ctr',
    description: 'Clicks ÷ impressions',
    rollup: 'derived',
    expression: 'CAST(clicks AS DOUBLE) / NULLIF(impressions, 0)',
    format: 'ratio',
  },
  {
    name: 'renderRate',
    column: 'render_rate',
    description: 'Impressions ÷ decisions',
    rollup: 'derived',
    expression: 'CAST(impressions AS DOUBLE) / NULLIF(decisions, 0)',
    format: 'ratio',
  },
  {
    name: 'share',
    column: 'share',
    description: 'Realized share: the ad’s impressions ÷ all impressions of its placement in the period',
    rollup: 'derived',
    expression:
      'CAST(impressions AS DOUBLE) / NULLIF(sum(impressions) OVER (PARTITION BY placement_id, period), 0)',
    format: 'ratio',
  },
]);

/** Checks a catalog (unique names and columns, derived metrics over known columns); returns it frozen. */
export function defineMetrics(list: readonly MetricDefinition[]): readonly MetricDefinition[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const columns = new Set<string>();
  for (const m of list) {
    if (!NAME.test(m.name)) problems.push(`metric name "${m.name}" must be camelCase letters and digits`);
    if (!COLUMN.test(m.column) || RESERVED.has(m.column))
      problems.push(`metric "${m.name}": column "${m.column}" must be snake_case and not a reserved column`);
    if (names.has(m.name)) problems.push(`metric name "${m.name}" is defined twice`);
    if (columns.has(m.column)) problems.push(`metric column "${m.column}" is defined twice`);
    names.add(m.name);
    columns.add(m.column);
    if (m.expression.includes(';')) problems.push(`metric "${m.name}": one expression, no ";"`);
  }
  const stored = new Set(list.filter((m) => m.rollup !== 'derived').map((m) => m.column));
  for (const m of list) {
    if (m.rollup !== 'derived') continue;
    const refs = m.expression.match(/\b[a-z][a-z0-9_]*\b/g) ?? [];
    const known =
      /^(cast|as|double|nullif|sum|over|partition|by|placement_id|period|ad_id|case|when|then|else|end|and|or|not|null|coalesce|greatest|least|round)$/i;
    for (const r of refs) {
      if (!stored.has(r) && !known.test(r) && columns.has(r))
        problems.push(
          `metric "${m.name}" uses "${r}", which is derived: derived metrics use stored metrics only`,
        );
    }
  }
  if (problems.length > 0) throw new Error(`invalid metric catalog:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze(list.map((m) => Object.freeze({ ...m })));
}

export const storedMetrics = (catalog: readonly MetricDefinition[]) =>
  catalog.filter((m) => m.rollup !== 'derived');
