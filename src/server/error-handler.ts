import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { AllotError, ERROR_STATUS, type ErrorCode, type Problem } from '../core/errors.js';
import { toProblems } from './validation.js';

export function sendError(reply: FastifyReply, code: ErrorCode, message: string, problems: Problem[] = []) {
  return reply.code(ERROR_STATUS[code]).type('application/json').send({ error: { code, message, problems } });
}

/**
 * Errors Fastify raises before routing (a malformed URL, an over-long path parameter), in the
 * same JSON shape as every other error (Fastify's `frameworkErrors` option).
 */
export function frameworkErrors(error: FastifyError, _request: unknown, reply: FastifyReply) {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendError(
      reply,
      'ALLOT_ERR_URI_TOO_LONG',
      'a path parameter is too long (ids have at most 64 characters)',
    );
  }
  return sendError(reply, 'ALLOT_ERR_VALIDATION', 'the URL is malformed');
}

/** Maps every failure to one JSON shape with a stable code; never leaks internals on 5xx. */
export function installErrorHandler(app: FastifyInstance, onReject: (code: ErrorCode) => void): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof AllotError) {
      if (err.statusCode < 500) onReject(err.code);
      return sendError(reply, err.code, err.message, err.problems);
    }
    const fail = (code: ErrorCode, message: string, problems: Problem[] = []) => {
      onReject(code);
      return sendError(reply, code, message, problems);
    };
    if (err.validation) {
      return fail(
        'ALLOT_ERR_VALIDATION',
        'the request is invalid',
        toProblems(err.validation as never, request.body),
      );
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return fail('ALLOT_ERR_BODY_TOO_LARGE', err.message);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return fail('ALLOT_ERR_UNSUPPORTED_MEDIA_TYPE', 'use Content-Type: application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return fail('ALLOT_ERR_INVALID_JSON', 'the JSON body is empty');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return fail('ALLOT_ERR_INVALID_JSON', 'the body is not valid JSON');
    }
    if (err instanceof SyntaxError) return fail('ALLOT_ERR_INVALID_JSON', 'the body is not valid JSON');
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return fail('ALLOT_ERR_VALIDATION', err.message);
    }
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 'ALLOT_ERR_INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'ALLOT_ERR_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`),
  );
}
