import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PUBLIC_DIR } from './tag-routes.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * `GET /dashboard`: the manager dashboard (web/dashboard, bundled by scripts/build-web.mjs into
 * PUBLIC_DIR/dashboard). Every file is read once at start into a map keyed by its plain name, so
 * a request can only ever get one of those files (no path reaches the file system: no traversal).
 * The page itself is public; it asks for the admin token and calls the manager API with it.
 */
export function registerDashboardRoutes(app: FastifyInstance): void {
  const dir = join(PUBLIC_DIR, 'dashboard');
  const assets = new Map<string, Asset>();
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const type = TYPES[extname(entry.name)];
      if (!entry.isFile() || type === undefined) continue;
      const body = readFileSync(join(dir, entry.name));
      const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
      assets.set(entry.name, { body, type, etag });
    }
  } catch {
    // Not built: answered below.
  }
  if (!assets.has('index.html')) {
    app.log.warn({ dir }, 'the dashboard is not built (npm run build): /dashboard answers 503');
  }
  const schema = { hide: true };
  const send = (name: string, ifNoneMatch: string | undefined, reply: FastifyReply) => {
    const asset = assets.get(name);
    if (asset === undefined) {
      if (name === 'index.html') {
        return reply.code(503).type('text/plain').send('the dashboard is not built: run npm run build');
      }
      return reply.code(404).type('text/plain').send('not found');
    }
    // index.html is revalidated every time; the bundles it loads are small and revalidated too.
    reply.header('etag', asset.etag).header('cache-control', 'no-cache');
    reply.header('x-content-type-options', 'nosniff');
    if (ifNoneMatch === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };
  app.get('/dashboard', { schema }, async (req, reply) =>
    send('index.html', req.headers['if-none-match'], reply),
  );
  app.get<{ Params: { file: string } }>('/dashboard/:file', { schema }, async (req, reply) =>
    send(req.params.file === '' ? 'index.html' : req.params.file, req.headers['if-none-match'], reply),
  );
}
