import { AllotError, type Problem } from '../core/errors.js';

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
/** Words a derived expression may use besides stored metric columns and function calls. */
const SQL_WORDS = new Set(
  (
    'cast as double real bigint integer decimal nullif coalesce greatest least round abs sum avg min max count ' +
    'over partition by order rows range between unbounded preceding following current row case when then ' +
    'else end and or not is null distinct placement_id ad_id period'
  ).split(' '),
);

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

/**
 * Checks a catalog and returns it frozen: names camelCase and unique, columns snake_case, unique
 * and not one of the relations' own columns, one expression each, and derived metrics over
 * stored (`sum`/`distinct`) metrics only (a report computes derived columns side by side, so
 * one cannot use another). Every problem is listed in one `ALLOT_ERR_VALIDATION`.
 */
export function defineMetrics(list: readonly MetricDefinition[]): readonly MetricDefinition[] {
  const problems: Problem[] = [];
  const problem = (i: number, message: string) => problems.push({ path: `/metrics/${i}`, message });
  const names = new Set<string>();
  const columns = new Set<string>();
  list.forEach((m, i) => {
    if (!NAME.test(m.name)) problem(i, `metric name "${m.name}" must be camelCase letters and digits`);
    if (!COLUMN.test(m.column) || RESERVED.has(m.column))
      problem(i, `metric "${m.name}": column "${m.column}" must be snake_case and not a reserved column`);
    if (names.has(m.name)) problem(i, `metric name "${m.name}" is defined twice`);
    if (columns.has(m.column)) problem(i, `metric column "${m.column}" is defined twice`);
    names.add(m.name);
    columns.add(m.column);
    if (m.expression.includes(';')) problem(i, `metric "${m.name}": one expression, no ";"`);
  });
  const stored = new Set(list.filter((m) => m.rollup !== 'derived').map((m) => m.column));
  list.forEach((m, i) => {
    if (m.rollup !== 'derived') return;
    // Identifiers outside string literals that are not function calls: columns or SQL words.
    const text = m.expression.replace(/'(?:[^']|'')*'/g, "''");
    const words = [...text.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()/g)].map((x) => x[1] ?? '');
    for (const w of new Set(words)) {
      if (stored.has(w) || SQL_WORDS.has(w.toLowerCase())) continue;
      problem(
        i,
        columns.has(w)
          ? `metric "${m.name}" uses "${w}", which is derived: derived metrics use stored metrics only`
          : `metric "${m.name}" uses "${w}", which is no stored metric's column`,
      );
    }
  });
  if (problems.length > 0)
    throw new AllotError(
      'ALLOT_ERR_VALIDATION',
      `invalid metric catalog (${problems.length} problems)`,
      problems,
    );
  return Object.freeze(list.map((m) => Object.freeze({ ...m })));
}

/** The metrics stored in rollups (`sum` and `distinct`), in catalog order. */
export const storedMetrics = (catalog: readonly MetricDefinition[]) =>
  catalog.filter((m) => m.rollup !== 'derived');
