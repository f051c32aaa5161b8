import Database from 'better-sqlite3';
import type { ConfigSnapshot } from '../../core/domain/config-snapshot.js';
import {
  AD_COLUMNS,
  type AdRow,
  adFromRow,
  type ConfigTables,
  PLACEMENT_COLUMNS,
  type PlacementRow,
  placementFromRow,
  TARGET_COLUMNS,
  type TargetRow,
  targetSetsFromRows,
} from '../sql/config-schema.js';

/** Rows read between two checks of the clock. */
const CHECK_EVERY = 256;

/**
 * `snapshot()` of a SQLite config file, read in slices: a second, read-only connection holds
 * one read transaction (WAL: a consistent view of one revision, while the store's own
 * connection keeps writing) and gives the event loop a turn after every `sliceMs` of reading.
 * better-sqlite3 is synchronous: at 500,000 ads one `all()` held the event loop for 4–5 s.
 * Reads are serialised (one transaction on the connection at a time).
 */
export function createSqliteSnapshotReader(opts: { path: string; tables: ConfigTables; sliceMs?: number }) {
  const sliceMs = opts.sliceMs ?? 10;
  const db = new Database(opts.path, { readonly: true, timeout: 5000 });
  const t = opts.tables;
  const s = {
    begin: db.prepare('BEGIN'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    revision: db.prepare<[], { value: number }>(`SELECT value FROM ${t.meta} WHERE key = 'revision'`),
    ads: db.prepare<[], AdRow>(`SELECT ${AD_COLUMNS} FROM ${t.ads} ORDER BY id`),
    placements: db.prepare<[], PlacementRow>(`SELECT ${PLACEMENT_COLUMNS} FROM ${t.placements} ORDER BY id`),
    targets: db.prepare<[], TargetRow>(
      `SELECT ${TARGET_COLUMNS} FROM ${t.targets} ORDER BY placement_id, position`,
    ),
  };
  let queue: Promise<unknown> = Promise.resolve();

  async function collect<R, T>(rows: IterableIterator<R>, map: (row: R) => T): Promise<T[]> {
    const out: T[] = [];
    let sliceStart = performance.now();
    for (const row of rows) {
      out.push(map(row));
      if (out.length % CHECK_EVERY === 0 && performance.now() - sliceStart >= sliceMs) {
        await new Promise((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
    return out;
  }

  async function read(): Promise<ConfigSnapshot> {
    s.begin.run();
    try {
      // The first read fixes the transaction's view: everything below is of this revision.
      const revision = Number(s.revision.get()?.value ?? 0);
      const ads = await collect(s.ads.iterate(), adFromRow);
      const placementRows = await collect(s.placements.iterate(), (r) => r);
      const targetRows = await collect(s.targets.iterate(), (r) => r);
      s.commit.run();
      return {
        revision,
        ads,
        placements: placementRows.map(placementFromRow),
        targets: targetSetsFromRows(placementRows, targetRows),
      };
    } catch (err) {
      if (db.inTransaction) s.rollback.run();
      throw err;
    }
  }

  return {
    snapshot(): Promise<ConfigSnapshot> {
      const run = queue.then(read);
      queue = run.catch(() => undefined);
      return run;
    },
    async close(): Promise<void> {
      await queue;
      if (db.open) db.close();
    },
  };
}
