import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const ENTRY = ['--import', 'tsx', join(ROOT, 'src/cli/allot.ts')];

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [...ENTRY, ...args], {
    cwd: ROOT,
    env: { ...process.env, ALLOT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b) => {
    out += b;
  });
  child.stderr!.on('data', (b) => {
    out += b;
  });
  return { child, out: () => out, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

async function waitForOutput(p: Proc, re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = p.out().match(re);
    if (m) return m;
    if (Date.now() > end) throw new Error(`no ${re} in output:\n${p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('allot CLI', () => {
  const dirs: string[] = [];
  const procs: Proc[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'allot-cli-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const p of procs.splice(0)) p.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('--help lists the commands; an unknown command exits 2', async () => {
    const help = execFileSync(process.execPath, [...ENTRY, '--help'], { cwd: ROOT }).toString();
    expect(help).toContain('allot start');
    const bad = run(['frobnicate'], {});
    expect(await bad.exited).toBe(2);
    expect(bad.out()).toContain('unknown command');
  });

  it('reports every configuration problem at once and exits 2', async () => {
    const p = run(['start'], { PORT: 'eighty', ALLOT_CONFIG_DB: 'mysql://x', ALLOT_ADMIN_TOKEN: 'short' });
    expect(await p.exited).toBe(2);
    expect(p.out()).toContain('PORT must be an integer');
    expect(p.out()).toContain('ALLOT_CONFIG_DB must be');
    expect(p.out()).toContain('ALLOT_ADMIN_TOKEN must be at least 16');
  });

  it('starts on embedded defaults, generates and prints an admin token, keeps config across restarts, stops on SIGTERM', async () => {
    const dataDir = tempDir();
    const env = { PORT: '0', ALLOT_DATA_DIR: dataDir };
    const first = run(['start'], env);
    procs.push(first);
    const [, url] = await waitForOutput(first, /running at (http:\/\/\S+)/);
    const [, token] = await waitForOutput(first, /admin token: (\S+)/);
    expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'beacon-secret')).mode & 0o777).toBe(0o600);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const ad = await fetch(`${url}/v1/ads`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        id: 'x',
        name: 'X',
        creative: { type: 'html', html: '<p>x</p>' },
        clickUrl: 'https://x.example',
      }),
    });
    expect(ad.status).toBe(201);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = run(['start'], env);
    procs.push(second);
    const [, url2] = await waitForOutput(second, /running at (http:\/\/\S+)/);
    expect(second.out()).not.toContain(token!);
    expect(second.out()).toContain(`admin token: in ${dataDir}/admin-token`);
    const list = (await (await fetch(`${url2}/v1/ads`, { headers: auth })).json()) as {
      ads: Array<{ id: string }>;
    };
    expect(list.ads.map((a) => a.id)).toEqual(['x']);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
