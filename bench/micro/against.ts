// Old vs new in one run: a git worktree of the old ref gets this working tree's harness
// (bench/micro.ts and bench/micro/), then each tree runs it with --json, rounds interleaved.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, revision } from './git.js';
import type { Results } from './measure.js';

/** The harness, relative to the repository root: copied over the old tree as a whole. */
const HARNESS = ['bench/micro.ts', 'bench/micro'];

let running: ReturnType<typeof spawn> | null = null;

/** Runs bench/micro.ts with --json in `cwd`; a failed child gives an empty result (all n/a). */
function child(cwd: string, label: string, timeMs: number): Promise<Results> {
  return new Promise((resolve) => {
    process.stderr.write(`${label} (${cwd})\n`);
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/micro.ts', '--json', '--time', String(timeMs)],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    running = p;
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    p.on('close', (code) => {
      running = null;
      try {
        resolve((JSON.parse(out.trim().split('\n').pop() ?? '') as { results: Results }).results);
      } catch {
        process.stderr.write(`${label}: exited ${code} without results; its cases are n/a\n`);
        resolve({});
      }
    });
  });
}

export interface Comparison {
  /** Date, node, time per case, rounds, and which trees are old and new (also written to stderr first). */
  header: string;
  /** One result per round, old tree. */
  old: Results[];
  /** One result per round, this working tree. */
  cur: Results[];
}

/**
 * Runs `ref` (old) and the working tree at `root` (new), `rounds` times each, interleaved, and
 * removes the worktree afterwards (also on SIGINT/SIGTERM). Exits 2 if `ref` is not a commit.
 */
export async function runAgainst(
  root: string,
  ref: string,
  timeMs: number,
  rounds: number,
): Promise<Comparison> {
  let sha: string;
  try {
    sha = git(root, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  } catch {
    process.stderr.write(`--against ${ref}: not a commit in this repository\n`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'allot-micro-'));
  const tree = join(dir, 'old');
  let removed = false;
  const cleanup = () => {
    if (removed) return;
    removed = true;
    running?.kill('SIGTERM');
    try {
      git(root, 'worktree', 'remove', '--force', tree);
    } catch {
      // Not created, or already gone: prune drops a stale registration.
      try {
        git(root, 'worktree', 'prune');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      cleanup();
      process.exit(code);
    });
  }
  try {
    git(root, 'worktree', 'add', '--detach', tree, sha);
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
    mkdirSync(join(tree, 'bench'), { recursive: true });
    for (const path of HARNESS) {
      // Replaced, not merged: the old tree's own version of a file must not survive.
      rmSync(join(tree, path), { recursive: true, force: true });
      cpSync(join(root, path), join(tree, path), { recursive: true });
    }
    const newRev = revision(root);
    const header =
      `${new Date().toISOString()}, node ${process.version}, ${timeMs} ms per case, ${rounds} rounds interleaved\n` +
      `old = ${ref} (${sha.slice(0, 10)}), new = working tree (${newRev.commit.slice(0, 10)}${newRev.dirty ? ' + uncommitted changes' : ''})`;
    process.stderr.write(`${header}\n`);
    const old: Results[] = [];
    const cur: Results[] = [];
    for (let r = 1; r <= rounds; r++) {
      old.push(await child(tree, `round ${r}/${rounds}: old`, timeMs));
      cur.push(await child(root, `round ${r}/${rounds}: new`, timeMs));
    }
    return { header, old, cur };
  } finally {
    cleanup();
  }
}
