import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, imageAd, type Running, startAllot } from '../support/start-allot.js';

interface ErrorBody {
  error: { code: string; message: string; problems: Array<{ path: string; message: string }> };
}

describe('manager API', () => {
  let s: Running;
  /** Everything the manager can read, to prove rejected requests change nothing. */
  const state = async () => ({
    ads: (await s.json('GET', '/v1/ads')).body,
    placements: (await s.json('GET', '/v1/placements')).body,
    targets: (await s.json('GET', '/v1/placements/p1/targets')).body,
    revision: await s.allot.store.revision(),
  });

  beforeAll(async () => {
    s = await startAllot({ ALLOT_MANAGER_BODY_LIMIT_BYTES: '65536' });
    for (const id of ['a1', 'a2', 'house']) await s.call('POST', '/v1/ads', imageAd(id));
    await s.call('POST', '/v1/placements', { id: 'p1', name: 'P1', fallbackAdId: 'house' });
    await s.call('PUT', '/v1/placements/p1/targets', { targets: [{ adId: 'a1', share: 0.4 }] });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('requires the admin bearer token (401 with a code), compared exactly', async () => {
    const variants: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: ADMIN_TOKEN },
    ];
    for (const headers of variants) {
      const res = await s.call('GET', '/v1/ads', undefined, { admin: false, headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(((await res.json()) as ErrorBody).error.code).toBe('ALLOT_ERR_UNAUTHORIZED');
    }
    const before = await state();
    const res = await s.call('POST', '/v1/ads', imageAd('sneaky'), { admin: false });
    expect(res.status).toBe(401);
    expect(await state()).toEqual(before);
  });

  it('creates, reads, patches and deletes an ad', async () => {
    const created = await s.json<Record<string, unknown>>('POST', '/v1/ads', {
      ...imageAd('crud'),
      frequencyCap: { impressions: 3, windowSeconds: 3600 },
      startAt: '2026-01-01T00:00:00+02:00',
      targeting: { any: [{ key: 'country', in: ['DE', 'AT'] }, { not: { key: 'age', lt: 18 } }] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'crud',
      status: 'active',
      startAt: '2025-12-31T22:00:00.000Z',
      endAt: null,
    });
    expect((await s.json('GET', '/v1/ads/crud')).body).toEqual(created.body);

    const patched = await s.json<Record<string, unknown>>('PATCH', '/v1/ads/crud', {
      status: 'paused',
      targeting: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      status: 'paused',
      targeting: null,
      frequencyCap: { impressions: 3 },
    });

    expect((await s.call('DELETE', '/v1/ads/crud')).status).toBe(204);
    expect((await s.json<ErrorBody>('GET', '/v1/ads/crud')).body.error.code).toBe('ALLOT_ERR_NOT_FOUND');
    expect((await s.call('DELETE', '/v1/ads/crud')).status).toBe(404);
  });

  it('generates ids when none is given', async () => {
    const res = await s.json<{ id: string }>('POST', '/v1/ads', { ...imageAd('x'), id: undefined });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^ad_[0-9a-f]{16}$/);
    await s.call('DELETE', `/v1/ads/${res.body.id}`);
  });

  it('lists every problem of a bad ad, with its path, and writes nothing', async () => {
    const before = await state();
    const res = await s.json<ErrorBody>('POST', '/v1/ads', {
      id: 'bad ad!',
      name: 7,
      creative: { type: 'image', url: 'ftp://x', width: 0 },
      clickUrl: 'javascript:alert(1)',
      targeting: { all: [{ key: 'age', gte: '18' }, { nope: true }] },
      frequencyCap: { impressions: 0, windowSeconds: 60 },
      startAt: 'yesterday',
      status: 'running',
      color: 'red',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ALLOT_ERR_VALIDATION');
    const paths = res.body.error.problems.map((p) => p.path).sort();
    expect(paths).toEqual(
      [
        '/clickUrl',
        '/color',
        '/creative/height',
        '/creative/url',
        '/creative/width',
        '/frequencyCap/impressions',
        '/id',
        '/name',
        '/startAt',
        '/status',
        '/targeting/all/0/gte',
        '/targeting/all/1/key',
        '/targeting/all/1/nope',
      ].sort(),
    );
    expect(await state()).toEqual(before);
  });

  it('refuses semantic problems: endAt before startAt, duplicate id, unknown ad on patch', async () => {
    const before = await state();
    const r1 = await s.json<ErrorBody>('POST', '/v1/ads', {
      ...imageAd('dates'),
      startAt: '2026-02-01T00:00:00Z',
      endAt: '2026-01-01T00:00:00Z',
    });
    expect(r1.status).toBe(400);
    expect(r1.body.error.problems).toEqual([{ path: '/endAt', message: 'must be after startAt' }]);
    const r2 = await s.json<ErrorBody>('POST', '/v1/ads', imageAd('a1'));
    expect(r2.status).toBe(409);
    expect(r2.body.error.code).toBe('ALLOT_ERR_CONFLICT');
    expect((await s.json<ErrorBody>('PATCH', '/v1/ads/ghost', { name: 'x' })).status).toBe(404);
    expect((await s.json<ErrorBody>('PATCH', '/v1/ads/a1', {})).status).toBe(400);
    expect(await state()).toEqual(before);
  });

  it('validates targets: range, sum ≤ 1, existing ads, no duplicates — all listed, nothing saved', async () => {
    const before = await state();
    const res = await s.json<ErrorBody>('PUT', '/v1/placements/p1/targets', {
      targets: [
        { adId: 'a1', share: 0.6 },
        { adId: 'a2', share: 0.5 },
        { adId: 'ghost', share: 0.1 },
        { adId: 'a1', share: 0.1 },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.problems).toEqual([
      { path: '/targets/2/adId', message: 'ad "ghost" does not exist' },
      { path: '/targets/3/adId', message: 'duplicate of /targets/0/adId' },
      { path: '/targets', message: 'shares must sum to at most 1, got 1.3' },
    ]);
    const types = await s.json<ErrorBody>('PUT', '/v1/placements/p1/targets', {
      targets: [{ adId: 'a1', share: '0.3' }, { adId: 'a2', share: 1.5 }, { share: 0.1 }],
    });
    expect(types.status).toBe(400);
    expect(types.body.error.problems.map((p) => p.path).sort()).toEqual(
      ['/targets/0/share', '/targets/1/share', '/targets/2/adId'].sort(),
    );
    expect((await s.json<ErrorBody>('PUT', '/v1/placements/ghost/targets', { targets: [] })).status).toBe(
      404,
    );
    expect(await state()).toEqual(before);
  });

  it('bumps the targets version on every save; shares summing to 1 with float rounding are fine', async () => {
    const v0 = (await s.json<{ version: number }>('GET', '/v1/placements/p1/targets')).body.version;
    const res = await s.json<{ version: number; targets: unknown[] }>('PUT', '/v1/placements/p1/targets', {
      targets: [
        { adId: 'a1', share: 0.1 },
        { adId: 'a2', share: 0.2 },
        { adId: 'house', share: 0.7 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(v0 + 1);
    const back = await s.json<{ version: number }>('PUT', '/v1/placements/p1/targets', {
      targets: [{ adId: 'a1', share: 0.4 }],
    });
    expect(back.body.version).toBe(v0 + 2);
  });

  it('placements: fallback must exist; deleting an ad in use is refused (409)', async () => {
    const before = await state();
    const bad = await s.json<ErrorBody>('POST', '/v1/placements', {
      id: 'p2',
      name: 'P2',
      fallbackAdId: 'ghost',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems[0]?.path).toBe('/fallbackAdId');
    const inUse = await s.json<ErrorBody>('DELETE', '/v1/ads/house');
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.code).toBe('ALLOT_ERR_IN_USE');
    const target = await s.json<ErrorBody>('DELETE', '/v1/ads/a1');
    expect(target.status).toBe(409);
    expect(await state()).toEqual(before);

    expect((await s.call('POST', '/v1/placements', { id: 'p3', name: 'P3' })).status).toBe(201);
    const patched = await s.json<{ fallbackAdId: string }>('PATCH', '/v1/placements/p3', {
      fallbackAdId: 'a2',
    });
    expect(patched.body.fallbackAdId).toBe('a2');
    expect((await s.call('DELETE', '/v1/placements/p3')).status).toBe(204);
    expect((await s.call('GET', '/v1/placements/p3')).status).toBe(404);
  });

  it('refuses malformed bodies with codes: bad JSON, wrong type, oversized', async () => {
    const before = await state();
    const badJson = await s.call('POST', '/v1/ads', '{"name": ');
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as ErrorBody).error.code).toBe('ALLOT_ERR_INVALID_JSON');
    const media = await s.call('POST', '/v1/ads', 'name=x', { headers: { 'content-type': 'text/plain' } });
    expect(media.status).toBe(415);
    expect(((await media.json()) as ErrorBody).error.code).toBe('ALLOT_ERR_UNSUPPORTED_MEDIA_TYPE');
    const big = await s.call('POST', '/v1/ads', { ...imageAd('big'), name: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as ErrorBody).error.code).toBe('ALLOT_ERR_BODY_TOO_LARGE');
    const arr = await s.json<ErrorBody>('POST', '/v1/ads', [imageAd('arr')]);
    expect(arr.status).toBe(400);
    const proto = await s.call('POST', '/v1/ads', '{"__proto__": {"admin": true}, "name": "x"}');
    expect(proto.status).toBe(400);
    expect(await state()).toEqual(before);
  });

  it('serves the OpenAPI document and a docs page', async () => {
    const doc = (
      await s.json<{
        openapi: string;
        paths: Record<string, unknown>;
        components: { schemas: Record<string, unknown> };
      }>('GET', '/openapi.json')
    ).body;
    expect(doc.openapi).toBe('3.0.3');
    for (const p of [
      '/v1/ads',
      '/v1/ads/{id}',
      '/v1/placements/{id}/targets',
      '/v1/placements/{id}/status',
      '/v1/decisions',
    ]) {
      expect(doc.paths).toHaveProperty([p]);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Ad', 'TargetingRule', 'Creative', 'ErrorResponse']),
    );
    const page = await fetch(`${s.base}/docs/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger');
  });
});
