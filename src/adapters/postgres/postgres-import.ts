import type pg from 'pg';
import { importReferences } from '../../core/domain/import-references.js';
import type { ConfigImportBatch, ConfigImportResult } from '../../core/ports/config-store.js';
import { adToRow, type ConfigTables, importError, importProblems } from '../sql/config-schema.js';

/**
 * Rows per bulk statement. Each column is bound as one array parameter and expanded with
 * `unnest`, so this bounds one message's size, not a parameter count: 10,000 ads take two
 * round trips instead of 10,000.
 */
const CHUNK_ROWS = 5000;

/**
 * `ConfigStore.importConfig` for PostgreSQL: the body of a write transaction whose caller has
 * already locked the revision row (so the existence reads below cannot go stale). Existence in
 * two queries, then a few statements per table, one revision bump.
 */
export function postgresImport(t: ConfigTables) {
  const existing = async (c: pg.PoolClient, table: string, ids: readonly string[]): Promise<Set<string>> => {
    const res = await c.query<{ id: string }>(`SELECT id FROM ${table} WHERE id = ANY($1::text[])`, [ids]);
    return new Set(res.rows.map((r) => r.id));
  };

  /** Runs `sql` once per chunk of `items`, binding one array per column. */
  const bulk = async <T>(
    c: pg.PoolClient,
    sql: string,
    items: readonly T[],
    columns: (x: T) => unknown[],
  ) => {
    for (let i = 0; i < items.length; i += CHUNK_ROWS) {
      const chunk = items.slice(i, i + CHUNK_ROWS).map(columns);
      await c.query(
        sql,
        (chunk[0] ?? []).map((_, col) => chunk.map((row) => row[col])),
      );
    }
  };

  const revision = async (c: pg.PoolClient, bump: boolean): Promise<number> => {
    const sql = bump
      ? `UPDATE ${t.meta} SET value = value + 1 WHERE key = 'revision' RETURNING value`
      : `SELECT value FROM ${t.meta} WHERE key = 'revision'`;
    return Number((await c.query<{ value: string }>(sql)).rows[0]?.value ?? 0);
  };

  /** `ConfigStore.existingIds`, on a client of a read transaction. */
  const existingIds = async (
    c: pg.PoolClient,
    ids: { ads: readonly string[]; placements: readonly string[] },
  ) => ({
    ads: await existing(c, t.ads, ids.ads),
    placements: await existing(c, t.placements, ids.placements),
  });

  const importBatch = async (c: pg.PoolClient, batch: ConfigImportBatch): Promise<ConfigImportResult> => {
    const refs = importReferences(batch);
    const ads = await existing(c, t.ads, refs.adIds);
    const placements = await existing(c, t.placements, refs.placementIds);
    const problems = importProblems(batch, { ads, placements });
    if (problems.length > 0) throw importError(problems);
    const adsUpdated = batch.ads.filter((a) => ads.has(a.id)).length;
    const placementsUpdated = batch.placements.filter((p) => placements.has(p.id)).length;
    const counts = {
      adsCreated: batch.ads.length - adsUpdated,
      adsUpdated,
      placementsCreated: batch.placements.length - placementsUpdated,
      placementsUpdated,
    };
    if (batch.ads.length + batch.placements.length + batch.targets.length === 0) {
      return { revision: await revision(c, false), ...counts };
    }
    // ON CONFLICT leaves created_at alone: a replaced row keeps its creation time.
    await bulk(
      c,
      `INSERT INTO ${t.ads} (id, doc, created_at, updated_at)
       SELECT x.id, x.doc::jsonb, x.created_at, x.updated_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x (id, doc, created_at, updated_at)
       ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = EXCLUDED.updated_at`,
      batch.ads.map(adToRow),
      (r) => [r.id, r.doc, r.created_at, r.updated_at],
    );
    await bulk(
      c,
      `INSERT INTO ${t.placements} (id, name, fallback_ad_id, window_hours, time_zone, created_at, updated_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, fallback_ad_id = EXCLUDED.fallback_ad_id,
         window_hours = EXCLUDED.window_hours, time_zone = EXCLUDED.time_zone, updated_at = EXCLUDED.updated_at`,
      batch.placements,
      (p) => [
        p.id,
        p.name,
        p.fallbackAdId,
        p.window.lengthHours,
        p.window.timeZone,
        p.createdAt,
        p.updatedAt,
      ],
    );
    const setIds = batch.targets.map((x) => x.placementId);
    if (setIds.length > 0) {
      await c.query(`DELETE FROM ${t.targets} WHERE placement_id = ANY($1::text[])`, [setIds]);
      await bulk(
        c,
        `INSERT INTO ${t.targets} (placement_id, ad_id, share, position)
         SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::int[])`,
        batch.targets.flatMap((set) => set.targets.map((x, i) => [set.placementId, x.adId, x.share, i])),
        (row) => row,
      );
      await c.query(
        `UPDATE ${t.placements} SET targets_version = targets_version + 1, targets_updated_at = $2
         WHERE id = ANY($1::text[])`,
        [setIds, batch.updatedAt],
      );
    }
    return { revision: await revision(c, true), ...counts };
  };
  return { importBatch, existingIds };
}
