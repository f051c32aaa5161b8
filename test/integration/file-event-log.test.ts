import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEventLog } from '../../src/adapters/file/file-event-log.js';
import { createLoggedEventBus } from '../../src/adapters/file/logged-event-bus.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import type { AllotEvent } from '../../src/core/events/allot-event.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'allot-log-'));
  dirs.push(d);
  return d;
};
const ev = (i: number): AllotEvent => ({
  id: `d${i}:i`,
  type: 'impression',
  ts: 1_780_000_000_000 + i,
  decisionId: `d${i}`,
  placementId: 'home',
  adId: `a${i % 3}`,
  userId: i % 4 === 0 ? null : `u${i}`,
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ev(from + k));
async function replayAll(dir: string): Promise<AllotEvent[]> {
  const log = await openEventLog({ dir });
  const out: AllotEvent[] = [];
  for await (const chunk of log.replay()) out.push(...chunk);
  await log.close();
  return out;
}
const segmentFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();

describe('embedded event log', () => {
  it('group-commits concurrent appends: 1,000 appends, far fewer disk flushes', async () => {
    const dir = newDir();
    const log = await openEventLog({ dir });
    const t0 = performance.now();
    await Promise.all(range(0, 1000).map((e) => log.append([e])));
    const ms = performance.now() - t0;
    const { syncs, unarchived } = log.stats();
    console.log(
      `event log: 1,000 concurrent single-event appends in ${ms.toFixed(1)} ms, ${syncs} fdatasyncs`,
    );
    expect(unarchived).toBe(1000);
    expect(syncs).toBeLessThan(100);
    // Sequential appends: one flush each — the figure group commit saves.
    const t1 = performance.now();
    for (const e of range(1000, 1100)) await log.append([e]);
    const perSync = (performance.now() - t1) / 100;
    console.log(`event log: sequential append (one fdatasync) ${perSync.toFixed(2)} ms`);
    expect(log.stats().syncs).toBe(syncs + 100);
    await log.close();
  });

  it('commit interval: back-to-back appends wait for the next round and share it; after a quiet spell, no wait', async () => {
    const counts: number[] = [];
    for (const commitIntervalMs of [0, 200]) {
      const dir = newDir();
      const log = await openEventLog({ dir, commitIntervalMs });
      await log.append([ev(0)]); // round 1: nothing before it, written at once
      // Five appends 5 ms apart: with no interval, rounds follow one another as appends arrive;
      // with 200 ms, all five wait behind round 1's interval and share round 2.
      const acks: Promise<void>[] = [];
      for (let i = 1; i <= 5; i++) {
        acks.push(log.append([ev(i)]));
        await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(acks);
      counts.push(log.stats().syncs);
      expect(log.stats().unarchived).toBe(6);
      await log.close();
    }
    expect(counts[1]).toBe(2);
    expect(counts[0]).toBeGreaterThan(2);
  });

  it('replays, after a reopen without close, exactly what was appended, in order', async () => {
    const dir = newDir();
    const log = await openEventLog({ dir });
    await log.append(range(0, 10));
    await Promise.all([log.append(range(10, 20)), log.append(range(20, 25))]);
    // Read before close, as after a crash.
    expect(await replayAll(dir)).toEqual(range(0, 25));
    await log.close();
  });

  it('cuts a torn last line (crash mid-write) and keeps appending readably', async () => {
    const dir = newDir();
    const log = await openEventLog({ dir });
    await log.append(range(0, 5));
    appendFileSync(join(dir, segmentFiles(dir).at(-1)!), '["d5:i","impr');
    const again = await openEventLog({ dir });
    const replayed: AllotEvent[] = [];
    for await (const c of again.replay()) replayed.push(...c);
    expect(replayed).toEqual(range(0, 5));
    await again.append(range(5, 8));
    await again.close();
    await log.close();
    expect(await replayAll(dir)).toEqual(range(0, 8));
  });

  it('refuses a corrupt line inside the log with a clear message', async () => {
    const dir = newDir();
    const log = await openEventLog({ dir });
    await log.append(range(0, 2));
    appendFileSync(join(dir, segmentFiles(dir).at(-1)!), 'garbage\n');
    const again = await openEventLog({ dir });
    const drain = async () => {
      for await (const _ of again.replay());
    };
    await expect(drain()).rejects.toThrow(/unreadable line/);
    await again.close();
    await log.close();
  });

  it('deletes wholly archived segments, never the one being written; a clean close with all archived leaves none', async () => {
    const dir = newDir();
    const log = await openEventLog({ dir, segmentBytes: 500 });
    for (let i = 0; i < 10; i++) await log.append(range(i * 10, i * 10 + 10)); // ~900 B each: one segment each
    const before = log.stats().segments;
    expect(before).toBeGreaterThanOrEqual(10);
    log.archived(35);
    await new Promise((r) => setTimeout(r, 50));
    // Segments holding events 0–29 are gone; the one holding 30–39 is only partly archived.
    expect(await replayAll(dir)).toEqual(range(30, 100));
    log.archived(65);
    await log.close();
    expect(segmentFiles(dir)).toEqual([]);
  });

  it('a logged bus hands events to consumers in log order, and replays an earlier process’s events', async () => {
    const dir = newDir();
    const log = await openEventLog({ dir });
    const inner = createMemoryEventBus();
    const bus = createLoggedEventBus(inner, log);
    const seen: string[] = [];
    bus.subscribe('g', async (b) => {
      seen.push(...b.map((e) => e.id));
    });
    await Promise.all([bus.publish(range(0, 3)), bus.publish(range(3, 4)), bus.publish(range(4, 9))]);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(range(0, 9).map((e) => e.id));
    // "Crash": a new process opens the same log and replays into its consumers.
    const inner2 = createMemoryEventBus();
    const bus2 = createLoggedEventBus(inner2, await openEventLog({ dir }));
    const seen2: string[] = [];
    bus2.subscribe('g', async (b) => {
      seen2.push(...b.map((e) => e.id));
    });
    // Published while the replay runs: still after every replayed event.
    const replaying = bus2.replay();
    await bus2.publish(range(9, 10));
    expect(await replaying).toBe(9);
    await bus2.close();
    expect(seen2).toEqual(range(0, 10).map((e) => e.id));
    await bus.close();
  });

  it('keeps every acknowledged append across a SIGKILL', { timeout: 30_000 }, async () => {
    const dir = newDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/event-log-writer.ts'], {
      cwd: ROOT,
      env: { ...process.env, LOG_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
    });
    const exited = new Promise((r) => child.on('exit', r));
    while (out.split('\n').length < 5000) await new Promise((r) => setTimeout(r, 20));
    // A second process on the same log is refused while the first lives.
    await expect(openEventLog({ dir })).rejects.toThrow(/in use by process \d+/);
    child.kill('SIGKILL');
    await exited;
    // The dead owner's lock is taken over (replayAll opens the log).
    // Only whole lines were acknowledged (a line cut by the kill may or may not be).
    const acked = out.split('\n').slice(0, -1);
    const replayed = (await replayAll(dir)).map((e) => e.id);
    expect(new Set(replayed).size).toBe(replayed.length);
    const have = new Set(replayed);
    expect(acked.filter((id) => !have.has(id))).toEqual([]);
    console.log(`event log SIGKILL: ${acked.length} acknowledged, ${replayed.length} replayed, none missing`);
  });
});
