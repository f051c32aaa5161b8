import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliProcess, runCli, waitForOutput } from './cli-process.js';

export interface FleetProcess extends CliProcess {
  role: string;
  url: string;
}

/**
 * Starts `allot start --role <role>` as a real process on a free port and resolves once it
 * listens. Each process gets its own data dir; shared settings come in `env`.
 */
export async function startRole(role: string, env: Record<string, string>): Promise<FleetProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `allot-${role}-`));
  const p = runCli(['start', '--role', role], { PORT: '0', ALLOT_DATA_DIR: dataDir, ...env });
  p.child.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const [, url] = await waitForOutput(p, /running at (http:\/\/\S+)/);
  return { ...p, role, url: url! };
}

/** SIGTERM, then SIGKILL if it has not exited within `ms`. */
export async function stopProcess(p: CliProcess, ms = 10_000): Promise<void> {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(timer);
}
