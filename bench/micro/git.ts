import { execFileSync } from 'node:child_process';

/** Runs `git args…` in `cwd` and returns its trimmed stdout; throws if git fails. */
export const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The commit checked out in `cwd` and whether the tree has changes; `unknown` outside a repository. */
export function revision(cwd: string): { commit: string; dirty: boolean } {
  try {
    return { commit: git(cwd, 'rev-parse', 'HEAD'), dirty: git(cwd, 'status', '--porcelain') !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
