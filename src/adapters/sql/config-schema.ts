import type { Ad } from '../../core/domain/ad.js';
import type { Placement, Target, TargetSet } from '../../core/domain/placement.js';
import { AllotError, type Problem } from '../../core/errors.js';
import type { ConfigImportBatch } from '../../core/ports/config-store.js';

/**
 * What the SQLite and PostgreSQL config stores share: the table layout, row <-> domain
 * mapping and the errors the contract prescribes. Only SQL dialect and driver calls differ.
 */

export type SqlDialect = 'sqlite' | 'postgres';

/** Table names, already qualified (`"schema".ads`) where the dialect needs it. */
export interface ConfigTables {
  ads: string;
  placements: string;
  targets: string;
  meta: string;
}

export function configTables(qualifier = ''): ConfigTables {
  const q = qualifier ? `${qualifier}.` : '';
  return { ads: `${q}ads`, placements: `${q}placements`, targets: `${q}targets`, meta: `${q}meta` };
}

/** Idempotent DDL; run on every start. */
export function configSchemaDdl(dialect: SqlDialect, t: ConfigTables): string[] {
  // jsonb lets operators query ad documents in place; SQLite has no better type than text.
  const docType = dialect === 'postgres' ? 'JSONB' : 'TEXT';
  return [
    `CREATE TABLE IF NOT EXISTS ${t.ads} (
      id TEXT PRIMARY KEY,
      doc ${docType} NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${t.placements} (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      fallback_ad_id TEXT NULL REFERENCES ${t.ads} (id) ON DELETE RESTRICT,
      window_hours INTEGER NOT NULL DEFAULT 24,
      time_zone TEXT NOT NULL DEFAULT 'UTC',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      targets_version INTEGER NOT NULL DEFAULT 0,
      targets_updated_at TEXT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${t.targets} (
      placement_id TEXT NOT NULL REFERENCES ${t.placements} (id) ON DELETE CASCADE,
      ad_id TEXT NOT NULL REFERENCES ${t.ads} (id) ON DELETE RESTRICT,
      share DOUBLE PRECISION NOT NULL,
      position INTEGER NOT NULL,
      PRIMARY KEY (placement_id, ad_id)
    )`,
    // Deleting an ad looks up (and the FK check scans) references by ad id.
    `CREATE INDEX IF NOT EXISTS targets_ad_id_idx ON ${t.targets} (ad_id)`,
    `CREATE INDEX IF NOT EXISTS placements_fallback_ad_id_idx ON ${t.placements} (fallback_ad_id)`,
    `CREATE TABLE IF NOT EXISTS ${t.meta} (
      key TEXT PRIMARY KEY,
      value BIGINT NOT NULL
    )`,
    `INSERT INTO ${t.meta} (key, value) VALUES ('revision', 0) ON CONFLICT (key) DO NOTHING`,
  ];
}

export const AD_COLUMNS = 'id, doc, created_at, updated_at';
export const PLACEMENT_COLUMNS =
  'id, name, fallback_ad_id, window_hours, time_zone, created_at, updated_at, targets_version, targets_updated_at';
export const TARGET_COLUMNS = 'placement_id, ad_id, share, position';

export interface AdRow {
  id: string;
  /** JSON text (SQLite, and what we write) or already parsed (PostgreSQL jsonb). */
  doc: string | AdDoc;
  created_at: string;
  updated_at: string;
}

export interface PlacementRow {
  id: string;
  name: string;
  fallback_ad_id: string | null;
  window_hours: number | string;
  time_zone: string;
  created_at: string;
  updated_at: string;
  targets_version: number | string;
  targets_updated_at: string | null;
}

export interface TargetRow {
  placement_id: string;
  ad_id: string;
  share: number;
  position: number;
}

/** The ad fields kept in the `doc` column; id and timestamps have columns of their own. */
export type AdDoc = Omit<Ad, 'id' | 'createdAt' | 'updatedAt'>;

export function adToRow(ad: Ad): AdRow & { doc: string } {
  const { id, createdAt, updatedAt, ...doc } = ad;
  return { id, doc: JSON.stringify(doc), created_at: createdAt, updated_at: updatedAt };
}

export function adFromRow(row: AdRow): Ad {
  // Parsing also hands the caller a fresh copy when the driver already decoded jsonb.
  const doc = (typeof row.doc === 'string' ? JSON.parse(row.doc) : structuredClone(row.doc)) as AdDoc;
  return { id: row.id, ...doc, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** What a read would return for `ad`: a detached copy without undefined-valued fields. */
export const normalizeAd = (ad: Ad): Ad => adFromRow(adToRow(ad));

export function placementFromRow(row: PlacementRow): Placement {
  return {
    id: row.id,
    name: row.name,
    fallbackAdId: row.fallback_ad_id,
    window: { lengthHours: Number(row.window_hours), timeZone: row.time_zone },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const copyPlacement = (p: Placement): Placement => ({
  id: p.id,
  name: p.name,
  fallbackAdId: p.fallbackAdId,
  window: { lengthHours: p.window.lengthHours, timeZone: p.window.timeZone },
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

/** `rows` must hold only this placement's targets, ordered by position. */
export function targetSetFromRows(placement: PlacementRow, rows: readonly TargetRow[]): TargetSet {
  return {
    placementId: placement.id,
    version: Number(placement.targets_version),
    targets: rows.map((r) => ({ adId: r.ad_id, share: Number(r.share) })),
    updatedAt: placement.targets_updated_at,
  };
}

/** One TargetSet per placement, in placement order; `rows` ordered by placement, position. */
export function targetSetsFromRows(
  placements: readonly PlacementRow[],
  rows: readonly TargetRow[],
): TargetSet[] {
  const byPlacement = new Map<string, TargetRow[]>();
  for (const r of rows) {
    const list = byPlacement.get(r.placement_id);
    if (list) list.push(r);
    else byPlacement.set(r.placement_id, [r]);
  }
  return placements.map((p) => targetSetFromRows(p, byPlacement.get(p.id) ?? []));
}

/** Row of the "which placements use this ad" query. */
export interface AdReferenceRow {
  placement_id: string;
  role: 'target' | 'fallback';
}

/** Lists the placements referencing an ad; `?`/`$1` is the ad id, bound twice for SQLite. */
export function adReferencesSql(t: ConfigTables, param: (n: 1 | 2) => string): string {
  return `SELECT id AS placement_id, 'fallback' AS role FROM ${t.placements} WHERE fallback_ad_id = ${param(1)}
    UNION ALL
    SELECT placement_id, 'target' AS role FROM ${t.targets} WHERE ad_id = ${param(2)}
    ORDER BY placement_id, role`;
}

const pointerSegment = (s: string): string => s.replaceAll('~', '~0').replaceAll('/', '~1');

export const conflictError = (kind: 'ad' | 'placement', id: string): AllotError =>
  new AllotError('ALLOT_ERR_CONFLICT', `${kind} "${id}" already exists`, [
    { path: '/id', message: `${kind} "${id}" already exists` },
  ]);

export const missingFallbackError = (adId: string | null): AllotError =>
  new AllotError('ALLOT_ERR_VALIDATION', 'fallbackAdId names an unknown ad', [
    { path: '/fallbackAdId', message: adId === null ? 'unknown ad' : `ad "${adId}" does not exist` },
  ]);

export function inUseError(adId: string, refs: readonly AdReferenceRow[]): AllotError {
  const problems: Problem[] = refs.map((r) => ({
    path: `/placements/${pointerSegment(r.placement_id)}`,
    message:
      r.role === 'fallback'
        ? `placement "${r.placement_id}" uses ad "${adId}" as its fallback`
        : `placement "${r.placement_id}" targets ad "${adId}"`,
  }));
  return new AllotError('ALLOT_ERR_IN_USE', `ad "${adId}" is still used by placements`, problems);
}

/**
 * Problems with a target list given the ids of the ads that exist among them: one per unknown
 * ad and per repeated ad (the primary key would reject it anyway, with a far worse message).
 */
export function targetProblems(targets: readonly Target[], existingAdIds: IdLookup): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    const path = `/targets/${i}/adId`;
    if (!existingAdIds.has(t.adId)) problems.push({ path, message: `ad "${t.adId}" does not exist` });
    else if (seen.has(t.adId)) problems.push({ path, message: `ad "${t.adId}" is listed more than once` });
    seen.add(t.adId);
  });
  return problems;
}

/** Which ids exist: a Set, a Map, or a union of them. */
export interface IdLookup {
  has(id: string): boolean;
}

/** Marks the second and later uses of an id, in index order, as problems; returns the ids. */
function firstUses(ids: readonly string[], path: (i: number) => string, problems: Problem[]): Set<string> {
  const first = new Map<string, number>();
  ids.forEach((id, i) => {
    const at = first.get(id);
    if (at === undefined) first.set(id, i);
    else problems.push({ path: path(i), message: `duplicate of ${path(at)}` });
  });
  return new Set(first.keys());
}

/**
 * The referential problems of an import batch, given which of `importReferences(batch)`
 * (src/core/domain/import-references.ts) the
 * store holds: repeated ids, and references to ads or placements in neither store nor batch.
 */
export function importProblems(
  batch: ConfigImportBatch,
  stored: { ads: IdLookup; placements: IdLookup },
): Problem[] {
  const problems: Problem[] = [];
  const batchAds = firstUses(
    batch.ads.map((a) => a.id),
    (i) => `/ads/${i}/id`,
    problems,
  );
  const batchPlacements = firstUses(
    batch.placements.map((p) => p.id),
    (i) => `/placements/${i}/id`,
    problems,
  );
  firstUses(
    batch.targets.map((s) => s.placementId),
    (i) => `/targets/${i}/placementId`,
    problems,
  );
  const ads: IdLookup = { has: (id) => batchAds.has(id) || stored.ads.has(id) };
  batch.placements.forEach((p, i) => {
    if (p.fallbackAdId !== null && !ads.has(p.fallbackAdId)) {
      problems.push({
        path: `/placements/${i}/fallbackAdId`,
        message: `ad "${p.fallbackAdId}" does not exist`,
      });
    }
  });
  batch.targets.forEach((set, i) => {
    if (!batchPlacements.has(set.placementId) && !stored.placements.has(set.placementId)) {
      problems.push({
        path: `/targets/${i}/placementId`,
        message: `placement "${set.placementId}" does not exist`,
      });
    }
    for (const p of targetProblems(set.targets, ads)) problems.push({ ...p, path: `/targets/${i}${p.path}` });
  });
  return problems;
}

export const importError = (problems: Problem[]): AllotError =>
  new AllotError(
    'ALLOT_ERR_VALIDATION',
    'the import names unknown or repeated ids',
    problems.length > 0 ? problems : [{ path: '/', message: 'the import names an unknown ad or placement' }],
  );

export const targetsError = (problems: Problem[]): AllotError =>
  new AllotError(
    'ALLOT_ERR_VALIDATION',
    problems.length === 1 ? problems[0]!.message : 'targets name unknown or repeated ads',
    problems.length > 0 ? problems : [{ path: '/targets', message: 'targets name an unknown ad' }],
  );

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', '23505']);
const FOREIGN_KEY_CODES = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

function constraintKind(err: unknown): 'unique' | 'foreignKey' | null {
  if (typeof err !== 'object' || err === null) return null;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return null;
  if (UNIQUE_CODES.has(code)) return 'unique';
  if (FOREIGN_KEY_CODES.has(code)) return 'foreignKey';
  // SQLite enforces ON DELETE RESTRICT like a trigger and reports it with the trigger code.
  if (code === 'SQLITE_CONSTRAINT_TRIGGER' && message === 'FOREIGN KEY constraint failed')
    return 'foreignKey';
  return null;
}

/**
 * Backstop for races the pre-checks cannot see: turns a driver's unique / foreign-key
 * violation into the contract's error; anything else is returned unchanged.
 */
export function translateConstraintError(
  err: unknown,
  on: { unique?: () => AllotError; foreignKey?: () => AllotError },
): unknown {
  const kind = constraintKind(err);
  const mapped = kind ? on[kind] : undefined;
  return mapped ? mapped() : err;
}
