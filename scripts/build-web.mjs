// Bundles the browser code under web/ into dist/public/ (served by Allot): the publisher ad tag
// as one minified classic script, no runtime dependencies, and the manager dashboard (Preact +
// uPlot, one ES module and one stylesheet) into dist/public/dashboard/. Prints their sizes.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist', 'public', 'tag.js');
await build({
  entryPoints: [join(root, 'web', 'tag', 'allot-tag.ts')],
  outfile: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  logLevel: 'warning',
});
const code = readFileSync(out);
process.stderr.write(`web: dist/public/tag.js ${code.length} bytes, ${gzipSync(code).length} gzipped\n`);

// The dashboard: web/dashboard/main.tsx → main.js, styles.css (with uPlot's) → styles.css, next to a copy of index.html.
const dashDir = join(root, 'dist', 'public', 'dashboard');
mkdirSync(dashDir, { recursive: true });
await build({
  entryPoints: [join(root, 'web', 'dashboard', 'main.tsx'), join(root, 'web', 'dashboard', 'styles.css')],
  outdir: dashDir,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(root, 'web', 'dashboard', 'index.html'), join(dashDir, 'index.html'));
for (const file of ['main.js', 'styles.css']) {
  const body = readFileSync(join(dashDir, file));
  process.stderr.write(
    `web: dist/public/dashboard/${file} ${body.length} bytes, ${gzipSync(body).length} gzipped\n`,
  );
}
