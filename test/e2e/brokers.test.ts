import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix } from '../support/redis.js';
import { eventually, imageAd, pool, type Running, startAllot } from '../support/start-allot.js';

const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env.ALLOT_TEST_NATS_URL ?? '127.0.0.1:4222';
const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;

interface StatusBody {
  totalImpressions: number;
  ads: Array<{ adId: string; impressions: number; share: number; targetShare: number }>;
}

/** The foundation's share test, with the pipeline on a real broker and counters/dedup in Redis. */
async function sharesThroughPipeline(s: Running): Promise<void> {
  for (const id of ['a', 'b', 'house'])
    expect((await s.call('POST', '/v1/ads', imageAd(id))).status).toBe(201);
  await s.call('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'house' });
  await s.call('PUT', '/v1/placements/home/targets', {
    targets: [
      { adId: 'a', share: 0.3 },
      { adId: 'b', share: 0.5 },
    ],
  });
  const fired = new Map<string, number>();
  const N = 3000;
  const urls: string[] = [];
  await pool(N, 16, async () => {
    const res = await s.call('POST', '/v1/decisions', { placementId: 'home' }, { admin: false });
    expect(res.status).toBe(200);
    const d = (await res.json()) as { ad: { id: string }; impressionUrl: string };
    expect((await fetch(`${s.base}${d.impressionUrl}`)).status).toBe(204);
    urls.push(d.impressionUrl);
    fired.set(d.ad.id, (fired.get(d.ad.id) ?? 0) + 1);
  });
  // Every impression fired again: counted once all the same (dedup by event id).
  await pool(200, 16, async (i) => {
    expect((await fetch(`${s.base}${urls[i]}`)).status).toBe(204);
  });
  let status!: StatusBody;
  const counted = await eventually(async () => {
    status = (await s.json<StatusBody>('GET', '/v1/placements/home/status')).body;
    return status.totalImpressions === N;
  }, 20_000);
  expect(counted, JSON.stringify(status)).toBe(true);
  await new Promise((r) => setTimeout(r, 300));
  status = (await s.json<StatusBody>('GET', '/v1/placements/home/status')).body;
  expect(status.totalImpressions).toBe(N);
  for (const e of status.ads) {
    expect(e.impressions).toBe(fired.get(e.adId));
    expect(Math.abs(e.share - e.targetShare)).toBeLessThanOrEqual(0.005);
  }
}

describe('pipeline on real brokers', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  const stream = `ALLOT_E2E_${tag}`;
  const brokers: Array<{
    name: string;
    prefix: string;
    env: Record<string, string>;
    cleanup?: () => Promise<void>;
  }> = [
    {
      name: 'Redis Streams bus, Redis counters and dedup',
      prefix: `allot-e2e-${tag}`,
      env: { ALLOT_BUS: 'redis', ALLOT_SAMPLING: 'exact' },
    },
    {
      name: 'NATS JetStream bus with Redis counters and dedup',
      prefix: `allot-e2e-nats-${tag}`,
      env: {
        ALLOT_BUS: 'nats',
        ALLOT_SAMPLING: 'exact',
        ALLOT_NATS_URL: NATS_URL,
        ALLOT_NATS_STREAM: stream,
      },
      cleanup: async () => {
        const nc = await connect({ servers: NATS_URL });
        await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
        await nc.close();
      },
    },
  ];

  for (const broker of brokers) {
    it(`${broker.name}: exact counts, shares on target`, async () => {
      cleanups.push(() => deleteRedisPrefix(REDIS_URL, broker.prefix));
      if (broker.cleanup) cleanups.push(broker.cleanup);
      const s = await startAllot({
        ...broker.env,
        ALLOT_REDIS_URL: REDIS_URL,
        ALLOT_REDIS_PREFIX: broker.prefix,
      });
      try {
        await sharesThroughPipeline(s);
      } finally {
        await s.stop();
      }
    }, 120_000);
  }
});
