import { describe, expect, it } from 'vitest';
import { createParquetArchive } from '../../src/archive/parquet-archive.js';
import { imageAd, startAllot } from '../support/start-allot.js';

// Tried as a user would: decisions, impressions and clicks over HTTP on embedded defaults, then
// the archive holds each of them exactly once.
describe('event archive on embedded defaults', () => {
  it('archives every decision, impression and click once (Parquet under the data dir)', async () => {
    const allot = await startAllot({ ALLOT_ARCHIVE_FLUSH_MS: '200' });
    await allot.json('POST', '/v1/ads', imageAd('a'));
    await allot.json('POST', '/v1/ads', imageAd('house'));
    await allot.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'house' });
    await allot.json('PUT', '/v1/placements/home/targets', { targets: [{ adId: 'a', share: 0.5 }] });
    const fired = { decision: 0, impression: 0, click: 0 };
    for (let i = 0; i < 300; i++) {
      const d = await allot.json('POST', '/v1/decisions', { placementId: 'home', userId: `u${i % 7}` });
      expect(d.status).toBe(200);
      fired.decision++;
      const { impressionUrl, clickUrl } = d.body as { impressionUrl: string; clickUrl: string };
      if (i % 3 !== 0) {
        expect((await allot.call('GET', impressionUrl, undefined, { admin: false })).status).toBe(204);
        fired.impression++;
        // A browser retrying the beacon: the archive still holds the impression once.
        if (i % 10 === 1) await allot.call('GET', impressionUrl, undefined, { admin: false });
      }
      if (i % 9 === 0) {
        expect((await allot.call('GET', clickUrl, undefined, { admin: false })).status).toBe(302);
        fired.click++;
      }
    }
    // A graceful stop writes what the archiver still holds.
    const dir = `${allot.dataDir}/archive`;
    await allot.allot.close();
    const archive = await createParquetArchive({ dir });
    const counts = { decision: 0, impression: 0, click: 0 };
    for (const row of await archive.counts(0, Date.now() + 3_600_000)) counts[row.type] += row.events;
    await archive.close();
    await allot.stop();
    expect(counts).toEqual(fired);
  });
});
