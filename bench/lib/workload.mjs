// What the benchmark asks of Allot: the plan it creates through the manager API, the decision
// requests it cycles over, and the impression beacons it collects from real decisions.
import { get } from 'node:http';

export const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL'];

export function managerApi(port, token) {
  return async (method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };
}

/** A realistic plan: P placements × A ads, half the ads targeted, every fifth capped. */
export async function seedPlan(api, P, A) {
  // Through the bulk import (one transaction and one plan reload per request), in requests of
  // at most ~10,000 ads: one request per ad took 18 s embedded and 113 s in a fleet at 100 × 20.
  const perRequest = Math.max(1, Math.floor(10_000 / A));
  for (let first = 0; first < P; first += perRequest) {
    const body = { ads: [], placements: [], targets: [] };
    for (let p = first; p < Math.min(P, first + perRequest); p++) {
      const ids = [];
      for (let a = 0; a < A; a++) {
        const id = `p${p}-a${a}`;
        const ad = {
          id,
          name: id,
          creative: { type: 'image', url: `https://cdn.example.com/${id}.png`, width: 300, height: 250 },
          clickUrl: `https://advertiser.example.com/${id}`,
        };
        if (a % 2 === 1) {
          ad.targeting = {
            all: [
              { key: 'country', in: COUNTRIES.slice(a % 4, (a % 4) + 4) },
              {
                any: [
                  { key: 'age', gte: 18 + (a % 10) },
                  { key: 'member', in: [true] },
                ],
              },
            ],
          };
        }
        if (a % 5 === 0 && a > 0) ad.frequencyCap = { impressions: 5, windowSeconds: 3600 };
        body.ads.push(ad);
        ids.push(id);
      }
      body.placements.push({ id: `pl${p}`, name: `Placement ${p}`, fallbackAdId: ids[0] });
      body.targets.push({
        placementId: `pl${p}`,
        targets: ids.slice(1).map((adId) => ({ adId, share: 0.9 / (A - 1) })),
      });
    }
    await api('POST', '/v1/config/import', body);
  }
}

/** mulberry32: a seeded random source, so every run cycles over the same requests. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` decision requests: a random placement, a user out of 100K, a country, an age of 14–70 and
 * a member flag set 30 % of the time. Items are `{ method, path, body }`.
 */
export function decisionRequests(placements, n = 2000) {
  const rnd = seeded(42);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const items = [];
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({
      placementId: `pl${int(0, placements - 1)}`,
      userId: `u${int(1, 100_000)}`,
      context: { country: COUNTRIES[int(0, COUNTRIES.length - 1)], age: int(14, 70), member: rnd() < 0.3 },
    });
    items.push({ method: 'POST', path: '/v1/decisions', body });
  }
  return items;
}

/**
 * Makes one decision per request (cycling over `requests`) until `n` impression beacon URLs are
 * collected (a no-fill has none); items are `{ method: 'GET', path }`.
 */
export async function collectBeacons(port, requests, n, concurrency = 16) {
  const out = [];
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (out.length < n) {
      const { body } = requests[next++ % requests.length];
      const res = await fetch(`http://127.0.0.1:${port}/v1/decisions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await res.text();
      if (res.status !== 200) {
        if (++failures > 100) throw new Error(`decisions for beacons failed: ${res.status} ${text}`);
        continue;
      }
      const url = JSON.parse(text).impressionUrl;
      // Relative unless ALLOT_PUBLIC_URL is set; wrk's Lua reads one path per line.
      const path = url.startsWith('/') ? url : new URL(url).pathname + new URL(url).search;
      if (!/^\/[\x21-\x7e]+$/.test(path)) throw new Error(`unexpected beacon URL: ${url}`);
      if (out.length < n) out.push({ method: 'GET', path });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** GET on a new connection each time, so that node:cluster hands it to the next worker. */
export function getJson(port, path) {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

/**
 * Fleet: waits until every worker of the decision server (`workers` distinct pids on
 * /healthz) serves the manager's latest plan revision.
 */
export async function waitForPlan(managerPort, decisionPort, workers, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // The manager's own plan follows its writes after a poll; wait until it stops moving.
  let revision = -1;
  for (;;) {
    const r = (await getJson(managerPort, '/healthz')).planRevision;
    if (r === revision && r >= 0) break;
    revision = r;
    if (Date.now() > end) throw new Error('the manager did not settle on a plan revision');
    await sleep(600);
  }
  const ready = new Set();
  while (ready.size < workers) {
    const h = await getJson(decisionPort, '/healthz');
    if (h.planRevision >= revision) ready.add(h.pid);
    else await sleep(100);
    if (Date.now() > end)
      throw new Error(`decision server: ${ready.size} of ${workers} workers on plan revision ${revision}`);
  }
  return revision;
}
