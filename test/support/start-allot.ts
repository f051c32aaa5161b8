import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { type Allot, createAllot } from '../../src/app/create-allot.js';
import { loadConfig } from '../../src/config/config.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A clock tests can move. */
export class TestClock {
  constructor(public ms = Date.parse('2026-06-01T10:00:00Z')) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Running {
  allot: Allot;
  base: string;
  dataDir: string;
  /** fetch against the server; `admin` adds the bearer token, objects are sent as JSON. */
  call(
    method: string,
    path: string,
    body?: unknown,
    opts?: { admin?: boolean; headers?: Record<string, string> },
  ): Promise<Response>;
  json<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** Starts a real Allot (embedded adapters) on a free port with its own temp data dir. */
export async function startAllot(env: Record<string, string> = {}, clock?: TestClock): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'allot-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ALLOT_DATA_DIR: dataDir,
    ALLOT_ADMIN_TOKEN: ADMIN_TOKEN,
    ALLOT_LOG_LEVEL: 'silent',
    ...env,
  });
  const allot = await createAllot(config, { logger: pino({ level: 'silent' }), ...(clock ? { clock } : {}) });
  const base = await allot.listen();
  const call: Running['call'] = (method, path, body, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.admin !== false) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    return fetch(`${base}${path}`, { method, headers, body: payload, redirect: 'manual' });
  };
  return {
    allot,
    base,
    dataDir,
    call,
    async json(method, path, body) {
      const res = await call(method, path, body);
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    async stop() {
      await allot.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

export const imageAd = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Ad ${id}`,
  creative: { type: 'image', url: `https://cdn.example.com/${id}.png`, width: 300, height: 250 },
  clickUrl: `https://advertiser.example.com/${id}`,
  ...extra,
});
