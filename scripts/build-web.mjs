// Bundles the browser code under web/ into dist/public/ (served by Allot): the publisher ad tag
// as one minified classic script, no runtime dependencies. Prints its size, raw and gzipped.
import { readFileSync } from 'node:fs';
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
