import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, type CliProcess, ROOT, runCli as run, waitForOutput } from '../support/cli-process.js';

describe('allot CLI', () => {
  const dirs: string[] = [];
  const procs: CliProcess[] = [];
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
    const help = execFileSync(process.execPath, [...CLI, '--help'], { cwd: ROOT }).toString();
    expect(help).toContain('allot start');
    const bad = run(['frobnicate'], {});
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('unknown command');
  });

  it('prints the Athena DDL for an S3 archive; refuses without one', async () => {
    const ddl = run(['athena-ddl', '--start', '2026-11-01'], { ALLOT_ARCHIVE_URL: 's3://my-bucket/ads' });
    expect(await ddl.exited).toBe(0);
    expect(ddl.output()).toContain('CREATE EXTERNAL TABLE IF NOT EXISTS `allot`.`events`');
    expect(ddl.output()).toContain("LOCATION 's3://my-bucket/ads/events/'");
    expect(ddl.output()).toContain("'projection.dt.range' = '2026-11-01,NOW'");
    const none = run(['athena-ddl'], {});
    expect(await none.exited).toBe(2);
    expect(none.output()).toContain('needs ALLOT_ARCHIVE_URL');
  });

  it('reports every configuration problem at once and exits 2', async () => {
    const p = run(['start'], { PORT: 'eighty', ALLOT_CONFIG_DB: 'mysql://x', ALLOT_ADMIN_TOKEN: 'short' });
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('PORT must be an integer');
    expect(p.output()).toContain('ALLOT_CONFIG_DB must be');
    expect(p.output()).toContain('ALLOT_ADMIN_TOKEN must be at least 16');
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
    expect(second.output()).not.toContain(token!);
    expect(second.output()).toContain(`admin token: in ${dataDir}/admin-token`);
    const list = (await (await fetch(`${url2}/v1/ads`, { headers: auth })).json()) as {
      ads: Array<{ id: string }>;
    };
    expect(list.ads.map((a) => a.id)).toEqual(['x']);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
