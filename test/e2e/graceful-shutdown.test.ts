import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminCaller, type CliProcess, runCli, waitForOutput } from '../support/cli-process.js';
import { imageAd } from '../support/start-allot.js';

const TOKEN = 'shutdown-test-admin-token-0123456789';
const SHUTDOWN_TIMEOUT_MS = 15_000;

const call = adminCaller(TOKEN);

// The reliability issue's "graceful shutdown flushes everything within a bounded time", on the
// path where nothing else would save the events: the event log is off and the archive flushes
// only once a minute, so every event still buffered when SIGTERM arrives must be written by the
// shutdown itself — while requests are still arriving.
describe('graceful shutdown under load (embedded, no event log)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'allot-shutdown-'));
  const procs: CliProcess[] = [];
  afterAll(() => {
    for (const p of procs) p.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers or refuses every request, archives every answered one exactly once, exits 0 in time', {
    timeout: 90_000,
  }, async () => {
    const proc = runCli(['start'], {
      PORT: '0',
      ALLOT_DATA_DIR: dataDir,
      ALLOT_ADMIN_TOKEN: TOKEN,
      ALLOT_EVENT_LOG: 'off',
      ALLOT_ARCHIVE_FLUSH_MS: '60000',
      ALLOT_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });
    procs.push(proc);
    const [, found] = await waitForOutput(proc, /running at (http:\/\/\S+)/);
    const base = found!;
    expect((await call(base, 'POST', '/v1/ads', imageAd('a'))).status).toBe(201);
    expect((await call(base, 'POST', '/v1/ads', imageAd('house'))).status).toBe(201);
    expect(
      (await call(base, 'POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'house' }))
        .status,
    ).toBe(201);
    expect(
      (await call(base, 'PUT', '/v1/placements/home/targets', { targets: [{ adId: 'a', share: 0.4 }] }))
        .status,
    ).toBe(200);

    const answered = new Set<string>(); // decisions answered 200
    const acked = new Set<string>(); // impressions answered 204
    const unanswered = new Set<string>(); // impression beacons whose answer never came
    let refused = 0; // requests the closing server did not take (connection refused / reset)
    let stopping = false;
    const worker = async (w: number) => {
      for (let i = 0; ; i++) {
        let decisionId: string | null = null;
        try {
          const res = await call(base, 'POST', '/v1/decisions', {
            placementId: 'home',
            userId: `u${w}-${i % 7}`,
          });
          if (res.status !== 200) throw new Error(`decision answered ${res.status}`);
          const d = (await res.json()) as { decisionId: string; impressionUrl: string };
          answered.add(d.decisionId);
          decisionId = d.decisionId;
          const beacon = await fetch(`${base}${d.impressionUrl}`);
          if (beacon.status !== 204) throw new Error(`impression answered ${beacon.status}`);
          acked.add(d.decisionId);
        } catch (err) {
          // Before SIGTERM every request must succeed; after it, a refusal is the only other outcome.
          if (!stopping) throw err;
          if (err instanceof Error && /answered/.test(err.message)) throw err;
          refused++;
          if (decisionId !== null) unanswered.add(decisionId);
          return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    // Wait until a good number of events are buffered (the archive has not flushed: 60 s interval).
    while (acked.size < 1_000) await new Promise((r) => setTimeout(r, 50));

    stopping = true;
    const t0 = Date.now();
    proc.child.kill('SIGTERM');
    const code = await proc.exited;
    const shutdownMs = Date.now() - t0;
    await Promise.all(workers);
    // On failure, the server's own account (its last lines name the shutdown step that hung).
    expect({ code, output: code === 0 ? '' : proc.output().slice(-4000) }).toEqual({ code: 0, output: '' });
    expect(shutdownMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);

    const sql = runCli(
      ['sql', 'SELECT type, decision_id, count(*) AS n FROM events GROUP BY ALL', '--format', 'json'],
      { ALLOT_DATA_DIR: dataDir },
    );
    expect(await sql.exited).toBe(0);
    const rows = JSON.parse(sql.output()) as Array<{ type: string; decision_id: string; n: number }>;
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    const archived = (type: string) => new Set(rows.filter((r) => r.type === type).map((r) => r.decision_id));
    const decisions = archived('decision');
    const impressions = archived('impression');
    // Every answered request is archived; nothing is archived that was not at least sent.
    expect([...answered].filter((id) => !decisions.has(id))).toEqual([]);
    expect([...decisions].filter((id) => !answered.has(id))).toEqual([]);
    expect([...acked].filter((id) => !impressions.has(id))).toEqual([]);
    expect([...impressions].filter((id) => !acked.has(id) && !unanswered.has(id))).toEqual([]);
    console.log(
      `graceful shutdown: ${answered.size} decisions and ${acked.size} impressions answered, ` +
        `${refused} requests refused while closing, exit ${code} after ${shutdownMs} ms; ` +
        `archived ${decisions.size} decisions and ${impressions.size} impressions, each once`,
    );
  });
});

// A keep-alive connection busy with a request when SIGTERM comes: Node keeps it open after the
// response (until the 72 s keep-alive timeout), and the stop waited for it past its deadline.
describe('graceful shutdown with a request in flight on a keep-alive connection', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'allot-shutdown-ka-'));
  let proc: CliProcess | null = null;
  afterAll(() => {
    proc?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers it with Connection: close and exits 0 well before the keep-alive timeout', {
    timeout: 60_000,
  }, async () => {
    const p = runCli(['start'], {
      PORT: '0',
      ALLOT_DATA_DIR: dataDir,
      ALLOT_ADMIN_TOKEN: TOKEN,
      ALLOT_SHUTDOWN_TIMEOUT_MS: '5000',
    });
    proc = p;
    const [, base] = await waitForOutput(p, /running at (http:\/\/\S+)/);
    const { hostname, port } = new URL(base!);
    // Headers and half the body now (the request is routed and in flight), the rest after SIGTERM.
    const body = JSON.stringify({ placementId: 'nowhere', userId: 'u1' });
    const socket = connect({ host: hostname, port: Number(port) });
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (b) => {
      answer += b;
    });
    const closed = once(socket, 'close');
    socket.write(
      `POST /v1/decisions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    socket.write(body.slice(10));
    await closed; // the server ends the connection after its answer
    const code = await p.exited;
    const ms = Date.now() - t0;
    expect(answer).toMatch(/^HTTP\/1\.1 404 /); // unknown placement: answered, not refused
    expect(answer.toLowerCase()).toContain('connection: close');
    expect({ code, output: code === 0 ? '' : p.output().slice(-2000) }).toEqual({ code: 0, output: '' });
    expect(ms).toBeLessThan(5000);
  });
});
