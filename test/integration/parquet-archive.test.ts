import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createParquetArchive } from '../../src/archive/parquet-archive.js';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';

const T = Date.parse('2026-06-01T10:00:00Z');
const H = 3_600_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'allot-archive-'));
  dirs.push(d);
  return d;
};

const TYPES: EventType[] = ['decision', 'impression', 'click'];
/** n events over two hours: event i of decision d = floor(i / 3), ad a<i % 4>, placement p<i % 2>. */
const events = (from: number, to: number): AllotEvent[] =>
  Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    const decisionId = `d${Math.floor(i / 3)}`;
    const type = TYPES[i % 3]!;
    return {
      id: `${decisionId}:${type[0]}`,
      type,
      ts: T + ((i * 7_919) % (2 * H)),
      decisionId,
      placementId: `p${i % 2}`,
      adId: `a${i % 4}`,
      userId: i % 5 === 0 ? null : `u${i % 50}`,
    };
  });

/** Ground truth: per placement/ad/type, each id once. */
function truth(list: readonly AllotEvent[]) {
  const seen = new Map<string, AllotEvent>();
  for (const e of list) seen.set(e.id, e);
  const out = new Map<string, number>();
  for (const e of seen.values()) {
    const k = `${e.placementId}/${e.adId}/${e.type}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return Object.fromEntries([...out].sort());
}
const asMap = (rows: Array<{ placementId: string; adId: string; type: string; events: number }>) =>
  Object.fromEntries(rows.map((r) => [`${r.placementId}/${r.adId}/${r.type}`, r.events]).sort());
const files = (dir: string) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.parquet'))
    .sort();

describe('Parquet archive (local folder, DuckDB)', () => {
  it('writes Hive partitions by UTC date and hour; counts equal the events written', async () => {
    const dir = newDir();
    const archive = await createParquetArchive({ dir });
    const batch = events(0, 3000);
    const written = await archive.write(batch);
    expect(written).toHaveLength(2);
    expect(files(dir).map((f) => f.split('/').slice(0, 2).join('/'))).toEqual([
      'dt=2026-06-01/hour=10',
      'dt=2026-06-01/hour=11',
    ]);
    expect(asMap(await archive.counts(T, T + 2 * H))).toEqual(truth(batch));
    // Only the hour asked for.
    const firstHour = batch.filter((e) => e.ts < T + H);
    expect(asMap(await archive.counts(T, T + H))).toEqual(truth(firstHour));
    await archive.close();
  });

  it('a replayed batch replaces its own files; a regrouped replay is read once per event id', async () => {
    const dir = newDir();
    const archive = await createParquetArchive({ dir });
    const batch = events(0, 2000);
    await archive.write(batch);
    const before = files(dir);
    await archive.write([...batch].reverse()); // the same batch again, in another order
    expect(files(dir)).toEqual(before);
    // After a crash a consumer may re-read part of it together with newer events.
    const regrouped = [...batch.slice(1000), ...events(2000, 2600)];
    await archive.write(regrouped);
    expect(files(dir).length).toBeGreaterThan(before.length);
    expect(asMap(await archive.counts(T, T + 2 * H))).toEqual(truth([...batch, ...regrouped]));
    await archive.close();
  });

  it('a second process reads what the first wrote', async () => {
    const dir = newDir();
    const writer = await createParquetArchive({ dir });
    const batch = events(0, 500);
    await writer.write(batch);
    await writer.close();
    const reader = await createParquetArchive({ dir });
    expect(asMap(await reader.counts(T - H, T + 3 * H))).toEqual(truth(batch));
    await reader.close();
  });
});
