import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_STATUS } from '../core/errors.js';
import type { BeaconKind } from '../tracking/beacon-service.js';
import type { BeaconForm, BeaconReply, BeaconResponder } from './routes/beacon-responder.js';

export interface BeaconFastPathDeps {
  respond: BeaconResponder;
  /** True once the server is shutting down: Fastify then answers (503, `Connection: close`). */
  closing: () => boolean;
}

const ROUTES = new Map<string, { kind: BeaconKind; form: BeaconForm }>([
  ['/v1/events/impression', { kind: 'impression', form: 'pixel' }],
  ['/v1/events/impression.gif', { kind: 'impression', form: 'gif' }],
  ['/v1/events/click', { kind: 'click', form: 'redirect' }],
]);
/** A token as Allot signs it (base64url parts joined by dots): nothing to decode. */
const PLAIN_TOKEN = /^[A-Za-z0-9_.-]{1,2048}$/;

/**
 * The beacon URLs (`?t=<token>` only) on plain `node:http`, in front of Fastify, as the
 * decision fast path does for decisions (`decision-fast-path.ts`). It takes only a GET whose
 * query is exactly one plain token; anything else (percent-encoding, other parameters, HEAD,
 * a shutting down server) returns false and Fastify answers it. Not installed when beacons
 * are rate limited (the limit lives in Fastify's plugin). Answers are the routes' (compared by
 * test/integration/fast-paths.test.ts).
 */
export function createBeaconFastPath(deps: BeaconFastPathDeps) {
  const write = (res: ServerResponse, out: BeaconReply): void => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('cache-control', 'no-store');
    if (deps.closing()) res.setHeader('connection', 'close');
    if (out.status === 204) res.writeHead(204).end();
    else if (out.status === 200) {
      res.writeHead(200, { 'content-type': 'image/gif', 'content-length': out.gif.length }).end(out.gif);
    } else if (out.status === 302) res.writeHead(302, { location: out.location, 'content-length': 0 }).end();
    else {
      const body = JSON.stringify({ error: { code: out.code, message: out.message, problems: [] } });
      res
        .writeHead(ERROR_STATUS[out.code], {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        })
        .end(body);
    }
  };

  /** Answers the request and returns true, or returns false for Fastify to answer it. */
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined) return false;
    const q = url.indexOf('?');
    if (q < 0 || url.charCodeAt(q + 1) !== 116 /* t */ || url.charCodeAt(q + 2) !== 61 /* = */) return false;
    const route = ROUTES.get(url.slice(0, q));
    if (route === undefined) return false;
    const token = url.slice(q + 3);
    if (!PLAIN_TOKEN.test(token) || deps.closing()) return false;
    // A GET's body, if any, is not read: drain it so the connection can carry the next request.
    req.resume();
    deps.respond(route.kind, token, route.form).then((out) => write(res, out));
    return true;
  };
}
