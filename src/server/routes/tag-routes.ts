import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** The project root, whether this runs compiled (dist/…) or from source (src/… under tsx). */
const root = ((): string => {
  const here = new URL('.', import.meta.url).pathname;
  const at = Math.max(here.lastIndexOf('/dist/'), here.lastIndexOf('/src/'));
  return at === -1 ? process.cwd() : here.slice(0, at);
})();

/** Where `npm run build` puts the browser bundles (scripts/build-web.mjs). */
export const PUBLIC_DIR = join(root, 'dist', 'public');

/**
 * `GET /tag.js`: the publisher ad tag (web/tag/allot-tag.ts, bundled), read once at start,
 * cacheable for 5 minutes, loadable from any origin. A build without it answers 503 saying so.
 */
export function registerTagRoutes(app: FastifyInstance): void {
  let body: Buffer | null = null;
  try {
    body = readFileSync(join(PUBLIC_DIR, 'tag.js'));
  } catch {
    app.log.warn({ dir: PUBLIC_DIR }, 'tag.js is not built (npm run build): /tag.js answers 503');
  }
  const etag = body === null ? '' : `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
  app.get(
    '/tag.js',
    { schema: { tags: ['publishers'], summary: 'The publisher ad tag (JavaScript)' } },
    async (req, reply) => {
      reply.header('access-control-allow-origin', '*');
      if (body === null) {
        return reply.code(503).type('text/plain').send('tag.js is not built: run npm run build');
      }
      reply.header('etag', etag).header('cache-control', 'public, max-age=300');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('application/javascript; charset=utf-8').send(body);
    },
  );
}
