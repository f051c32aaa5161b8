import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPostgresConfigStore } from '../../src/adapters/postgres/postgres-config-store.js';
import { conflictError, inUseError, translateConstraintError } from '../../src/adapters/sql/config-schema.js';
import { createSqliteConfigStore } from '../../src/adapters/sqlite/sqlite-config-store.js';
import { AllotError } from '../../src/core/errors.js';
import { describeConfigStoreConformance } from '../conformance/config-store.conformance.js';
import { makeAd } from '../support/fixtures.js';

const PG_URL = process.env.ALLOT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describeConfigStoreConformance('sqlite (file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'allot-config-'));
  // A missing parent directory is part of what the adapter must handle.
  const path = join(dir, 'nested', 'config.db');
  const store = createSqliteConfigStore({ path });
  return {
    store,
    openAnother: async () => createSqliteConfigStore({ path }),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeConfigStoreConformance('sqlite (:memory:)', async () => {
  const store = createSqliteConfigStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

describeConfigStoreConformance('postgres', async () => {
  const schema = `allot_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const store = await createPostgresConfigStore({ url: PG_URL, schema });
  return {
    store,
    openAnother: () => createPostgresConfigStore({ url: PG_URL, schema }),
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
});

describe('createPostgresConfigStore', () => {
  it('rejects schema names that are not plain identifiers', async () => {
    for (const schema of ['Allot', 'a-b', 'x"; DROP TABLE y; --', '1abc', '', 'a'.repeat(64)]) {
      await expect(createPostgresConfigStore({ url: PG_URL, schema })).rejects.toThrow(/schema/);
    }
  });

  it('creates its tables in the given schema only', async () => {
    const schema = `allot_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const store = await createPostgresConfigStore({ url: PG_URL, schema });
    try {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const { rows } = await client.query<{ table_name: string }>(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
          [schema],
        );
        expect(rows.map((r) => r.table_name)).toEqual(['ads', 'meta', 'placements', 'targets']);
      } finally {
        await client.end();
      }
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('instances starting together on a new schema all come up', async () => {
    const schema = `allot_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => createPostgresConfigStore({ url: PG_URL, schema })),
    );
    try {
      for (const s of stores) expect(await s.revision()).toBe(0);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    }
  });
});

describe('sqlite (file): snapshots read in slices', () => {
  it('a large snapshot lets the event loop run and writes go on, and is still of one revision', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allot-config-'));
    const store = createSqliteConfigStore({ path: join(dir, 'config.db') });
    try {
      const N = 30_000;
      const ads = Array.from({ length: N }, (_, i) => makeAd(`ad-${String(i).padStart(6, '0')}`));
      await store.importConfig({ ads, placements: [], targets: [], updatedAt: ads[0]!.updatedAt });
      expect(await store.revision()).toBe(1);
      // While the snapshot is read, every turn of the event loop writes one more ad.
      let turns = 0;
      let reading = true;
      const writes: Promise<unknown>[] = [];
      const tick = () => {
        if (!reading) return;
        turns++;
        writes.push(store.createAd(makeAd(`late-${turns}`)));
        setImmediate(tick);
      };
      setImmediate(tick);
      const snap = await store.snapshot();
      reading = false;
      await Promise.all(writes);
      expect(turns).toBeGreaterThan(1);
      expect(await store.revision()).toBe(1 + writes.length);
      // One revision's view: the revision and the ads agree, whatever was written meanwhile.
      expect(snap.revision).toBe(1 + (snap.ads.length - N));
      expect(snap.ads.slice(0, N).map((a) => a.id)).toEqual(ads.map((a) => a.id));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The pre-checks make these violations unreachable through the API, so provoke them directly
// to prove the backstop recognizes each driver's real errors.
describe('constraint violation backstop', () => {
  const on = { unique: () => conflictError('ad', 'x'), foreignKey: () => inUseError('x', []) };
  const ddl = [
    'CREATE TEMP TABLE a (id TEXT PRIMARY KEY)',
    'CREATE TEMP TABLE b (x TEXT REFERENCES a (id) ON DELETE RESTRICT)',
    "INSERT INTO a VALUES ('1')",
    "INSERT INTO b VALUES ('1')",
  ];
  const violations = [
    ["INSERT INTO a VALUES ('1')", 'ALLOT_ERR_CONFLICT'],
    ['DELETE FROM a', 'ALLOT_ERR_IN_USE'],
    ["INSERT INTO b VALUES ('2')", 'ALLOT_ERR_IN_USE'],
  ] as const;

  it('maps SQLite errors', () => {
    const db = new Database(':memory:');
    try {
      db.pragma('foreign_keys = ON');
      for (const sql of ddl) db.exec(sql);
      for (const [sql, code] of violations) {
        const mapped = translateConstraintError(
          catchSync(() => db.exec(sql)),
          on,
        );
        expect(mapped, sql).toBeInstanceOf(AllotError);
        expect((mapped as AllotError).code, sql).toBe(code);
      }
      expect(
        translateConstraintError(
          catchSync(() => db.exec('SELECT nope')),
          on,
        ),
      ).not.toBeInstanceOf(AllotError);
    } finally {
      db.close();
    }
  });

  it('maps PostgreSQL errors', async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      for (const sql of ddl) await client.query(sql);
      for (const [sql, code] of violations) {
        const mapped = translateConstraintError(await client.query(sql).catch((e: unknown) => e), on);
        expect(mapped, sql).toBeInstanceOf(AllotError);
        expect((mapped as AllotError).code, sql).toBe(code);
      }
    } finally {
      await client.end();
    }
  });
});

function catchSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
