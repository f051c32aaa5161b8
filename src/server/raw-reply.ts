import type { ServerResponse } from 'node:http';
import { ERROR_STATUS, type ErrorCode, type Problem } from '../core/errors.js';

// The public endpoints' answers on plain `node:http` (the fast paths), with the Fastify routes'
// headers. The headers go as one flat list to `writeHead`: with nothing set through
// `setHeader`, Node writes them out directly instead of first building its header map.

const JSON_TYPE = 'application/json; charset=utf-8';
/** Every public answer's headers besides the body's (`corsPublic`; Node only reads the lists). */
const PUBLIC: readonly string[] = ['access-control-allow-origin', '*', 'cache-control', 'no-store'];
/** Once the server is closing, every answer asks its client to close, as Fastify's do. */
const PUBLIC_CLOSING: readonly string[] = [...PUBLIC, 'connection', 'close'];

/** A JSON answer; `closing` adds `Connection: close`. */
export function writeJson(res: ServerResponse, status: number, body: string, closing = false): void {
  // biome-ignore format: one header per line
  res.writeHead(status, [
    ...(closing ? PUBLIC_CLOSING : PUBLIC),
    'content-type', JSON_TYPE,
    'content-length', String(Buffer.byteLength(body)),
  ]);
  res.end(body);
}

/** A 204; `closing` adds `Connection: close`. */
export function writeNoContent(res: ServerResponse, closing = false): void {
  res.writeHead(204, (closing ? PUBLIC_CLOSING : PUBLIC) as string[]);
  res.end();
}

/** An error in the API's one shape, `{ error: { code, message, problems } }`, with its status. */
export function writeError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  problems: Problem[] = [],
  closing = false,
): void {
  writeJson(res, ERROR_STATUS[code], JSON.stringify({ error: { code, message, problems } }), closing);
}
