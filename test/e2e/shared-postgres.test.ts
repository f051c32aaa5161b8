import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, imageAd, type Running, startAllot } from '../support/start-allot.js';

const PG_URL = process.env.ALLOT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Two Allot processes' worth of servers sharing one PostgreSQL config store: a manager's
// change through one is served by the other after its plan poll.
describe('two servers sharing the PostgreSQL config store', () => {
  const schema = `allot_e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
  let one: Running;
  let two: Running;
  beforeAll(async () => {
    const env = { ALLOT_CONFIG_DB: PG_URL, ALLOT_CONFIG_DB_SCHEMA: schema, ALLOT_PLAN_POLL_MS: '200' };
    one = await startAllot(env);
    two = await startAllot(env);
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    const client = new pg.Client(PG_URL);
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('a target change saved on one server is obeyed by the other within a second', async () => {
    await one.call('POST', '/v1/ads', imageAd('a'));
    await one.call('POST', '/v1/ads', imageAd('b'));
    await one.call('POST', '/v1/placements', { id: 'p', name: 'P' });
    await one.call('PUT', '/v1/placements/p/targets', { targets: [{ adId: 'a', share: 1 }] });
    const servedBy = async (s: Running) => {
      const res = await s.call('POST', '/v1/decisions', { placementId: 'p' }, { admin: false });
      return res.status === 200 ? ((await res.json()) as { ad: { id: string } }).ad.id : res.status;
    };
    expect(await eventually(async () => (await servedBy(two)) === 'a', 1000)).toBe(true);
    await one.call('PUT', '/v1/placements/p/targets', { targets: [{ adId: 'b', share: 1 }] });
    expect(await eventually(async () => (await servedBy(two)) === 'b', 1000)).toBe(true);
    expect((await two.json<{ ads: unknown[] }>('GET', '/v1/ads')).body.ads).toHaveLength(2);
  });
});
