import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
/** The `allot` CLI from source (tsx), so tests need no build. */
export const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/allot.ts')];

export interface CliProcess {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `allot <args>` as a real process with `env` on top of this one's. */
export function runCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [...CLI, ...args], {
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
  return { child, output: () => out, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

/** Waits until the output matches `re`; throws with the output if the process exits or time runs out. */
export async function waitForOutput(p: CliProcess, re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = p.output().match(re);
    if (m) return m;
    if (p.child.exitCode !== null || Date.now() > end) throw new Error(`no ${re} in output:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `fetch` against a CLI-started server: the bearer `token` on every call, objects sent as JSON. */
export function adminCaller(token: string) {
  return (base: string, method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${base}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}
