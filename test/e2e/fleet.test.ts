import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScenario, renders, scenarioRequests } from '../support/allocation-scenario.js';
import { type FleetProcess, startRole, stopProcess } from '../support/fleet.js';
import { deleteRedisPrefix } from '../support/redis.js';
import { eventually, imageAd, pool } from '../support/start-allot.js';

const PG_URL = process.env.ALLOT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env.ALLOT_TEST_NATS_URL ?? '127.0.0.1:4222';
const TOKEN = 'fleet-admin-token-0123456789';
const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;

interface StatusBody {
  totalImpressions: number;
  ads: Array<{
    adId: string;
    share: number;
    targetShare: number;
    achievableShare: number | null;
    reasons: string[];
  }>;
}

/** POST /v1/decisions on one server. */
const decideAt = (url: string, body: string): Promise<Response> =>
  fetch(`${url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

// The distributed issue's acceptance on one machine: 3 decision servers + 1 pipeline +
// 1 controller + 1 manager, sharing PostgreSQL, Redis and a broker (Redis Streams, then NATS
// JetStream), reach the targets together, and a manager's target change is obeyed by every
// decision server within a second.
describe.each(['redis', 'nats'] as const)('a fleet of processes, events on %s', (bus) => {
  const schema = `allot_fleet_${bus}_${tag}`;
  const prefix = `allot-fleet-${bus}-${tag}`;
  const stream = `ALLOT_FLEET_${tag}`;
  const env = {
    ALLOT_CONFIG_DB: PG_URL,
    ALLOT_CONFIG_DB_SCHEMA: schema,
    ALLOT_REDIS_URL: REDIS_URL,
    ALLOT_REDIS_PREFIX: prefix,
    ALLOT_BUS: bus,
    ALLOT_NATS_URL: NATS_URL,
    ALLOT_NATS_STREAM: stream,
    // Exact counting: the test compares counts with the impressions fired.
    ALLOT_SAMPLING: 'exact',
    // Config changes reach the decision servers by the Redis announcement alone: a PostgreSQL
    // poll a minute apart cannot make the one-second bar below.
    ALLOT_PLAN_POLL_MS: '60000',
    ALLOT_ADMIN_TOKEN: TOKEN,
    ALLOT_BEACON_SECRET: 'fleet-beacon-secret-0123456789abcdef0123',
  };
  const procs: FleetProcess[] = [];
  let manager!: FleetProcess;
  let deciders: FleetProcess[] = [];
  let pipelines: FleetProcess[] = [];
  const api = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${manager.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  beforeAll(async () => {
    manager = await startRole('manager', env); // creates the schema first
    procs.push(manager);
    // With NATS the pipeline runs as two processes, one per stage (ALLOT_PIPELINE_STAGES).
    const pipelineEnvs =
      bus === 'nats'
        ? [
            { ...env, ALLOT_PIPELINE_STAGES: 'count' },
            { ...env, ALLOT_PIPELINE_STAGES: 'archive' },
          ]
        : [env];
    const rest = await Promise.all([
      startRole('decision', env),
      startRole('decision', env),
      startRole('decision', env),
      ...pipelineEnvs.map((e) => startRole('pipeline', e)),
      startRole('controller', env),
    ]);
    procs.push(...rest);
    deciders = rest.slice(0, 3);
    pipelines = rest.slice(3, 3 + pipelineEnvs.length);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => stopProcess(p)));
    const client = new pg.Client(PG_URL);
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    await deleteRedisPrefix(REDIS_URL, prefix);
    if (bus === 'nats') {
      const nc = await connectNats({ servers: NATS_URL });
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
      await nc.close();
    }
  });

  it('every role answers /healthz', async () => {
    for (const p of procs) expect((await fetch(`${p.url}/healthz`)).status, p.role).toBe(200);
    // Roles serve only their own endpoints.
    expect(
      (await fetch(`${deciders[0]!.url}/v1/ads`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404);
    const d = await decideAt(manager.url, '{"placementId":"x"}');
    expect(d.status).toBe(404);
  });

  it('reaches the targets together: overlapping targeting, render rates, an infeasible ad, a fallback', async () => {
    await createScenario(api);
    for (const d of deciders) {
      const ready = await eventually(async () => {
        const r = await decideAt(d.url, '{"placementId":"news"}');
        return r.status === 200;
      }, 5000);
      expect(ready).toBe(true);
    }

    const N = 60_000;
    const reqs = scenarioRequests(4711, N);
    let fired = 0;
    await pool(N, 24, async (i) => {
      const server = deciders[i % 3]!;
      const res = await decideAt(server.url, JSON.stringify(reqs[i]!.body));
      expect(res.status).toBe(200);
      const d = (await res.json()) as { ad: { id: string }; impressionUrl: string };
      if (renders(d.ad.id, reqs[i]!)) {
        fired++;
        expect((await fetch(`${server.url}${d.impressionUrl}`)).status).toBe(204);
      }
    });
    let status!: StatusBody;
    expect(
      await eventually(async () => {
        status = (await api<StatusBody>('GET', '/v1/placements/news/status')).body;
        return status.totalImpressions === fired;
      }, 30_000),
    ).toBe(true);
    const by = new Map(status.ads.map((e) => [e.adId, e]));
    const report = status.ads
      .map((e) => `${e.adId}: ${e.share.toFixed(4)} target ${e.targetShare} achievable ${e.achievableShare}`)
      .join('\n');
    console.info(
      `fleet acceptance, ${bus} (${N} decisions over 3 servers, ${fired} impressions):\n${report}`,
    );
    for (const id of ['a', 'b'])
      expect(Math.abs(by.get(id)!.share - by.get(id)!.targetShare), report).toBeLessThanOrEqual(0.005);
    const c = by.get('c')!;
    expect(c.reasons).toContain('targeting');
    expect(c.share, report).toBeGreaterThanOrEqual(0.99 * c.achievableShare!);
  }, 600_000);

  it('pipeline stages: what each pipeline process counts and archives (nats: one process per stage)', async () => {
    // Runs after the targets test: its events have gone through the pipeline.
    const metric = async (p: FleetProcess, name: string): Promise<number> => {
      const text = await (await fetch(`${p.url}/metrics`)).text();
      return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    };
    const archived = async () => Promise.all(pipelines.map((p) => metric(p, 'allot_events_archived_total')));
    // The archiver writes every ALLOT_ARCHIVE_FLUSH_MS (5 s).
    const end = Date.now() + 30_000;
    while ((await archived()).every((n) => n === 0) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 500));
    const counted = await Promise.all(pipelines.map((p) => metric(p, 'allot_events_counted_total')));
    const written = await archived();
    if (bus === 'nats') {
      expect({ counted: counted[0]! > 0, archived: written[0] }).toEqual({ counted: true, archived: 0 });
      expect({ counted: counted[1], archived: written[1]! > 0 }).toEqual({ counted: 0, archived: true });
    } else {
      expect({ counted: counted[0]! > 0, archived: written[0]! > 0 }).toEqual({
        counted: true,
        archived: true,
      });
    }
  });

  it('a frequency cap holds across the decision servers (3 per user, not 3 per server)', async () => {
    await api(
      'POST',
      '/v1/ads',
      imageAd('capped', { frequencyCap: { impressions: 3, windowSeconds: 3600 } }),
    );
    await api('POST', '/v1/ads', imageAd('filler'));
    await api('POST', '/v1/placements', { id: 'caps', name: 'Caps', fallbackAdId: 'filler' });
    expect(
      (await api('PUT', '/v1/placements/caps/targets', { targets: [{ adId: 'capped', share: 1 }] })).status,
    ).toBe(200);
    const decide = async (server: FleetProcess, userId: string) => {
      const r = await decideAt(server.url, JSON.stringify({ placementId: 'caps', userId }));
      // Null until the server has the placement (its plan follows PostgreSQL).
      return ((await r.json()) as { ad?: { id: string } }).ad?.id ?? null;
    };
    for (const d of deciders) {
      expect(await eventually(async () => (await decide(d, 'probe')) === 'capped', 5000)).toBe(true);
    }
    // Each user visits the three servers in turn, a page view every 300 ms (longer than a
    // sync and re-read): with per-server caps each user would get 9.
    const users = ['u1', 'u2', 'u3', 'u4'];
    const served = new Map(users.map((u) => [u, 0]));
    for (let round = 0; round < 12; round++) {
      await Promise.all(
        users.map(async (u, k) => {
          if ((await decide(deciders[(round + k) % 3]!, u)) === 'capped') served.set(u, served.get(u)! + 1);
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(Object.fromEntries(served)).toEqual({ u1: 3, u2: 3, u3: 3, u4: 3 });
  });

  it('a decision server with ALLOT_WORKERS=2 answers from two worker processes and stops cleanly', async () => {
    const clustered = await startRole('decision', { ...env, ALLOT_WORKERS: '2' });
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 40 && pids.size < 2; i++) {
        // A new connection each time: the primary hands connections to workers in turn.
        const r = await fetch(`${clustered.url}/healthz`, { headers: { connection: 'close' } });
        pids.add(((await r.json()) as { pid: number }).pid);
      }
      expect(pids.size).toBe(2);
      expect(pids.has(clustered.child.pid!)).toBe(false);
      const ok = await eventually(async () => {
        const r = await decideAt(clustered.url, '{"placementId":"caps","userId":"w1"}');
        return r.status === 200;
      }, 5000);
      expect(ok).toBe(true);
    } finally {
      await stopProcess(clustered);
    }
    expect(clustered.child.exitCode).toBe(0);
  });

  it("a manager's target change is obeyed by every decision server within a second", async () => {
    await api('POST', '/v1/ads', imageAd('solo'));
    expect(
      (await api('PUT', '/v1/placements/news/targets', { targets: [{ adId: 'solo', share: 1 }] })).status,
    ).toBe(200);
    const obeyed = await Promise.all(
      deciders.map((d) =>
        eventually(async () => {
          const r = await decideAt(d.url, '{"placementId":"news"}');
          return ((await r.json()) as { ad: { id: string } }).ad.id === 'solo';
        }, 1000),
      ),
    );
    expect(obeyed).toEqual([true, true, true]);
  });
});
