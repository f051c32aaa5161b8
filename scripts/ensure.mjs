// Makes a fresh clone runnable: installs dependencies when node_modules is missing or older
// than package-lock.json, and (with "build") compiles TypeScript when dist/ is older than src/.
// Used by `npm start` and `npm test`, so both work as the first command after `git clone`.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const newest = (dir) => {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
};
const run = (cmd) => {
  process.stderr.write(`> ${cmd}\n`);
  execSync(cmd, { cwd: root, stdio: 'inherit' });
};

const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker) || mtime(marker) < mtime(join(root, 'package-lock.json'))) {
  run('npm ci --no-audit --no-fund');
}
if (process.argv[2] === 'build') {
  const built = mtime(join(root, 'dist', 'cli', 'main.js'));
  if (
    built === 0 ||
    built <
      Math.max(newest(join(root, 'src')), newest(join(root, 'web')), mtime(join(root, 'package-lock.json')))
  ) {
    run('npm run build');
  }
}

// "browser": the browser tests drive Debian's Chromium (playwright-core, no downloaded browsers).
if (process.argv.includes('browser') && !existsSync('/usr/bin/chromium')) {
  if (process.getuid?.() === 0)
    run(
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)',
    );
  else process.stderr.write('browser tests need /usr/bin/chromium: sudo apt-get install -y chromium\n');
}
