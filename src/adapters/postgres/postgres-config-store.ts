import pg from 'pg';
import type { Ad } from '../../core/domain/ad.js';
import type { ConfigSnapshot } from '../../core/domain/config-snapshot.js';
import type { Placement, Target, TargetSet } from '../../core/domain/placement.js';
import type { ConfigImportBatch, ConfigImportResult, ConfigStore } from '../../core/ports/config-store.js';
import {
  AD_COLUMNS,
  type AdReferenceRow,
  type AdRow,
  adFromRow,
  adReferencesSql,
  adToRow,
  configSchemaDdl,
  configTables,
  conflictError,
  copyPlacement,
  importError,
  inUseError,
  missingFallbackError,
  normalizeAd,
  PLACEMENT_COLUMNS,
  type PlacementRow,
  placementFromRow,
  TARGET_COLUMNS,
  type TargetRow,
  targetProblems,
  targetSetFromRows,
  targetSetsFromRows,
  targetsError,
  translateConstraintError,
} from '../sql/config-schema.js';
import { postgresImport } from './postgres-import.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Sort ids by code point, like SQLite, whatever the database's locale. */
const BYTE_ORDER = 'COLLATE "C"';

type Client = pg.PoolClient;
type ErrorMapping = Parameters<typeof translateConstraintError>[1];

/**
 * Shared config store for multi-process deployments. Every write transaction first locks the
 * revision row, so config writers are serialized store-wide: the reference pre-checks cannot
 * race one another and all writers take locks in the same order (no deadlocks). Config writes
 * are rare, so the lost write concurrency does not matter.
 */
export async function createPostgresConfigStore(opts: {
  url: string;
  schema?: string;
}): Promise<ConfigStore> {
  const schema = opts.schema ?? 'allot';
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name "${schema}": must match ${SCHEMA_NAME.source}`);
  }
  // Validated above, but quote anyway so the identifier can never be read as SQL.
  const quoted = `"${schema.replaceAll('"', '""')}"`;
  const t = configTables(quoted);

  const pool = new pg.Pool({ connectionString: opts.url });
  // An idle client dying (e.g. server restart) is reported here; without a listener it would
  // crash the process. The next query gets a fresh connection or a proper error.
  pool.on('error', () => {});

  const inTx = async <T>(begin: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = await pool.connect();
    let broken: Error | undefined;
    try {
      await c.query(begin);
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch((e: Error) => {
        broken = e; // never hand a connection stuck in a transaction back to the pool
      });
      throw err;
    } finally {
      c.release(broken);
    }
  };

  const write = async <T>(fn: (c: Client) => Promise<T>, on: ErrorMapping = {}): Promise<T> => {
    try {
      return await inTx('BEGIN', async (c) => {
        await c.query(`SELECT value FROM ${t.meta} WHERE key = 'revision' FOR UPDATE`);
        return fn(c);
      });
    } catch (err) {
      throw translateConstraintError(err, on);
    }
  };
  const readTx = <T>(fn: (c: Client) => Promise<T>): Promise<T> =>
    inTx('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);

  try {
    await inTx('BEGIN', async (c) => {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalogs; take turns.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`allot.config-schema.${schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      for (const sql of configSchemaDdl('postgres', t)) await c.query(sql);
    });
  } catch (err) {
    await pool.end();
    throw err;
  }

  const rows = async <R extends pg.QueryResultRow>(
    c: Client | pg.Pool,
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> => (await c.query<R>(sql, params)).rows;
  const changed = async (c: Client, sql: string, params: unknown[]): Promise<boolean> =>
    ((await c.query(sql, params)).rowCount ?? 0) > 0;

  const bumpRevision = (c: Client) =>
    c.query(`UPDATE ${t.meta} SET value = value + 1 WHERE key = 'revision'`);
  const getPlacementRow = async (c: Client | pg.Pool, id: string): Promise<PlacementRow | undefined> =>
    (await rows<PlacementRow>(c, `SELECT ${PLACEMENT_COLUMNS} FROM ${t.placements} WHERE id = $1`, [id]))[0];
  const existingAdIds = async (c: Client, ids: string[]): Promise<Set<string>> =>
    new Set(
      (await rows<{ id: string }>(c, `SELECT id FROM ${t.ads} WHERE id = ANY($1::text[])`, [ids])).map(
        (r) => r.id,
      ),
    );
  const adExists = async (c: Client, id: string): Promise<boolean> => (await existingAdIds(c, [id])).has(id);
  const readRevision = async (c: Client | pg.Pool): Promise<number> =>
    Number(
      (await rows<{ value: string }>(c, `SELECT value FROM ${t.meta} WHERE key = 'revision'`))[0]?.value ?? 0,
    );
  const listAdRows = (c: Client | pg.Pool) =>
    rows<AdRow>(c, `SELECT ${AD_COLUMNS} FROM ${t.ads} ORDER BY id ${BYTE_ORDER}`);
  const listPlacementRows = (c: Client | pg.Pool) =>
    rows<PlacementRow>(c, `SELECT ${PLACEMENT_COLUMNS} FROM ${t.placements} ORDER BY id ${BYTE_ORDER}`);

  const { importBatch, existingIds } = postgresImport(t);
  let closed = false;

  return {
    async listAds(): Promise<Ad[]> {
      return (await listAdRows(pool)).map(adFromRow);
    },

    async getAd(id: string): Promise<Ad | null> {
      const [row] = await rows<AdRow>(pool, `SELECT ${AD_COLUMNS} FROM ${t.ads} WHERE id = $1`, [id]);
      return row ? adFromRow(row) : null;
    },

    async createAd(ad: Ad): Promise<Ad> {
      const row = adToRow(ad);
      return write(
        async (c) => {
          if (await adExists(c, ad.id)) throw conflictError('ad', ad.id);
          await c.query(`INSERT INTO ${t.ads} (id, doc, created_at, updated_at) VALUES ($1, $2, $3, $4)`, [
            row.id,
            row.doc,
            row.created_at,
            row.updated_at,
          ]);
          await bumpRevision(c);
          return normalizeAd(ad);
        },
        { unique: () => conflictError('ad', ad.id) },
      );
    },

    async updateAd(ad: Ad): Promise<Ad | null> {
      const row = adToRow(ad);
      return write(async (c) => {
        const sql = `UPDATE ${t.ads} SET doc = $2, created_at = $3, updated_at = $4 WHERE id = $1`;
        if (!(await changed(c, sql, [row.id, row.doc, row.created_at, row.updated_at]))) return null;
        await bumpRevision(c);
        return normalizeAd(ad);
      });
    },

    async deleteAd(id: string): Promise<boolean> {
      return write(
        async (c) => {
          const refs = await rows<AdReferenceRow>(
            c,
            adReferencesSql(t, () => '$1'),
            [id],
          );
          if (refs.length > 0) throw inUseError(id, refs);
          if (!(await changed(c, `DELETE FROM ${t.ads} WHERE id = $1`, [id]))) return false;
          await bumpRevision(c);
          return true;
        },
        { foreignKey: () => inUseError(id, []) },
      );
    },

    async listPlacements(): Promise<Placement[]> {
      return (await listPlacementRows(pool)).map(placementFromRow);
    },

    async getPlacement(id: string): Promise<Placement | null> {
      const row = await getPlacementRow(pool, id);
      return row ? placementFromRow(row) : null;
    },

    async createPlacement(p: Placement): Promise<Placement> {
      return write(
        async (c) => {
          if (await getPlacementRow(c, p.id)) throw conflictError('placement', p.id);
          if (p.fallbackAdId !== null && !(await adExists(c, p.fallbackAdId))) {
            throw missingFallbackError(p.fallbackAdId);
          }
          await c.query(
            `INSERT INTO ${t.placements} (id, name, fallback_ad_id, window_hours, time_zone, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [p.id, p.name, p.fallbackAdId, p.window.lengthHours, p.window.timeZone, p.createdAt, p.updatedAt],
          );
          await bumpRevision(c);
          return copyPlacement(p);
        },
        {
          unique: () => conflictError('placement', p.id),
          foreignKey: () => missingFallbackError(p.fallbackAdId),
        },
      );
    },

    async updatePlacement(p: Placement): Promise<Placement | null> {
      return write(
        async (c) => {
          if (!(await getPlacementRow(c, p.id))) return null;
          if (p.fallbackAdId !== null && !(await adExists(c, p.fallbackAdId))) {
            throw missingFallbackError(p.fallbackAdId);
          }
          await c.query(
            `UPDATE ${t.placements} SET name = $2, fallback_ad_id = $3, window_hours = $4, time_zone = $5,
             created_at = $6, updated_at = $7 WHERE id = $1`,
            [p.id, p.name, p.fallbackAdId, p.window.lengthHours, p.window.timeZone, p.createdAt, p.updatedAt],
          );
          await bumpRevision(c);
          return copyPlacement(p);
        },
        { foreignKey: () => missingFallbackError(p.fallbackAdId) },
      );
    },

    async deletePlacement(id: string): Promise<boolean> {
      return write(async (c) => {
        // Targets go with it through ON DELETE CASCADE.
        if (!(await changed(c, `DELETE FROM ${t.placements} WHERE id = $1`, [id]))) return false;
        await bumpRevision(c);
        return true;
      });
    },

    async getTargets(placementId: string): Promise<TargetSet | null> {
      return readTx(async (c) => {
        const placement = await getPlacementRow(c, placementId);
        if (!placement) return null;
        const targetRows = await rows<TargetRow>(
          c,
          `SELECT ${TARGET_COLUMNS} FROM ${t.targets} WHERE placement_id = $1 ORDER BY position`,
          [placementId],
        );
        return targetSetFromRows(placement, targetRows);
      });
    },

    async putTargets(placementId: string, targets: Target[], updatedAt: string): Promise<TargetSet | null> {
      const list = targets.map((x) => ({ adId: x.adId, share: x.share }));
      return write(
        async (c) => {
          if (!(await getPlacementRow(c, placementId))) return null;
          const problems = targetProblems(
            list,
            await existingAdIds(
              c,
              list.map((x) => x.adId),
            ),
          );
          if (problems.length > 0) throw targetsError(problems);
          await c.query(`DELETE FROM ${t.targets} WHERE placement_id = $1`, [placementId]);
          await c.query(
            `INSERT INTO ${t.targets} (placement_id, ad_id, share, position)
             SELECT $1, x.ad_id, x.share, x.position
             FROM unnest($2::text[], $3::float8[], $4::int[]) AS x (ad_id, share, position)`,
            [placementId, list.map((x) => x.adId), list.map((x) => x.share), list.map((_, i) => i)],
          );
          const [bumped] = await rows<{ targets_version: number }>(
            c,
            `UPDATE ${t.placements} SET targets_version = targets_version + 1, targets_updated_at = $2
             WHERE id = $1 RETURNING targets_version`,
            [placementId, updatedAt],
          );
          await bumpRevision(c);
          return { placementId, version: Number(bumped?.targets_version), targets: list, updatedAt };
        },
        { foreignKey: () => targetsError([]) },
      );
    },

    async importConfig(batch: ConfigImportBatch): Promise<ConfigImportResult> {
      return write((c) => importBatch(c, batch), {
        unique: () => importError([]),
        foreignKey: () => importError([]),
      });
    },

    async existingIds(ids: { ads: readonly string[]; placements: readonly string[] }) {
      return readTx((c) => existingIds(c, ids));
    },

    async revision(): Promise<number> {
      return readRevision(pool);
    },

    async snapshot(): Promise<ConfigSnapshot> {
      return readTx(async (c) => {
        const revision = await readRevision(c);
        const ads = (await listAdRows(c)).map(adFromRow);
        const placementRows = await listPlacementRows(c);
        const targetRows = await rows<TargetRow>(
          c,
          `SELECT ${TARGET_COLUMNS} FROM ${t.targets} ORDER BY placement_id, position`,
        );
        return {
          revision,
          ads,
          placements: placementRows.map(placementFromRow),
          targets: targetSetsFromRows(placementRows, targetRows),
        };
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
