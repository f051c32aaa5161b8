import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../core/errors.js';
import { sendError } from './error-handler.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * A preHandler for the manager API: `Authorization: Bearer <token>` must be an admin token
 * (everything) or a read-only token (GET and HEAD only; anything else is 403). Several admin
 * tokens may be valid at once, so a token is rotated by adding the new one, moving clients,
 * then removing the old. Tokens are compared as SHA-256 digests with `timingSafeEqual`, against
 * every configured token without stopping early, so neither content, length nor which token
 * matched leaks through timing.
 */
export function createAdminAuth(tokens: { admin: readonly string[]; readonly?: readonly string[] }) {
  const admin = tokens.admin.map(digest);
  const readonly = (tokens.readonly ?? []).map(digest);
  const matches = (given: Buffer, set: Buffer[]): boolean => {
    let found = false;
    for (const d of set) found = timingSafeEqual(given, d) || found;
    return found;
  };
  /** Sends the refusal and returns its code, or returns null when the request may go on. */
  return function adminAuth(request: FastifyRequest, reply: FastifyReply): ErrorCode | null {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const given = digest(token);
    const isAdmin = matches(given, admin);
    const isReader = matches(given, readonly);
    if (token === '' || (!isAdmin && !isReader)) {
      reply.header('www-authenticate', 'Bearer realm="allot"');
      sendError(reply, 'ALLOT_ERR_UNAUTHORIZED', 'a valid admin bearer token is required');
      return 'ALLOT_ERR_UNAUTHORIZED';
    }
    if (!isAdmin && request.method !== 'GET' && request.method !== 'HEAD') {
      sendError(reply, 'ALLOT_ERR_FORBIDDEN', 'this token may only read (GET); changes need an admin token');
      return 'ALLOT_ERR_FORBIDDEN';
    }
    return null;
  };
}
