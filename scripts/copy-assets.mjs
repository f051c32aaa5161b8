// Copies non-TypeScript runtime assets (Redis Lua scripts) from src/ to dist/ after tsc,
// keeping their relative paths, so the built server finds them next to the compiled code.
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.lua') ? [join(dir, e.name)] : [],
  );
for (const file of walk(src)) {
  const target = join(root, 'dist', relative(src, file));
  cpSync(file, target, { force: true });
}
