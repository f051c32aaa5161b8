import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, imageAd, type Running, startAllot } from '../support/start-allot.js';

// Every endpoint of the API with generated and mutated input: never a 5xx, and a rejected
// request changes nothing (the whole config snapshot is compared around each one).
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);

/** Valid bodies to mutate, per route. */
const VALID: Record<string, unknown> = {
  'POST /v1/ads': imageAd('fz', {
    targeting: { key: 'country', in: ['DE'] },
    frequencyCap: { impressions: 3, windowSeconds: 3600 },
  }),
  'PATCH /v1/ads/:id': { name: 'renamed', status: 'paused' },
  'POST /v1/placements': { id: 'pz', name: 'Fuzz', fallbackAdId: 'house' },
  'PATCH /v1/placements/:id': { name: 'renamed', window: { lengthHours: 6, timeZone: 'Europe/Berlin' } },
  'PUT /v1/placements/:id/targets': { targets: [{ adId: 'a', share: 0.4 }] },
  'POST /v1/placements/:id/targets/check': { targets: [{ adId: 'a', share: 0.4 }] },
  'POST /v1/config/import': {
    ads: [imageAd('iz', { targeting: { key: 'country', in: ['FR'] } })],
    placements: [{ id: 'piz', name: 'Fuzz import', fallbackAdId: 'iz' }],
    targets: [{ placementId: 'home', targets: [{ adId: 'a', share: 0.4 }] }],
  },
  'POST /v1/decisions': {
    placementId: 'home',
    userId: 'u1',
    context: { country: 'DE', age: 31, member: true },
  },
};
const ROUTES = [
  'GET /v1/ads',
  'POST /v1/ads',
  'GET /v1/ads/:id',
  'PATCH /v1/ads/:id',
  'DELETE /v1/ads/:id',
  'GET /v1/placements',
  'POST /v1/placements',
  'GET /v1/placements/:id',
  'PATCH /v1/placements/:id',
  'DELETE /v1/placements/:id',
  'GET /v1/placements/:id/targets',
  'PUT /v1/placements/:id/targets',
  'POST /v1/placements/:id/targets/check',
  'POST /v1/config/import',
  'GET /v1/placements/:id/status',
  'GET /v1/reports/allocation',
  'GET /v1/reconciliation',
  'POST /v1/decisions',
  'GET /v1/events/impression',
  'GET /v1/events/impression.gif',
  'GET /v1/events/click',
  'GET /tag.js',
  'GET /healthz',
] as const;

const weird = fc.constantFrom(
  '',
  ' ',
  '../etc/passwd',
  '%00',
  '\u0000',
  'ä',
  'a'.repeat(300),
  '{}',
  "' OR 1=1 --",
  '<script>',
);
const anId = fc.oneof(fc.constantFrom('a', 'house', 'home', 'fz', 'pz'), fc.string({ maxLength: 20 }), weird);

/** A mutation of a valid JSON value: drop, replace or add keys, change types, nest deeply. */
function mutate(valid: unknown): fc.Arbitrary<unknown> {
  const json = fc.jsonValue({ maxDepth: 3 });
  if (valid === null || typeof valid !== 'object') return fc.oneof(json, fc.constant(valid));
  const obj = valid as Record<string, unknown>;
  const keys = Object.keys(obj);
  return fc.oneof(
    fc.constant(valid),
    json,
    fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(obj).filter(([x]) => x !== k))),
    fc.tuple(fc.constantFrom(...keys), json).map(([k, v]) => ({ ...obj, [k]: v })),
    fc.tuple(fc.string({ maxLength: 10 }), json).map(([k, v]) => ({ ...obj, [k]: v })),
    fc.constantFrom(...keys).chain((k) => mutate(obj[k]).map((v) => ({ ...obj, [k]: v }))),
    fc.nat({ max: 200 }).map((depth) => {
      let v: unknown = obj;
      for (let i = 0; i < depth; i++) v = { [keys[0] ?? 'x']: v };
      return v;
    }),
    fc.constant([valid]),
  );
}

/** Beacon tokens: real ones (so some beacons are accepted) and real ones with one character changed. */
const tokenOf = (real: string[]) =>
  fc.oneof(
    fc.constantFrom(...real),
    fc
      .tuple(fc.constantFrom(...real), fc.nat(), fc.constantFrom('A', 'z', '.', '-', '_', '0'))
      .map(([t, i, c]) => t.slice(0, i % t.length) + c + t.slice((i % t.length) + 1)),
  );

const requestWith = (tokens: string[]) =>
  fc.constantFrom(...ROUTES).chain((route) => {
    const [method, template] = route.split(' ') as [string, string];
    const valid = VALID[route];
    const body = fc.oneof(
      { weight: 6, arbitrary: valid === undefined ? fc.jsonValue({ maxDepth: 2 }) : mutate(valid) },
      { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map((s) => ({ raw: s })) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
    const query = fc.dictionary(
      fc.constantFrom('from', 'to', 'granularity', 'placementId', 't', 'run', 'x'),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        weird,
        fc.constantFrom('2026-11-26', 'hour', 'day', 'now'),
        tokenOf(tokens),
      ),
      { maxKeys: 4 },
    );
    return fc.record({
      method: fc.constant(method),
      url: fc.tuple(anId, query).map(([id, q]) => {
        const path = template.replace(':id', encodeURIComponent(id));
        const qs = new URLSearchParams(q as Record<string, string>).toString();
        return qs === '' ? path : `${path}?${qs}`;
      }),
      body,
      contentType: fc.constantFrom(
        'application/json',
        'application/json',
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        undefined,
      ),
      auth: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'none', 'wrong'),
    });
  });

describe('API fuzzing', () => {
  let allot: Running;
  const tokens: string[] = [];
  beforeAll(async () => {
    allot = await startAllot({ ALLOT_ARCHIVE_DIR: 'off', ALLOT_RECONCILE_INTERVAL_SECONDS: '0' });
    await allot.json('POST', '/v1/ads', imageAd('a'));
    await allot.json('POST', '/v1/ads', imageAd('house'));
    await allot.json('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'house' });
    await allot.json('PUT', '/v1/placements/home/targets', { targets: [{ adId: 'a', share: 0.5 }] });
    for (let i = 0; i < 5; i++) {
      const d = await allot.json<{ impressionUrl: string; clickUrl: string }>('POST', '/v1/decisions', {
        placementId: 'home',
      });
      for (const url of [d.body.impressionUrl, d.body.clickUrl])
        tokens.push(new URL(url, 'http://x').searchParams.get('t')!);
    }
  });
  afterAll(async () => {
    await allot?.stop();
  });

  it(`${RUNS.toLocaleString('en')} generated requests: no 5xx, rejected ones change nothing`, {
    timeout: 600_000,
  }, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestWith(tokens), async (r) => {
        const before = await allot.allot.store.snapshot();
        const headers: Record<string, string> = {};
        if (r.contentType !== undefined && r.body !== undefined) headers['content-type'] = r.contentType;
        if (r.auth === 'ok') headers.authorization = `Bearer ${ADMIN_TOKEN}`;
        if (r.auth === 'wrong') headers.authorization = 'Bearer nope-nope-nope-nope';
        const payload =
          r.body === undefined
            ? undefined
            : typeof r.body === 'object' &&
                r.body !== null &&
                'raw' in r.body &&
                Object.keys(r.body).length === 1
              ? String((r.body as { raw: string }).raw)
              : JSON.stringify(r.body);
        const res = await allot.allot.app.inject({
          method: r.method as 'GET',
          url: r.url,
          headers,
          ...(payload === undefined || r.method === 'GET' || r.method === 'DELETE' ? {} : { payload }),
        });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect(
          res.statusCode,
          `${r.method} ${r.url} ${payload ?? ''} → ${res.body.slice(0, 300)}`,
        ).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(await allot.allot.store.snapshot(), `${r.method} ${r.url} changed state`).toEqual(before);
          // A rejection says what is wrong, with a stable code.
          if (res.headers['content-type']?.toString().startsWith('application/json')) {
            expect(JSON.parse(res.body).error.code).toMatch(/^ALLOT_ERR_/);
          }
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(
      `fuzz: ${RUNS} requests (seed ${SEED}), statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
  });
});
