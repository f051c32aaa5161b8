import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.js';
import { type S3rverHandle, startS3rver } from '../support/s3rver.js';
import { imageAd, type Running, startAllot } from '../support/start-allot.js';

// The reliability issue's S3 fault: the S3 server goes away while events flow. Beacons are still
// acknowledged (the embedded event log holds them), archive writes fail and are retried (the
// SDK's backoff, then the bus redelivers), and once S3 is back the archive holds every event
// exactly once — no object half-written, nothing lost or doubled.
describe('S3 outage while archiving', () => {
  const dir = mkdtempSync(join(tmpdir(), 'allot-s3-outage-'));
  let s3: S3rverHandle | null = null;
  let allot: Running | null = null;
  afterAll(async () => {
    await allot?.stop().catch(() => undefined);
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('archives everything exactly once after S3 returns', { timeout: 120_000 }, async () => {
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    process.env.AWS_REGION = 'us-east-1';
    const port = await freePort();
    s3 = await startS3rver({ port, dir });
    allot = await startAllot({
      ALLOT_ARCHIVE_URL: `s3://${s3.bucket}/outage`,
      ALLOT_S3_ENDPOINT: s3.endpoint,
      ALLOT_ARCHIVE_FLUSH_MS: '200',
    });
    const a = allot;
    await a.json('POST', '/v1/ads', imageAd('a'));
    await a.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'a' });
    const fire = async (n: number) => {
      let acked = 0;
      for (let i = 0; i < n; i++) {
        const d = await a.json<{ impressionUrl: string }>('POST', '/v1/decisions', { placementId: 'home' });
        if ((await a.call('GET', d.body.impressionUrl, undefined, { admin: false })).status === 204) acked++;
      }
      return acked;
    };
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const report = async () => {
      const r = await a.json<{ rows: Array<{ decisions: number; impressions: number }> }>(
        'GET',
        `/v1/reports/allocation?from=${from}&to=${to}`,
      );
      if (r.status !== 200) return null;
      return r.body.rows.reduce((s, x) => ({ d: s.d + x.decisions, i: s.i + x.impressions }), { d: 0, i: 0 });
    };
    const waitFor = async (want: { d: number; i: number }) => {
      for (let k = 0; k < 150; k++) {
        const r = await report().catch(() => null);
        if (r?.d === want.d && r.i === want.i) return r;
        await new Promise((res) => setTimeout(res, 200));
      }
      return report();
    };

    expect(await fire(60)).toBe(60);
    expect(await waitFor({ d: 60, i: 60 })).toEqual({ d: 60, i: 60 });

    await s3.stop(); // the folder stays: the same bucket comes back
    s3 = null;
    expect(await fire(60)).toBe(60); // acknowledged by the event log, not by S3
    await new Promise((res) => setTimeout(res, 1500)); // writes fail and are retried meanwhile

    s3 = await startS3rver({ port, dir });
    expect(await waitFor({ d: 120, i: 120 })).toEqual({ d: 120, i: 120 });
    await new Promise((res) => setTimeout(res, 1000));
    expect(await report()).toEqual({ d: 120, i: 120 });
  });
});
