import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageAd, type Running, startAllot, TestClock } from '../support/start-allot.js';

interface ErrorBody {
  error: { code: string; message: string; problems: Array<{ path: string; message: string }> };
}
interface ImportResult {
  revision: number;
  ads: { created: number; updated: number };
  placements: { created: number; updated: number };
  targets: number;
}

const PG_URL = process.env.ALLOT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The embedded default, and the PostgreSQL store of a fleet (a schema of its own, dropped after). */
const STORES = [
  { store: 'sqlite', env: () => ({}), cleanup: async () => {} },
  (() => {
    const schema = `allot_e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
    return {
      store: 'postgres',
      env: (): Record<string, string> => ({ ALLOT_CONFIG_DB: PG_URL, ALLOT_CONFIG_DB_SCHEMA: schema }),
      cleanup: async () => {
        const client = new pg.Client(PG_URL);
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  })(),
];

const PLACEMENTS = 100;
const ADS_PER_PLACEMENT = 20;
const adId = (p: number, a: number) => `p${p}-a${a}`;

/**
 * 100 placements × 20 ads (2,201 objects and 100 target sets: 2,301 single writes otherwise),
 * every ad targeted at country DE, 0.04 each (sum 0.8), the rest to a house ad.
 */
function wholeConfig() {
  const ads = [imageAd('house')];
  const placements = [];
  const targets = [];
  for (let p = 0; p < PLACEMENTS; p++) {
    for (let a = 0; a < ADS_PER_PLACEMENT; a++) {
      ads.push(imageAd(adId(p, a), { targeting: { all: [{ key: 'country', in: ['DE'] }] } }));
    }
    placements.push({ id: `p${p}`, name: `Placement ${p}`, fallbackAdId: 'house' });
    targets.push({
      placementId: `p${p}`,
      targets: Array.from({ length: ADS_PER_PLACEMENT }, (_, a) => ({ adId: adId(p, a), share: 0.04 })),
    });
  }
  return { ads, placements, targets };
}

describe.each(STORES)('POST /v1/config/import ($store)', ({ env, cleanup }) => {
  let s: Running;
  const clock = new TestClock();
  const post = (body: unknown) => s.json<ImportResult & ErrorBody>('POST', '/v1/config/import', body);
  /** Everything the manager can read, to prove rejected imports change nothing. */
  const state = async () => ({
    revision: await s.allot.store.revision(),
    ads: (await s.json('GET', '/v1/ads')).body,
    placements: (await s.json('GET', '/v1/placements')).body,
    targets: (await s.json('GET', '/v1/placements/p7/targets')).body,
  });
  const decide = async (placementId: string, country: string): Promise<string | null> => {
    const res = await s.call(
      'POST',
      '/v1/decisions',
      { placementId, context: { country } },
      { admin: false },
    );
    return res.status === 200 ? ((await res.json()) as { ad: { id: string } }).ad.id : null;
  };

  beforeAll(async () => {
    s = await startAllot(env(), clock);
  });
  afterAll(async () => {
    await s?.stop();
    await cleanup();
  });

  it('requires the admin bearer token', async () => {
    const res = await s.call('POST', '/v1/config/import', wholeConfig(), { admin: false });
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).error.code).toBe('ALLOT_ERR_UNAUTHORIZED');
    expect(await s.allot.store.revision()).toBe(0);
  });

  it('imports 100 placements × 20 ads with targeting and targets as one revision, served at once', async () => {
    const body = wholeConfig();
    // Far over the manager API's 256 KiB: the route has its own limit.
    expect(JSON.stringify(body).length).toBeGreaterThan(262_144);
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      revision: 1,
      ads: { created: 1 + PLACEMENTS * ADS_PER_PLACEMENT, updated: 0 },
      placements: { created: PLACEMENTS, updated: 0 },
      targets: PLACEMENTS,
    });
    expect(s.allot.planSource.current().revision).toBe(1);
    expect((await s.json<{ version: number }>('GET', '/v1/placements/p7/targets')).body.version).toBe(1);

    // The reloaded plan serves each placement's own ads to DE, and only the house ad elsewhere.
    for (const p of [0, 42, 99]) {
      const served = new Set<string | null>();
      for (let i = 0; i < 25; i++) served.add(await decide(`p${p}`, 'DE'));
      const own = [...served].filter((id) => id?.startsWith(`p${p}-a`));
      expect(own.length).toBeGreaterThan(0);
      expect([...served].every((id) => id === 'house' || own.includes(id))).toBe(true);
      for (let i = 0; i < 5; i++) expect(await decide(`p${p}`, 'FR')).toBe('house');
    }
  });

  it('rejects a body with schema problems, listing each with its path, and changes nothing', async () => {
    const before = await state();
    const body = wholeConfig();
    body.ads[0] = { ...imageAd('x'), id: undefined } as unknown as ReturnType<typeof imageAd>;
    body.ads[3] = imageAd('y', { targeting: { all: [{ key: 'country', in: [] }] } });
    body.targets[2]!.targets[1]!.share = 2;
    const res = await post({ ...body, extra: true });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ALLOT_ERR_VALIDATION');
    expect(res.body.error.problems.map((p) => p.path).sort()).toEqual(
      ['/ads/0/id', '/ads/3/targeting/all/0/in', '/targets/2/targets/1/share', '/extra'].sort(),
    );
    expect(await state()).toEqual(before);
  });

  it('rejects a body with semantic problems, listing every one with its path, and changes nothing', async () => {
    const before = await state();
    const res = await post({
      ads: [
        imageAd('n1'),
        imageAd('n2', { startAt: '2026-07-01T00:00:00Z', endAt: '2026-06-01T00:00:00Z' }),
        imageAd('n1'),
      ],
      placements: [
        { id: 'q1', name: 'Q1', fallbackAdId: 'ghost' },
        { id: 'q2', name: 'Q2', window: { lengthHours: 24, timeZone: 'Mars/Olympus' } },
      ],
      targets: [
        { placementId: 'q1', targets: [{ adId: 'n1', share: 0.5 }] },
        { placementId: 'nowhere', targets: [] },
        {
          placementId: 'p7',
          targets: [
            { adId: 'n2', share: 0.6 },
            { adId: 'missing', share: 0.1 },
            { adId: 'n2', share: 0.2 },
            { adId: 'p7-a0', share: 0.3 },
          ],
        },
        { placementId: 'q1', targets: [] },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ALLOT_ERR_VALIDATION');
    expect(res.body.error.problems.map((p) => p.path)).toEqual([
      '/ads/1/endAt',
      '/ads/2/id',
      '/placements/0/fallbackAdId',
      '/placements/1/window/timeZone',
      '/targets/1/placementId',
      '/targets/2/targets/1/adId',
      '/targets/2/targets/2/adId',
      '/targets/2/targets',
      '/targets/3/placementId',
    ]);
    const message = (path: string) => res.body.error.problems.find((p) => p.path === path)?.message;
    expect(message('/targets/2/targets/1/adId')).toContain('missing');
    expect(message('/targets/2/targets/2/adId')).toBe('duplicate of /targets/2/targets/0/adId');
    expect(message('/ads/2/id')).toBe('duplicate of /ads/0/id');
    expect(await state()).toEqual(before);
  });

  it('rejects an empty import', async () => {
    const res = await post({ ads: [] });
    expect(res.status).toBe(400);
    expect(res.body.error.problems.map((p) => p.path)).toEqual(['/']);
  });

  it('a re-import is an update: counted as such, createdAt kept, target versions bumped', async () => {
    const first = (await s.json<{ createdAt: string; updatedAt: string }>('GET', '/v1/ads/p7-a3')).body;
    clock.advance(60_000);
    const res = await post(wholeConfig());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      revision: 2,
      ads: { created: 0, updated: 1 + PLACEMENTS * ADS_PER_PLACEMENT },
      placements: { created: 0, updated: PLACEMENTS },
      targets: PLACEMENTS,
    });
    const again = (await s.json<{ createdAt: string; updatedAt: string }>('GET', '/v1/ads/p7-a3')).body;
    expect(again.createdAt).toBe(first.createdAt);
    expect(Date.parse(again.updatedAt) - Date.parse(first.updatedAt)).toBe(60_000);
    expect((await s.json<{ version: number }>('GET', '/v1/placements/p7/targets')).body.version).toBe(2);
    expect(s.allot.planSource.current().revision).toBe(2);
  });

  it('takes 10,000 ads in one request', async () => {
    const ads = Array.from({ length: 10_000 }, (_, i) =>
      imageAd(`bulk-${i}`, { targeting: { key: 'slot', in: [String(i)] } }),
    );
    const res = await post({ ads });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ revision: 3, ads: { created: 10_000, updated: 0 } });
    expect((await s.json<{ ads: unknown[] }>('GET', '/v1/ads')).body.ads.length).toBe(
      10_000 + 1 + PLACEMENTS * ADS_PER_PLACEMENT,
    );
  });
});

describe('POST /v1/config/import body limit', () => {
  it('is ALLOT_IMPORT_BODY_LIMIT_BYTES, not the manager limit', async () => {
    const s = await startAllot({
      ALLOT_IMPORT_BODY_LIMIT_BYTES: '4096',
      ALLOT_MANAGER_BODY_LIMIT_BYTES: '65536',
    });
    try {
      const ads = Array.from({ length: 40 }, (_, i) => imageAd(`a${i}`));
      const res = await s.call('POST', '/v1/config/import', { ads });
      expect(res.status).toBe(413);
      expect(((await res.json()) as ErrorBody).error.code).toBe('ALLOT_ERR_BODY_TOO_LARGE');
      expect((await s.call('POST', '/v1/config/import', { ads: ads.slice(0, 2) })).status).toBe(200);
      expect(await s.allot.store.revision()).toBe(1);
    } finally {
      await s.stop();
    }
  });
});
