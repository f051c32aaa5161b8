import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.js';
import { imageAd, type Running, startAllot } from '../support/start-allot.js';

const NATS_URL = process.env.ALLOT_TEST_NATS_URL ?? '127.0.0.1:4222';

/** A private redis-server that keeps its data across a clean stop (AOF), on a port of its own. */
function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b) => {
      out += b;
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
}
const stopRedis = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

type Ads = Array<{ adId: string; decisions: number; impressions: number }>;

// The reliability issue's Redis fault: with NATS as the bus and Redis holding live counters,
// frequency state and weights, Redis goes away. Decisions keep being served from the last plan,
// beacons keep being acknowledged (the broker holds them), and when Redis returns the counts
// catch up exactly — nothing lost, nothing doubled.
describe('Redis outage (NATS bus, Redis state)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'allot-redis-outage-'));
  const stream = `ALLOT_OUTAGE_${randomBytes(3).toString('hex')}`;
  let redis: ChildProcess | null = null;
  let allot: Running | null = null;
  afterAll(async () => {
    await allot?.stop().catch(() => undefined);
    redis?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it('serves and acknowledges through the outage, and counts everything once Redis is back', {
    timeout: 120_000,
  }, async () => {
    const port = await freePort();
    redis = await startRedis(port, dir);
    allot = await startAllot({
      ALLOT_REDIS_URL: `redis://127.0.0.1:${port}`,
      ALLOT_REDIS_PREFIX: 'outage',
      ALLOT_BUS: 'nats',
      ALLOT_NATS_URL: NATS_URL,
      ALLOT_NATS_STREAM: stream,
      ALLOT_SAMPLING: 'exact',
      ALLOT_ARCHIVE_DIR: 'off',
      ALLOT_COUNT_INTERVAL_MS: '100',
    });
    const a = allot;
    await a.json('POST', '/v1/ads', imageAd('a'));
    await a.json('POST', '/v1/ads', imageAd('house'));
    await a.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'house' });
    await a.json('PUT', '/v1/placements/home/targets', { targets: [{ adId: 'a', share: 0.5 }] });

    const fire = async (n: number) => {
      const results = { decisions: 0, impressions: 0, statuses: new Map<number, number>() };
      for (let i = 0; i < n; i++) {
        const d = await a.json<{ impressionUrl: string }>('POST', '/v1/decisions', {
          placementId: 'home',
          userId: `u${i % 9}`,
        });
        results.statuses.set(d.status, (results.statuses.get(d.status) ?? 0) + 1);
        if (d.status !== 200) continue;
        results.decisions++;
        const b = await a.call('GET', d.body.impressionUrl, undefined, { admin: false });
        if (b.status === 204) results.impressions++;
      }
      return results;
    };
    const totals = async () => {
      const r = await a.json<{ ads: Ads }>('GET', '/v1/placements/home/status');
      if (r.status !== 200) return null;
      return r.body.ads.reduce(
        (s, x) => ({ decisions: s.decisions + x.decisions, impressions: s.impressions + x.impressions }),
        { decisions: 0, impressions: 0 },
      );
    };
    const waitFor = async (want: { decisions: number; impressions: number }, ms: number) => {
      const end = Date.now() + ms;
      let t = await totals();
      while (Date.now() < end && (t?.decisions !== want.decisions || t?.impressions !== want.impressions)) {
        await new Promise((r) => setTimeout(r, 200));
        t = await totals().catch(() => null);
      }
      return t;
    };

    const before = await fire(100);
    expect(before.decisions).toBe(100);
    expect(await waitFor({ decisions: 100, impressions: 100 }, 20_000)).toEqual({
      decisions: 100,
      impressions: 100,
    });

    // Outage.
    await stopRedis(redis);
    redis = null;
    const during = await fire(100);
    expect(Object.fromEntries(during.statuses)).toEqual({ 200: 100 });
    expect(during.impressions).toBe(100);

    // Back: the counters catch up with what the broker kept, exactly.
    redis = await startRedis(port, dir);
    expect(await waitFor({ decisions: 200, impressions: 200 }, 60_000)).toEqual({
      decisions: 200,
      impressions: 200,
    });
    // And nothing more arrives later (no double count from redeliveries).
    await new Promise((r) => setTimeout(r, 1500));
    expect(await totals()).toEqual({ decisions: 200, impressions: 200 });
  });
});
