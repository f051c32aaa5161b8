import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface FleetProcess {
  role: string;
  url: string;
  child: ChildProcess;
  output: () => string;
}

/**
 * Starts `allot start --role <role>` as a real process (from source, via tsx) on a free port and
 * resolves once it listens. Each process gets its own data dir; shared settings come in `env`.
 */
export async function startRole(role: string, env: Record<string, string>): Promise<FleetProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `allot-${role}-`));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/allot.ts'), 'start', '--role', role],
    {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', ALLOT_DATA_DIR: dataDir, ALLOT_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (b) => {
    out += b;
  });
  child.stderr!.on('data', (b) => {
    out += b;
  });
  child.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const end = Date.now() + 30_000;
  for (;;) {
    const m = out.match(/running at (http:\/\/\S+)/);
    if (m) return { role, url: m[1]!, child, output: () => out };
    if (child.exitCode !== null || Date.now() > end) throw new Error(`${role} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM, then SIGKILL if it has not exited within `ms`. */
export async function stopProcess(p: FleetProcess, ms = 10_000): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}
