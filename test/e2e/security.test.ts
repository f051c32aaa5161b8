import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, imageAd, type Running, startAllot } from '../support/start-allot.js';

const OLD_ADMIN = 'old-admin-token-0123456789';
const READER = 'read-only-token-0123456789';
const S1 = 'first-beacon-secret-0123456789-abcdef';
const S2 = 'second-beacon-secret-0123456789-abcdef';

async function setup(allot: Running) {
  await allot.json('POST', '/v1/ads', imageAd('a'));
  await allot.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'a' });
}
const bearer = (token: string) => ({ admin: false, headers: { authorization: `Bearer ${token}` } });

describe('manager tokens', () => {
  it('accepts every listed admin token (rotation) and lets read-only tokens only read', async () => {
    const allot = await startAllot({
      ALLOT_ADMIN_TOKEN: `${ADMIN_TOKEN},${OLD_ADMIN}`,
      ALLOT_READONLY_TOKENS: READER,
    });
    try {
      await setup(allot);
      // The old admin token still writes while clients move to the new one.
      const old = await allot.call('POST', '/v1/placements', { id: 'side', name: 'Side' }, bearer(OLD_ADMIN));
      expect(old.status).toBe(201);
      // A reader reads…
      expect((await allot.call('GET', '/v1/placements', undefined, bearer(READER))).status).toBe(200);
      expect((await allot.call('GET', '/v1/placements/home/status', undefined, bearer(READER))).status).toBe(
        200,
      );
      // …and cannot change anything.
      const before = await allot.allot.store.snapshot();
      for (const [method, path, body] of [
        ['POST', '/v1/ads', imageAd('b')],
        ['PUT', '/v1/placements/home/targets', { targets: [{ adId: 'a', share: 0.5 }] }],
        ['PATCH', '/v1/placements/home', { name: 'x' }],
        ['DELETE', '/v1/placements/side', undefined],
        ['POST', '/v1/placements/home/targets/check', { targets: [] }],
      ] as const) {
        const res = await allot.call(method, path, body, bearer(READER));
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ALLOT_ERR_FORBIDDEN');
      }
      expect(await allot.allot.store.snapshot()).toEqual(before);
      expect((await allot.call('GET', '/v1/ads', undefined, bearer('not-a-token-at-all-000'))).status).toBe(
        401,
      );
      const metrics = await (await allot.call('GET', '/metrics', undefined, { admin: false })).text();
      expect(metrics).toMatch(/allot_requests_rejected_total\{code="ALLOT_ERR_FORBIDDEN"\} 5/);
      expect(metrics).toMatch(/allot_requests_rejected_total\{code="ALLOT_ERR_UNAUTHORIZED"\} 1/);
    } finally {
      await allot.stop();
    }
  });
});

describe('beacon key rotation', () => {
  it('accepts tokens of a retiring key until it is removed; new tokens use the new key', async () => {
    const decide = async (allot: Running) => {
      const d = await allot.json<{ impressionUrl: string }>('POST', '/v1/decisions', { placementId: 'home' });
      return d.body.impressionUrl;
    };
    const beacon = async (allot: Running, url: string) =>
      (await allot.call('GET', url, undefined, { admin: false })).status;

    const before = await startAllot({ ALLOT_BEACON_KEYS: `k1:${S1}` });
    await setup(before);
    const oldUrl = await decide(before);
    expect(oldUrl).toMatch(/t=k1\./);
    await before.stop();

    // Rotation step 1: k2 signs, k1 still verifies (for the beacon lifetime).
    const during = await startAllot({ ALLOT_BEACON_KEYS: `k2:${S2},k1:${S1}` });
    await setup(during);
    expect(await beacon(during, oldUrl)).toBe(204);
    const newUrl = await decide(during);
    expect(newUrl).toMatch(/t=k2\./);
    expect(await beacon(during, newUrl)).toBe(204);
    await during.stop();

    // Step 2: k1 retired — its tokens are refused, k2's still accepted.
    const after = await startAllot({ ALLOT_BEACON_KEYS: `k2:${S2}` });
    await setup(after);
    expect(await beacon(after, oldUrl)).toBe(400);
    expect(await beacon(after, newUrl)).toBe(204);
    await after.stop();
  });
});

describe('per-IP beacon rate limit', () => {
  it('refuses beacons over the limit with 429, counts them, keeps other addresses and kinds apart', async () => {
    const allot = await startAllot({ ALLOT_BEACON_RATE_LIMIT_PER_MINUTE: '5', ALLOT_TRUST_PROXY: 'true' });
    try {
      await setup(allot);
      const d = await allot.json<{ impressionUrl: string; clickUrl: string }>('POST', '/v1/decisions', {
        placementId: 'home',
      });
      const from = (ip: string) => ({ admin: false, headers: { 'x-forwarded-for': ip } });
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++)
        statuses.push((await allot.call('GET', d.body.impressionUrl, undefined, from('203.0.113.7'))).status);
      expect(statuses).toEqual([204, 204, 204, 204, 204, 429, 429, 429]);
      const refused = await allot.call('GET', d.body.impressionUrl, undefined, from('203.0.113.7'));
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'ALLOT_ERR_RATE_LIMITED',
      );
      // Another address, and another kind from the same address, have their own budgets.
      expect((await allot.call('GET', d.body.impressionUrl, undefined, from('198.51.100.9'))).status).toBe(
        204,
      );
      expect((await allot.call('GET', d.body.clickUrl, undefined, from('203.0.113.7'))).status).toBe(302);
      const metrics = await (await allot.call('GET', '/metrics', undefined, { admin: false })).text();
      expect(metrics).toMatch(/allot_beacons_total\{kind="impression",result="rateLimited"\} 4/);
      // Decisions are not limited here.
      expect(
        (await allot.call('POST', '/v1/decisions', { placementId: 'home' }, from('203.0.113.7'))).status,
      ).toBe(200);
    } finally {
      await allot.stop();
    }
  });
});
