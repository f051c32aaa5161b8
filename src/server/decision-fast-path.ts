import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parse as secureJsonParse } from 'secure-json-parse';
import type { ErrorCode, Problem } from '../core/errors.js';
import type { DecisionRequestBody } from '../schemas/decision-schema.js';
import { writeError, writeJson, writeNoContent } from './raw-reply.js';
import type { DecisionReply, DecisionResponder } from './routes/decision-responder.js';
import { toProblems } from './validation.js';

/** A compiled body validator (Ajv's: `errors` holds why the last call said no). */
export interface BodyValidator {
  (body: unknown): boolean;
  errors?: Parameters<typeof toProblems>[0] | null;
}

export interface DecisionFastPathDeps {
  respond: DecisionResponder;
  /** The route's own body validator (same schema, same Ajv instance as Fastify's). */
  validate: BodyValidator;
  bodyLimit: number;
  /** Counts a refused request (`allot_requests_rejected_total`). */
  onReject: (code: ErrorCode) => void;
  log: Logger;
  /** True once the server is shutting down: Fastify then answers (503, `Connection: close`). */
  closing: () => boolean;
}

// JSON.parse with Fastify's default protection: `__proto__` and `constructor.prototype` refused.
const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * `POST /v1/decisions` on plain `node:http`, in front of Fastify: read the body, parse it as
 * Fastify's JSON parser does, validate it with the route's compiled schema, decide, write. It
 * skips Fastify's per-request machinery (request and reply objects, hooks, routing, a child
 * logger), which cost about a fifth of a decision's CPU (docs/benchmarks.md).
 *
 * It returns false, touching nothing, for every request it does not take — another URL or
 * method, a body without Content-Length or over the limit, another content type, a shutting
 * down server — and Fastify answers those. The errors it does give (invalid JSON, invalid body,
 * unknown placement, an internal fault) have the route's codes, bodies and headers, checked
 * against the route by test/integration/decision-fast-path.test.ts.
 */
export function createDecisionFastPath(deps: DecisionFastPathDeps) {
  const { respond, validate, bodyLimit } = deps;

  // Once closing, every answer asks its client to close, as Fastify's do (create-server.ts).
  const error = (res: ServerResponse, code: ErrorCode, message: string, problems: Problem[] = []): void =>
    writeError(res, code, message, problems, deps.closing());
  const fail = (res: ServerResponse, code: ErrorCode, message: string, problems: Problem[] = []): void => {
    deps.onReject(code);
    error(res, code, message, problems);
  };
  const reply = (res: ServerResponse, out: DecisionReply): void => {
    if (out.status === 200) writeJson(res, 200, out.json, deps.closing());
    else if (out.status === 204) writeNoContent(res, deps.closing());
    else error(res, out.code, out.message);
  };
  const internal = (res: ServerResponse, err: unknown): void => {
    deps.log.error({ err }, 'unhandled error');
    if (!res.headersSent) error(res, 'ALLOT_ERR_INTERNAL', 'internal error');
  };

  const handle = (res: ServerResponse, text: string): void => {
    let body: unknown;
    try {
      body = secureJsonParse(text, PARSE_OPTIONS);
    } catch {
      fail(res, 'ALLOT_ERR_INVALID_JSON', 'the body is not valid JSON');
      return;
    }
    if (!validate(body)) {
      fail(res, 'ALLOT_ERR_VALIDATION', 'the request is invalid', toProblems(validate.errors ?? [], body));
      return;
    }
    let out: DecisionReply | Promise<DecisionReply>;
    try {
      out = respond(body as DecisionRequestBody);
    } catch (err) {
      internal(res, err);
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (r) => reply(res, r),
        (err: unknown) => internal(res, err),
      );
    } else reply(res, out);
  };

  /** Answers the request and returns true, or returns false for Fastify to answer it. */
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST' || req.url !== '/v1/decisions') return false;
    const h = req.headers;
    const type = h['content-type'];
    if (type === undefined || !isJson(type) || h['transfer-encoding'] !== undefined) return false;
    const length = Number(h['content-length']);
    if (!(length > 0 && length <= bodyLimit) || deps.closing()) return false;

    let first: Buffer | null = null;
    let more: Buffer[] | null = null;
    req.on('data', (chunk: Buffer) => {
      if (first === null) first = chunk;
      else if (more === null) more = [first, chunk];
      else more.push(chunk);
    });
    req.on('end', () => {
      const text = more !== null ? Buffer.concat(more).toString('utf8') : (first?.toString('utf8') ?? '');
      handle(res, text);
    });
    // A client that goes away mid-body gets no answer (as from Fastify).
    req.on('error', () => res.destroy());
    return true;
  };
}

/** `application/json`, optionally with `charset=utf-8`: the types Fastify's JSON parser takes. */
function isJson(type: string): boolean {
  if (type.length === 16) return type.toLowerCase() === 'application/json';
  const t = type.toLowerCase().replaceAll(' ', '');
  return t === 'application/json;charset=utf-8' || t === 'application/json;charset="utf-8"';
}
