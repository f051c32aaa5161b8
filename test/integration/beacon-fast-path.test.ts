import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, overHttp, pick } from '../support/http-answer.js';
import { imageAd, type Running, startAllot, TestClock } from '../support/start-allot.js';

// Over HTTP, GET /v1/events/impression is answered by the beacon fast path in front of Fastify
// (src/server/beacon-fast-path.ts); `inject` goes through the Fastify route. Every beacon below
// is sent both ways: the answers must be the same, and the slow-path counter shows which
// requests the fast path took.

const clock = new TestClock();
let allot: Running;
let token: string;
beforeAll(async () => {
  allot = await startAllot({}, clock);
  await allot.json('POST', '/v1/ads', imageAd('a'));
  await allot.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'a' });
  const d = await allot.json<{ impressionUrl: string }>('POST', '/v1/decisions', { placementId: 'home' });
  token = new URL(d.body.impressionUrl, allot.base).searchParams.get('t') ?? '';
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
}, 30_000);
afterAll(() => allot.stop());

/** Over a real socket; `body` sends one with the GET. */
function get(path: string, method = 'GET', body?: string): Promise<Answer> {
  const headers = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return overHttp(new URL(`${allot.base}${path}`), { method, headers }, (req) => req.end(body));
}

async function viaFastify(path: string, method = 'GET', body?: string): Promise<Answer> {
  const res = await allot.allot.app.inject({ method: method as 'GET', url: path, payload: body });
  return { status: res.statusCode, headers: pick(res.headers), body: res.body };
}

async function metric(name: string): Promise<string> {
  return allot.allot.metrics.registry.getSingleMetricAsString(name);
}
const slowPathCount = async (): Promise<number> =>
  Number(/ (\d+)$/m.exec(await metric('allot_beacon_requests_slow_path_total'))?.[1]);
const beaconCount = async (result: string): Promise<number> =>
  Number(
    new RegExp(`kind="impression",result="${result}"} (\\d+)`).exec(
      await metric('allot_beacons_total'),
    )?.[1] ?? 0,
  );

const impression = (t: string) => `/v1/events/impression?t=${t}`;

describe('beacon fast path', () => {
  const taken: Array<[string, () => string, string]> = [
    ['accepted', () => token, 'accepted'],
    ['accepted again (a replay: counted once downstream)', () => token, 'accepted'],
    ['malformed', () => 'abc', 'malformed'],
    ['bad signature', () => `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`, 'badSignature'],
    ['unknown key', () => `zz${token}`, 'badSignature'],
    ['2,048 characters', () => `a.${'b'.repeat(2046)}`, 'malformed'],
  ];
  it.each(taken)('%s: takes it, answers and counts as the route does', async (_name, t, result) => {
    const path = impression(t());
    const [slow, counted] = [await slowPathCount(), await beaconCount(result)];
    const fast = await get(path);
    expect(await slowPathCount()).toBe(slow);
    expect(await beaconCount(result)).toBe(counted + 1);
    const route = await viaFastify(path);
    expect(await slowPathCount()).toBe(slow + 1);
    expect(await beaconCount(result)).toBe(counted + 2);
    expect(fast).toEqual(route);
    expect(fast.status).toBe(result === 'accepted' ? 204 : 400);
    expect(fast.headers['access-control-allow-origin']).toBe('*');
  });

  it('expired: takes it and answers as the route does', async () => {
    clock.advance(16 * 60_000); // past the impression TTL (15 minutes)
    try {
      const path = impression(token);
      const slow = await slowPathCount();
      const fast = await get(path);
      expect(await slowPathCount()).toBe(slow);
      expect(fast).toEqual(await viaFastify(path));
      expect(fast.status).toBe(410);
      expect(JSON.parse(fast.body).error.code).toBe('ALLOT_ERR_TOKEN_EXPIRED');
    } finally {
      clock.advance(-16 * 60_000);
    }
  });

  const left: Array<[string, () => string, string, string | undefined]> = [
    ['another parameter', () => `${impression(token)}&x=1`, 'GET', undefined],
    ['an encoded token', () => impression(token.replace('.', '%2E')), 'GET', undefined],
    ['an empty token', () => impression(''), 'GET', undefined],
    ['2,049 characters', () => impression(`a.${'b'.repeat(2047)}`), 'GET', undefined],
    ['a body', () => impression(token), 'GET', 'x'],
  ];
  it.each(left)('%s: left to Fastify', async (_name, path, method, body) => {
    const before = await slowPathCount();
    const viaHttp = await get(path(), method, body);
    const route = await viaFastify(path(), method, body);
    expect(viaHttp).toEqual(route);
    // Fastify's handler ran for it (a query that fails validation never reaches it).
    if (route.status === 204) expect(await slowPathCount()).toBe(before + 2);
    else expect(await slowPathCount()).toBe(before);
  });
});
