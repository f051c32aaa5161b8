import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-handler.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * A preHandler requiring `Authorization: Bearer <admin token>`. Tokens are compared as
 * SHA-256 digests with `timingSafeEqual`, so neither content nor length leaks through timing.
 */
export function createAdminAuth(adminToken: string) {
  const expected = digest(adminToken);
  return async function adminAuth(request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (token === '' || !timingSafeEqual(digest(token), expected)) {
      reply.header('www-authenticate', 'Bearer realm="allot"');
      return sendError(reply, 'ALLOT_ERR_UNAUTHORIZED', 'a valid admin bearer token is required');
    }
  };
}
