import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { AGGREGATOR_GROUP } from '../../src/pipeline/aggregator.js';
import { startNatsServer, stopProcess } from '../support/nats-server.js';
import { freePort } from '../support/net.js';
import { deleteRedisPrefix } from '../support/redis.js';
import { imageAd, pool, type Running, startAllot } from '../support/start-allot.js';

const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * nats.js gives a lost connection 10 reconnect attempts 2 s apart (~20 s) by default; the broker
 * stays away longer than that, so a bus that gives up on its connection is caught.
 */
const OUTAGE_MIN_MS = 25_000;
/** Traffic during the outage; the rest of it waits for the beacons fired meanwhile to be answered. */
const OUTAGE_TRAFFIC_MS = 18_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type PerAd = Record<string, { decisions: number; impressions: number }>;
interface StatusBody {
  ads: Array<{ adId: string; decisions: number; impressions: number }>;
}

/** `name{label="value"} n` (or `name n`) from a Prometheus text exposition; 0 when absent. */
function metric(text: string, name: string, label = ''): number {
  const escaped = `${name}${label}`.replace(/[{}"]/g, (c) => `\\${c}`);
  const m = text.match(new RegExp(`^${escaped} (\\S+)$`, 'm'));
  return m === null ? 0 : Number(m[1]);
}

// The reliability issue's broker fault, the mirror of redis-outage.test.ts: with NATS JetStream as
// the bus and Redis holding the live counters, the broker is SIGKILLed while traffic continues and
// later restarted on the same port and file store. Decisions keep being answered; beacons are
// answered too, with a 503 while the broker cannot store them (the ad tag retries those); the
// events wait in the server's bounded publish buffer; once the broker is back the live counters
// reach exactly the client's ground truth per ad, with no further request needed, and the beacons
// the client retries are not counted twice.
// No Redis Streams twin: ALLOT_BUS=redis uses the ALLOT_REDIS_URL connection that also holds the
// state (src/app/open-pipeline.ts), so its broker cannot go away alone; redis-outage covers that.
describe('NATS broker outage (NATS bus, Redis state)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'allot-broker-outage-'));
  const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const prefix = `allot-broker-outage-${tag}`;
  const stream = `ALLOT_BROKER_OUTAGE_${tag.replace(/-/g, '_')}`;
  let nats: ChildProcess | null = null;
  let allot: Running | null = null;
  afterAll(async () => {
    // Bounded: closing drains the bus, which waits on the broker if a failed test left it down.
    await Promise.race([allot?.stop().catch(() => undefined), sleep(10_000)]);
    if (nats !== null) await stopProcess(nats);
    rmSync(dir, { recursive: true, force: true });
    await deleteRedisPrefix(REDIS_URL, prefix);
  });

  it('answers through the outage and counts every event exactly once after the broker returns', {
    timeout: 90_000,
  }, async () => {
    const port = await freePort();
    nats = await startNatsServer(port, dir);
    allot = await startAllot({
      ALLOT_REDIS_URL: REDIS_URL,
      ALLOT_REDIS_PREFIX: prefix,
      ALLOT_BUS: 'nats',
      ALLOT_NATS_URL: `127.0.0.1:${port}`,
      ALLOT_NATS_STREAM: stream,
      ALLOT_SAMPLING: 'exact',
      ALLOT_ARCHIVE_DIR: 'off',
      ALLOT_COUNT_INTERVAL_MS: '100',
    });
    const a = allot;
    expect((await a.json('POST', '/v1/ads', imageAd('a'))).status).toBe(201);
    expect((await a.json('POST', '/v1/ads', imageAd('house'))).status).toBe(201);
    await a.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'house' });
    await a.json('PUT', '/v1/placements/home/targets', { targets: [{ adId: 'a', share: 0.5 }] });

    // Ground truth, as the client saw it: decisions answered and impressions acknowledged, per ad.
    const truth: PerAd = {};
    const add = (adId: string, kind: 'decisions' | 'impressions') => {
      truth[adId] ??= { decisions: 0, impressions: 0 };
      truth[adId][kind]++;
    };
    let n = 0;
    const decide = async (): Promise<{ status: number; adId: string; impressionUrl: string }> => {
      const body = { placementId: 'home', userId: `u${n++ % 9}` };
      const res = await a.call('POST', '/v1/decisions', body, { admin: false });
      if (res.status !== 200) return { status: res.status, adId: '', impressionUrl: '' };
      const d = (await res.json()) as { ad: { id: string }; impressionUrl: string };
      add(d.ad.id, 'decisions');
      return { status: 200, adId: d.ad.id, impressionUrl: d.impressionUrl };
    };
    const beacon = async (url: string) => (await a.call('GET', url, undefined, { admin: false })).status;
    const live = async (): Promise<PerAd | null> => {
      const r = await a.json<StatusBody>('GET', '/v1/placements/home/status').catch(() => null);
      if (r?.status !== 200) return null;
      const out: PerAd = {};
      for (const x of r.body.ads) {
        if (x.decisions + x.impressions > 0)
          out[x.adId] = { decisions: x.decisions, impressions: x.impressions };
      }
      return out;
    };
    const metrics = async () => (await a.call('GET', '/metrics', undefined, { admin: false })).text();
    const sorted = (p: PerAd) => Object.fromEntries(Object.entries(p).sort(([x], [y]) => x.localeCompare(y)));
    /** Polls until the live counters equal the ground truth, or the deadline; returns the last read. */
    const untilLiveIsTruth = async (ms: number): Promise<PerAd | null> => {
      const end = Date.now() + ms;
      let got = await live();
      const want = JSON.stringify(sorted(truth));
      while (JSON.stringify(sorted(got ?? {})) !== want && Date.now() < end) {
        await sleep(200);
        got = await live();
      }
      return got;
    };

    // Before: traffic flows and is counted.
    const before = await pool(60, 4, async () => {
      const d = await decide();
      const b = d.status === 200 ? await beacon(d.impressionUrl) : 0;
      if (b === 204) add(d.adId, 'impressions');
      return [d.status, b];
    });
    expect(before.every(([d, b]) => d === 200 && b === 204)).toBe(true);
    expect(sorted((await untilLiveIsTruth(20_000)) ?? {})).toEqual(sorted(truth));

    // Outage: SIGKILL (the file store keeps what was acknowledged).
    await stopProcess(nats);
    nats = null;
    const killedAt = Date.now();
    let bufferedMax = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        bufferedMax = Math.max(bufferedMax, metric(await metrics(), 'allot_events_buffered'));
        await sleep(250);
      }
    })();
    const decisionStatuses = new Map<number, number>();
    const beacons: Array<Promise<{ status: number; adId: string; url: string }>> = [];
    while (Date.now() - killedAt < OUTAGE_TRAFFIC_MS) {
      const d = await decide();
      decisionStatuses.set(d.status, (decisionStatuses.get(d.status) ?? 0) + 1);
      if (d.status === 200) {
        // Not awaited: a beacon is answered only once the publish has failed (or succeeded).
        beacons.push(
          beacon(d.impressionUrl).then((status) => ({ status, adId: d.adId, url: d.impressionUrl })),
        );
      }
      await sleep(25); // traffic pacing, not a wait for a condition
    }
    const answered = await Promise.all(beacons);
    while (Date.now() - killedAt < OUTAGE_MIN_MS) await sleep(100);
    watching = false;
    await watcher;
    const beaconStatuses = new Map<number, number>();
    for (const b of answered) beaconStatuses.set(b.status, (beaconStatuses.get(b.status) ?? 0) + 1);
    const outageDecisions = answered.length;
    console.log(
      `broker outage ${((Date.now() - killedAt) / 1000).toFixed(1)} s: decisions ${JSON.stringify(Object.fromEntries(decisionStatuses))}, ` +
        `beacons ${JSON.stringify(Object.fromEntries(beaconStatuses))}, allot_events_buffered max ${bufferedMax}`,
    );
    expect(Object.fromEntries(decisionStatuses)).toEqual({ 200: outageDecisions });
    expect(outageDecisions).toBeGreaterThan(100);
    // Every beacon was answered: acknowledged, or refused with 503 for the client to retry.
    expect([...beaconStatuses.keys()].every((s) => s === 204 || s === 503)).toBe(true);
    expect(bufferedMax).toBeGreaterThan(0);
    for (const b of answered) if (b.status === 204) add(b.adId, 'impressions');

    // Back on the same port and store. The client will retry every refused beacon until it is
    // acknowledged (below), so each decision of the outage ends with one acknowledged impression.
    // Before any retry, with no further request at all, the buffered events reach the counters:
    // the decisions, and the impressions of the refused beacons (the server kept those too).
    nats = await startNatsServer(port, dir);
    const retry = answered.filter((b) => b.status !== 204);
    for (const b of retry) add(b.adId, 'impressions');
    expect(sorted((await untilLiveIsTruth(30_000)) ?? {})).toEqual(sorted(truth));

    // The client retries the refused beacons (as the ad tag does): acknowledged now, i.e. in the
    // stream. Once the aggregator's durable has nothing pending or unacknowledged, every retry has
    // been through the aggregator, dropped as already counted.
    const duplicates = (text: string) => metric(text, 'allot_events_duplicate_total', '{type="impression"}');
    const duplicatesBefore = duplicates(await metrics());
    const retried = await pool(retry.length, 8, async (i) => beacon(retry[i]!.url));
    expect(retried.every((s) => s === 204)).toBe(true);
    const nc = await connect({ servers: `127.0.0.1:${port}` });
    let backlog = -1;
    try {
      const jsm = await jetstreamManager(nc);
      const end = Date.now() + 20_000;
      for (;;) {
        const ci = await jsm.consumers.info(stream, AGGREGATOR_GROUP);
        backlog = ci.num_pending + ci.num_ack_pending;
        if (backlog === 0 || Date.now() > end) break;
        await sleep(100);
      }
    } finally {
      await nc.close();
    }
    expect(backlog).toBe(0);
    const m = await metrics();
    const total = Object.values(truth).reduce((s, x) => s + x.decisions, 0);
    console.log(
      `after the outage: ${retry.length} beacons retried, ${duplicates(m) - duplicatesBefore} duplicates dropped, ` +
        `truth ${JSON.stringify(sorted(truth))}`,
    );
    expect(duplicates(m)).toBeGreaterThanOrEqual(duplicatesBefore + retry.length);
    expect(metric(m, 'allot_events_counted_total', '{type="decision"}')).toBe(total);
    expect(metric(m, 'allot_events_counted_total', '{type="impression"}')).toBe(total);
    expect(metric(m, 'allot_events_shed_total')).toBe(0);
    expect(sorted((await live()) ?? {})).toEqual(sorted(truth));
  });
});
