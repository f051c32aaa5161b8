import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, overHttp, pick } from '../support/http-answer.js';
import { imageAd, type Running, startAllot } from '../support/start-allot.js';

// Over HTTP, POST /v1/decisions is answered by the fast path in front of Fastify
// (src/server/decision-fast-path.ts); `inject` goes through the Fastify route. Every request
// below is sent both ways: the answers must be the same, and the slow-path counter shows which
// requests the fast path took.

const LIMIT = 4096;

let allot: Running;
beforeAll(async () => {
  allot = await startAllot({ ALLOT_DECISION_BODY_LIMIT_BYTES: String(LIMIT) });
  await allot.json('POST', '/v1/ads', imageAd('a'));
  await allot.json('POST', '/v1/ads', imageAd('de', { targeting: { key: 'country', in: ['DE'] } }));
  await allot.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'a' });
  await allot.json('POST', '/v1/placements', { id: 'de-only', name: 'DE only' });
  await allot.json('PUT', '/v1/placements/de-only/targets', { targets: [{ adId: 'de', share: 1 }] });
}, 30_000);
afterAll(() => allot.stop());

/** Over a real socket; `chunks` sends the body with Transfer-Encoding: chunked. */
function post(body: string, headers: Record<string, string>, chunks = false): Promise<Answer> {
  const options = {
    method: 'POST',
    headers: chunks ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
  };
  return overHttp(new URL(`${allot.base}/v1/decisions`), options, (req) => {
    if (chunks) {
      req.write(body.slice(0, 5));
      req.end(body.slice(5));
    } else req.end(body);
  });
}

async function viaFastify(body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await allot.allot.app.inject({ method: 'POST', url: '/v1/decisions', headers, payload: body });
  return { status: res.statusCode, headers: pick(res.headers), body: res.body };
}

/** Decision ids and tokens differ between two decisions; everything else must not. */
const stable = (a: Answer): Answer => {
  if (a.status !== 200) return a;
  const d = JSON.parse(a.body) as Record<string, unknown>;
  return {
    ...a,
    // The length differs only by the token, whose length depends on the ids.
    headers: { ...a.headers, 'content-length': 'n' },
    body: JSON.stringify({
      ...d,
      decisionId: typeof d.decisionId,
      impressionUrl: String(d.impressionUrl).replace(/t=.*$/, 't=…'),
      clickUrl: String(d.clickUrl).replace(/t=.*$/, 't=…'),
    }),
  };
};

async function slowPathCount(): Promise<number> {
  const text = await allot.allot.metrics.registry.getSingleMetricAsString(
    'allot_decision_requests_slow_path_total',
  );
  return Number(/ (\d+)$/m.exec(text)?.[1]);
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const json = (v: unknown) => JSON.stringify(v);

describe('decision fast path', () => {
  const taken: Array<[string, string, Record<string, string>]> = [
    [
      'filled',
      json({ placementId: 'home', userId: 'u1', context: { country: 'DE', age: 31, m: true } }),
      JSON_HEADERS,
    ],
    ['filled, targeted', json({ placementId: 'de-only', context: { country: 'DE' } }), JSON_HEADERS],
    ['no fill', json({ placementId: 'de-only', context: { country: 'FR' } }), JSON_HEADERS],
    ['unknown placement', json({ placementId: 'nowhere' }), JSON_HEADERS],
    ['charset', json({ placementId: 'home' }), { 'content-type': 'Application/JSON; charset=UTF-8' }],
    ['invalid JSON', '{"placementId":', JSON_HEADERS],
    ['not an object', '[1,2]', JSON_HEADERS],
    [
      'every problem',
      json({ placementId: '', extra: 1, userId: 5, context: { a: {}, b: 'x'.repeat(300) } }),
      JSON_HEADERS,
    ],
    ['wrong type', json({ placementId: 5 }), JSON_HEADERS],
    ['prototype poisoning', '{"placementId":"home","__proto__":{"x":1}}', JSON_HEADERS],
    ['constructor poisoning', '{"placementId":"home","constructor":{"prototype":{"x":1}}}', JSON_HEADERS],
    ['non-ASCII', json({ placementId: 'hömé' }), JSON_HEADERS],
  ];
  it.each(taken)('%s: takes it and answers as the route does', async (_name, body, headers) => {
    const before = await slowPathCount();
    const fast = await post(body, headers);
    expect(await slowPathCount()).toBe(before);
    const route = await viaFastify(body, headers);
    expect(await slowPathCount()).toBe(before + 1);
    expect(stable(fast)).toEqual(stable(route));
    expect(fast.headers['access-control-allow-origin']).toBe('*');
    if (fast.status === 200)
      expect(Number(fast.headers['content-length'])).toBe(Buffer.byteLength(fast.body));
  });

  it('answers a filled decision with a working beacon and counts it', async () => {
    const fast = await post(json({ placementId: 'home' }), JSON_HEADERS);
    expect(fast.status).toBe(200);
    const d = JSON.parse(fast.body) as { ad: { id: string }; impressionUrl: string };
    expect(d.ad.id).toBe('a');
    expect((await allot.call('GET', d.impressionUrl, undefined, { admin: false })).status).toBe(204);
  });

  const left: Array<[string, string, Record<string, string>, boolean]> = [
    ['another content type', json({ placementId: 'home' }), { 'content-type': 'text/plain' }, false],
    ['an empty body', '', JSON_HEADERS, false],
    ['a body over the limit', json({ placementId: 'home', userId: 'u'.repeat(LIMIT) }), JSON_HEADERS, false],
    ['a chunked body', json({ placementId: 'home' }), JSON_HEADERS, true],
  ];
  it.each(left)('leaves %s to Fastify', async (_name, body, headers, chunked) => {
    const before = await slowPathCount();
    const fast = await post(body, headers, chunked);
    expect(await slowPathCount()).toBe(before + 1);
    const route = await viaFastify(body, headers);
    expect(stable(fast)).toEqual(stable(route));
    // Refusals too: the publisher's page can read them.
    expect(fast.headers['access-control-allow-origin']).toBe('*');
  });
});
