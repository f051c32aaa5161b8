import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Ad } from '../../core/domain/ad.js';
import type { ConfigSnapshot } from '../../core/domain/config-snapshot.js';
import { importReferences } from '../../core/domain/import-references.js';
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
  importProblems,
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
import { createSqliteSnapshotReader } from './sqlite-snapshot-reader.js';

/**
 * Embedded config store. better-sqlite3 is synchronous, so each method runs to completion
 * before the next starts within a process; across processes (or several instances on one
 * file) write transactions are BEGIN IMMEDIATE, which serializes writers up front and makes
 * the reference pre-checks authoritative.
 */
export function createSqliteConfigStore(opts: { path: string }): ConfigStore {
  const inMemory = opts.path === ':memory:' || opts.path === '';
  if (!inMemory) mkdirSync(dirname(resolve(opts.path)), { recursive: true });

  // `timeout` is the busy timeout: another instance holding the write lock makes us wait, not fail.
  const db = new Database(opts.path, { timeout: 5000 });
  const t = configTables();
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      for (const sql of configSchemaDdl('sqlite', t)) db.exec(sql);
    }).immediate();
  } catch (err) {
    db.close();
    throw err;
  }
  // A file's snapshots are read in slices on a second connection (see the reader); an in-memory
  // database is private to its connection, so there it is read at once.
  const reader = inMemory ? null : createSqliteSnapshotReader({ path: opts.path, tables: t });

  const s = {
    listAds: db.prepare<[], AdRow>(`SELECT ${AD_COLUMNS} FROM ${t.ads} ORDER BY id`),
    getAd: db.prepare<[string], AdRow>(`SELECT ${AD_COLUMNS} FROM ${t.ads} WHERE id = ?`),
    adExists: db.prepare<[string], { one: number }>(`SELECT 1 AS one FROM ${t.ads} WHERE id = ?`),
    adCreatedAt: db.prepare<[string], { created_at: string }>(`SELECT created_at FROM ${t.ads} WHERE id = ?`),
    insertAd: db.prepare<[string, string, string, string]>(
      `INSERT INTO ${t.ads} (id, doc, created_at, updated_at) VALUES (?, ?, ?, ?)`,
    ),
    updateAd: db.prepare<[string, string, string, string]>(
      `UPDATE ${t.ads} SET doc = ?, created_at = ?, updated_at = ? WHERE id = ?`,
    ),
    deleteAd: db.prepare<[string]>(`DELETE FROM ${t.ads} WHERE id = ?`),
    adReferences: db.prepare<[string, string], AdReferenceRow>(adReferencesSql(t, () => '?')),

    listPlacements: db.prepare<[], PlacementRow>(
      `SELECT ${PLACEMENT_COLUMNS} FROM ${t.placements} ORDER BY id`,
    ),
    getPlacement: db.prepare<[string], PlacementRow>(
      `SELECT ${PLACEMENT_COLUMNS} FROM ${t.placements} WHERE id = ?`,
    ),
    placementCreatedAt: db.prepare<[string], { created_at: string }>(
      `SELECT created_at FROM ${t.placements} WHERE id = ?`,
    ),
    insertPlacement: db.prepare<[string, string, string | null, number, string, string, string]>(
      `INSERT INTO ${t.placements} (id, name, fallback_ad_id, window_hours, time_zone, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    updatePlacement: db.prepare<[string, string | null, number, string, string, string, string]>(
      `UPDATE ${t.placements} SET name = ?, fallback_ad_id = ?, window_hours = ?, time_zone = ?, created_at = ?,
       updated_at = ? WHERE id = ?`,
    ),
    deletePlacement: db.prepare<[string]>(`DELETE FROM ${t.placements} WHERE id = ?`),

    targetsOf: db.prepare<[string], TargetRow>(
      `SELECT ${TARGET_COLUMNS} FROM ${t.targets} WHERE placement_id = ? ORDER BY position`,
    ),
    allTargets: db.prepare<[], TargetRow>(
      `SELECT ${TARGET_COLUMNS} FROM ${t.targets} ORDER BY placement_id, position`,
    ),
    clearTargets: db.prepare<[string]>(`DELETE FROM ${t.targets} WHERE placement_id = ?`),
    insertTarget: db.prepare<[string, string, number, number]>(
      `INSERT INTO ${t.targets} (placement_id, ad_id, share, position) VALUES (?, ?, ?, ?)`,
    ),
    bumpTargets: db.prepare<[string, string], { targets_version: number }>(
      `UPDATE ${t.placements} SET targets_version = targets_version + 1, targets_updated_at = ?
       WHERE id = ? RETURNING targets_version`,
    ),

    revision: db.prepare<[], { value: number }>(`SELECT value FROM ${t.meta} WHERE key = 'revision'`),
    bumpRevision: db.prepare(`UPDATE ${t.meta} SET value = value + 1 WHERE key = 'revision'`),
  };

  /** Runs `fn` as one IMMEDIATE transaction, mapping constraint violations the pre-checks missed. */
  const write = <T>(fn: () => T, on: Parameters<typeof translateConstraintError>[1] = {}): T => {
    try {
      return db.transaction(fn).immediate();
    } catch (err) {
      throw translateConstraintError(err, on);
    }
  };
  /** A deferred transaction is enough for a consistent multi-statement read. */
  const read = <T>(fn: () => T): T => db.transaction(fn).deferred();

  const adExists = (id: string): boolean => s.adExists.get(id) !== undefined;
  const revision = (): number => Number(s.revision.get()?.value ?? 0);

  /** The stored createdAt of each of `ids` that exists. */
  const createdAts = (ids: readonly string[], stmt: typeof s.adCreatedAt): Map<string, string> => {
    const out = new Map<string, string>();
    for (const id of ids) {
      const row = stmt.get(id);
      if (row !== undefined) out.set(id, row.created_at);
    }
    return out;
  };

  /** The body of `importConfig`; runs inside one IMMEDIATE transaction. */
  const importBatch = (batch: ConfigImportBatch): ConfigImportResult => {
    const refs = importReferences(batch);
    const ads = createdAts(refs.adIds, s.adCreatedAt);
    const placements = createdAts(refs.placementIds, s.placementCreatedAt);
    const problems = importProblems(batch, { ads, placements });
    if (problems.length > 0) throw importError(problems);
    const counts = { adsCreated: 0, adsUpdated: 0, placementsCreated: 0, placementsUpdated: 0 };
    if (batch.ads.length + batch.placements.length + batch.targets.length === 0) {
      return { revision: revision(), ...counts };
    }
    for (const ad of batch.ads) {
      const row = adToRow(ad);
      const createdAt = ads.get(ad.id);
      if (createdAt === undefined) {
        s.insertAd.run(row.id, row.doc, row.created_at, row.updated_at);
        counts.adsCreated++;
      } else {
        s.updateAd.run(row.doc, createdAt, row.updated_at, row.id);
        counts.adsUpdated++;
      }
    }
    for (const p of batch.placements) {
      const { lengthHours, timeZone } = p.window;
      const createdAt = placements.get(p.id);
      if (createdAt === undefined) {
        s.insertPlacement.run(p.id, p.name, p.fallbackAdId, lengthHours, timeZone, p.createdAt, p.updatedAt);
        counts.placementsCreated++;
      } else {
        s.updatePlacement.run(p.name, p.fallbackAdId, lengthHours, timeZone, createdAt, p.updatedAt, p.id);
        counts.placementsUpdated++;
      }
    }
    for (const set of batch.targets) {
      s.clearTargets.run(set.placementId);
      for (const [i, x] of set.targets.entries()) s.insertTarget.run(set.placementId, x.adId, x.share, i);
      s.bumpTargets.get(batch.updatedAt, set.placementId);
    }
    s.bumpRevision.run();
    return { revision: revision(), ...counts };
  };

  return {
    async listAds(): Promise<Ad[]> {
      return s.listAds.all().map(adFromRow);
    },

    async getAd(id: string): Promise<Ad | null> {
      const row = s.getAd.get(id);
      return row ? adFromRow(row) : null;
    },

    async createAd(ad: Ad): Promise<Ad> {
      const row = adToRow(ad);
      return write(
        () => {
          if (adExists(ad.id)) throw conflictError('ad', ad.id);
          s.insertAd.run(row.id, row.doc, row.created_at, row.updated_at);
          s.bumpRevision.run();
          return normalizeAd(ad);
        },
        { unique: () => conflictError('ad', ad.id) },
      );
    },

    async updateAd(ad: Ad): Promise<Ad | null> {
      const row = adToRow(ad);
      return write(() => {
        if (s.updateAd.run(row.doc, row.created_at, row.updated_at, row.id).changes === 0) return null;
        s.bumpRevision.run();
        return normalizeAd(ad);
      });
    },

    async deleteAd(id: string): Promise<boolean> {
      return write(
        () => {
          const refs = s.adReferences.all(id, id);
          if (refs.length > 0) throw inUseError(id, refs);
          if (s.deleteAd.run(id).changes === 0) return false;
          s.bumpRevision.run();
          return true;
        },
        { foreignKey: () => inUseError(id, []) },
      );
    },

    async listPlacements(): Promise<Placement[]> {
      return s.listPlacements.all().map(placementFromRow);
    },

    async getPlacement(id: string): Promise<Placement | null> {
      const row = s.getPlacement.get(id);
      return row ? placementFromRow(row) : null;
    },

    async createPlacement(p: Placement): Promise<Placement> {
      return write(
        () => {
          if (s.getPlacement.get(p.id)) throw conflictError('placement', p.id);
          if (p.fallbackAdId !== null && !adExists(p.fallbackAdId))
            throw missingFallbackError(p.fallbackAdId);
          s.insertPlacement.run(
            p.id,
            p.name,
            p.fallbackAdId,
            p.window.lengthHours,
            p.window.timeZone,
            p.createdAt,
            p.updatedAt,
          );
          s.bumpRevision.run();
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
        () => {
          if (!s.getPlacement.get(p.id)) return null;
          if (p.fallbackAdId !== null && !adExists(p.fallbackAdId))
            throw missingFallbackError(p.fallbackAdId);
          s.updatePlacement.run(
            p.name,
            p.fallbackAdId,
            p.window.lengthHours,
            p.window.timeZone,
            p.createdAt,
            p.updatedAt,
            p.id,
          );
          s.bumpRevision.run();
          return copyPlacement(p);
        },
        { foreignKey: () => missingFallbackError(p.fallbackAdId) },
      );
    },

    async deletePlacement(id: string): Promise<boolean> {
      return write(() => {
        // Targets go with it through ON DELETE CASCADE.
        if (s.deletePlacement.run(id).changes === 0) return false;
        s.bumpRevision.run();
        return true;
      });
    },

    async getTargets(placementId: string): Promise<TargetSet | null> {
      return read(() => {
        const placement = s.getPlacement.get(placementId);
        return placement ? targetSetFromRows(placement, s.targetsOf.all(placementId)) : null;
      });
    },

    async putTargets(placementId: string, targets: Target[], updatedAt: string): Promise<TargetSet | null> {
      const list = targets.map((x) => ({ adId: x.adId, share: x.share }));
      return write(
        () => {
          if (!s.getPlacement.get(placementId)) return null;
          const existing = new Set(list.map((x) => x.adId).filter(adExists));
          const problems = targetProblems(list, existing);
          if (problems.length > 0) throw targetsError(problems);
          s.clearTargets.run(placementId);
          for (const [i, x] of list.entries()) s.insertTarget.run(placementId, x.adId, x.share, i);
          const bumped = s.bumpTargets.get(updatedAt, placementId);
          s.bumpRevision.run();
          return { placementId, version: Number(bumped?.targets_version), targets: list, updatedAt };
        },
        { foreignKey: () => targetsError([]) },
      );
    },

    async importConfig(batch: ConfigImportBatch): Promise<ConfigImportResult> {
      return write(() => importBatch(batch), {
        unique: () => importError([]),
        foreignKey: () => importError([]),
      });
    },

    async existingIds(ids: { ads: readonly string[]; placements: readonly string[] }) {
      return read(() => ({
        ads: new Set(createdAts(ids.ads, s.adCreatedAt).keys()),
        placements: new Set(createdAts(ids.placements, s.placementCreatedAt).keys()),
      }));
    },

    async revision(): Promise<number> {
      return revision();
    },

    async snapshot(): Promise<ConfigSnapshot> {
      if (reader !== null) return reader.snapshot();
      return read(() => {
        const placementRows = s.listPlacements.all();
        return {
          revision: revision(),
          ads: s.listAds.all().map(adFromRow),
          placements: placementRows.map(placementFromRow),
          targets: targetSetsFromRows(placementRows, s.allTargets.all()),
        };
      });
    },

    async close(): Promise<void> {
      await reader?.close();
      if (db.open) db.close();
    },
  };
}
