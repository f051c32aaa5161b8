import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-process.js';
import { startS3rver } from '../support/s3rver.js';
import { imageAd, type Running, startAllot } from '../support/start-allot.js';

type Counts = { decisions: number; impressions: number; clicks: number };
interface ReportBody {
  columns: string[];
  rows: Array<Record<string, string | number | null>>;
}

const sum = (rows: ReportBody['rows']): Counts => {
  const c = { decisions: 0, impressions: 0, clicks: 0 };
  for (const r of rows) {
    c.decisions += Number(r.decisions);
    c.impressions += Number(r.impressions);
    c.clicks += Number(r.clicks);
  }
  return c;
};

/** Decisions, impressions (some fired twice, as a retrying browser does) and clicks over HTTP. */
async function fire(allot: Running, n: number): Promise<Counts> {
  const fired = { decisions: 0, impressions: 0, clicks: 0 };
  for (let i = 0; i < n; i++) {
    const d = await allot.json('POST', '/v1/decisions', { placementId: 'home', userId: `u${i % 7}` });
    expect(d.status).toBe(200);
    fired.decisions++;
    const { impressionUrl, clickUrl } = d.body as { impressionUrl: string; clickUrl: string };
    if (i % 3 !== 0) {
      expect((await allot.call('GET', impressionUrl, undefined, { admin: false })).status).toBe(204);
      fired.impressions++;
      if (i % 10 === 1) await allot.call('GET', impressionUrl, undefined, { admin: false });
    }
    if (i % 9 === 0) {
      expect((await allot.call('GET', clickUrl, undefined, { admin: false })).status).toBe(302);
      fired.clicks++;
    }
  }
  return fired;
}

const waitFor = async <T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
};

let s3: Awaited<ReturnType<typeof startS3rver>>;
beforeAll(async () => {
  s3 = await startS3rver();
  // The AWS SDK's standard credential chain reads these (s3rver's fixed test credentials).
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_REGION = 'us-east-1';
}, 60_000);
afterAll(async () => {
  await s3?.stop();
});

// Tried as a new user would: decisions, impressions and clicks over HTTP, then the allocation
// report (API, CSV, CLI) counts each of them exactly once — on the local folder and on S3.
describe.each(['folder', 's3'] as const)('allocation report over the %s archive', (kind) => {
  it('counts exactly the events fired, a few seconds after they were', { timeout: 120_000 }, async () => {
    const archiveEnv: Record<string, string> =
      kind === 's3'
        ? { ALLOT_ARCHIVE_URL: `s3://${s3.bucket}/e2e-${process.pid}`, ALLOT_S3_ENDPOINT: s3.endpoint }
        : {};
    const allot = await startAllot({ ALLOT_ARCHIVE_FLUSH_MS: '300', ...archiveEnv });
    try {
      await allot.json('POST', '/v1/ads', imageAd('a'));
      await allot.json('POST', '/v1/ads', imageAd('house'));
      await allot.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'house' });
      await allot.json('PUT', '/v1/placements/home/targets', { targets: [{ adId: 'a', share: 0.5 }] });
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const fired = await fire(allot, 240);
      const to = new Date(Date.now() + 3_600_000).toISOString();
      const query = `/v1/reports/allocation?placementId=home&from=${from}&to=${to}&granularity=hour`;

      // The archiver flushes every 300 ms here: the report catches up within seconds.
      const report = await waitFor(
        async () => (await allot.json<ReportBody>('GET', query)).body,
        (b) => sum(b.rows).decisions === fired.decisions && sum(b.rows).impressions === fired.impressions,
        20_000,
      );
      expect(sum(report.rows)).toEqual(fired);
      expect(new Set(report.rows.map((r) => r.adId))).toEqual(new Set(['a', 'house']));
      for (const r of report.rows) {
        expect(r.targetShare).toBe(0.5); // a: its target; house: what the targets leave
        expect(r.renderRate).toBeCloseTo(Number(r.impressions) / Number(r.decisions), 6);
        expect(Number(r.uniqueUsers)).toBeLessThanOrEqual(7);
        expect(r.deviation).toBeCloseTo(Number(r.share) - 0.5, 6);
      }
      const shares = report.rows.reduce((s, r) => s + Number(r.share), 0);
      const hours = new Set(report.rows.map((r) => r.period)).size;
      expect(shares).toBeCloseTo(hours, 6);

      // The same report as CSV: a header of the columns, one line per row.
      const csv = await allot.call('GET', query, undefined, { headers: { accept: 'text/csv' } });
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = (await csv.text()).trimEnd().split('\r\n');
      expect(lines[0]).toBe(report.columns.join(','));
      expect(lines.length).toBe(report.rows.length + 1);
      const col = (name: string) => report.columns.indexOf(name);
      const csvImpressions = lines.slice(1).reduce((s, l) => s + Number(l.split(',')[col('impressions')]), 0);
      expect(csvImpressions).toBe(fired.impressions);

      // Bad input: every problem listed, stable code.
      const bad = await allot.json<{ error: { code: string; problems: Array<{ path: string }> } }>(
        'GET',
        '/v1/reports/allocation?from=yesterday&granularity=week',
      );
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('ALLOT_ERR_VALIDATION');
      expect(bad.body.error.problems.map((p) => p.path).sort()).toEqual(['/from', '/granularity', '/to']);

      // Reconciliation answers (hours are compared once closed; none is yet in this fresh run).
      const rec = await allot.json<{ error: string | null; drifted: number; checkedAt: string }>(
        'GET',
        '/v1/reconciliation?run=now',
      );
      expect(rec.status).toBe(200);
      expect(rec.body.error).toBeNull();
      expect(rec.body.drifted).toBe(0);

      // The CLI, as an analyst runs it against the same data dir.
      const env = { ALLOT_DATA_DIR: allot.dataDir, ...archiveEnv };
      const cli = runCli(
        ['report', '--placement', 'home', '--from', from, '--to', to, '--format', 'json'],
        env,
      );
      expect(await cli.exited).toBe(0);
      expect(sum((JSON.parse(cli.output()) as ReportBody).rows)).toEqual(fired);
      const sql = runCli(
        [
          'sql',
          "SELECT type, count(*) AS n FROM events WHERE placement_id = 'home' GROUP BY ALL ORDER BY ALL",
          '--format',
          'json',
        ],
        env,
      );
      expect(await sql.exited).toBe(0);
      expect(JSON.parse(sql.output())).toEqual([
        { type: 'click', n: fired.clicks },
        { type: 'decision', n: fired.decisions },
        { type: 'impression', n: fired.impressions },
      ]);
      const write = runCli(['sql', "COPY (SELECT 1) TO '/tmp/allot-should-not-exist.csv'"], env);
      expect(await write.exited).toBe(2);
      expect(write.output()).toMatch(/read-only|not allowed|only/i);
    } finally {
      await allot.stop();
    }
  });
});
