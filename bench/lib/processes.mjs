// Child processes of a benchmark run (servers, load generators) and their CPU time from /proc.
// Every process started here is remembered until it exits, so that `stopAll` can end them on an
// error or a signal.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const ROOT = new URL('../..', import.meta.url).pathname;

/** Clock ticks per second of /proc/<pid>/stat's times (100 on every Linux seen so far). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const live = new Set();
const READY = /listening (\d+)|running at http:\/\/[^:]+:(\d+)/;

/**
 * Remembers a spawned child until it exits, for `stopAll`. `proc.exited` resolves to its exit
 * code (or signal).
 */
export function track(name, child) {
  const proc = { name, child, pid: child.pid, port: 0, stopping: false };
  live.add(proc);
  proc.exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  proc.exited.then((how) => {
    live.delete(proc);
    if (!proc.stopping && proc.port !== 0) process.stderr.write(`${name} (pid ${proc.pid}) exited: ${how}\n`);
  });
  return proc;
}

/**
 * Spawns `cmd args` with `env` on top of this process's environment. `proc.ready` resolves to
 * `proc` once its stdout announces a port (`listening <port>` or Allot's
 * `running at http://host:port`), and rejects if it exits or stays silent for `timeoutMs`.
 */
export function startProcess(name, cmd, args, env, timeoutMs = 60_000) {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const proc = track(name, child);
  proc.ready = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in ${timeoutMs} ms: ${out}`)),
      timeoutMs,
    );
    const onData = (b) => {
      out = (out + b).slice(-8192);
      const m = out.match(READY);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining its later output (warnings)
        proc.port = Number(m[1] ?? m[2]);
        resolve(proc);
      }
    };
    child.stdout.on('data', onData);
    proc.exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${how}) before listening: ${out}`));
    });
  });
  return proc;
}

/** SIGTERM, then SIGKILL if it has not exited within `ms` (Allot stops gracefully on SIGTERM). */
export async function stopProcess(proc, ms = 15_000) {
  if (!live.has(proc)) return;
  proc.stopping = true;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), ms);
  await proc.exited;
  clearTimeout(timer);
}

/** Stops every process started here that is still running. */
export function stopAll(ms) {
  return Promise.all([...live].map((p) => stopProcess(p, ms)));
}

function statFields(pid) {
  try {
    // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // exited meanwhile
  }
}

function childrenOf(pid) {
  try {
    const out = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (list !== '') out.push(...list.split(' ').map(Number));
    }
    return out;
  } catch (err) {
    if (err.code !== 'ENOENT' || !statFields(pid)) return [];
    // Kernels without CONFIG_PROC_CHILDREN: scan every process for its parent id.
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => statFields(d)?.[1] === String(pid))
      .map(Number);
  }
}

/** `pid` and all its descendants (node:cluster workers are children of the primary). */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]));
  return out;
}

/**
 * CPU clock ticks (user + system, all threads) spent so far by `pid` and its descendants.
 * Children's cutime/cstime are included so that a worker that exits and is reaped between two
 * readings keeps its time (it moves into its parent's cutime); a worker forked meanwhile counts
 * from its start.
 */
export function treeCpuTicks(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks;
}

/** The CPU ticks of each of `procs`' process trees, now. */
export function cpuSnapshot(procs) {
  return { at: performance.now(), ticks: procs.map((p) => treeCpuTicks(p.pid)) };
}

/** Wall seconds since `before` (a `cpuSnapshot` of the same `procs`) and each tree's CPU seconds. */
export function cpuSince(before, procs) {
  const now = cpuSnapshot(procs);
  return {
    wallSeconds: (now.at - before.at) / 1000,
    cpuSeconds: now.ticks.map((t, i) => (t - before.ticks[i]) / CLK_TCK),
  };
}
