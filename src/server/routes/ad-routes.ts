import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdService } from '../../manager/ad-service.js';
import {
  type AdCreate,
  AdCreateSchema,
  AdListSchema,
  type AdPatch,
  AdPatchSchema,
} from '../../schemas/ad-schema.js';
import { errorResponses, IdParamsSchema } from '../../schemas/common-schema.js';

const tags = ['ads'];
const security = [{ bearerAuth: [] }];
const AdRef = Type.Ref('Ad');

/** Manager API: `/v1/ads`. */
export function registerAdRoutes(app: FastifyInstance, ads: AdService): void {
  app.post<{ Body: AdCreate }>(
    '/v1/ads',
    {
      schema: {
        tags,
        security,
        summary: 'Create an ad',
        body: AdCreateSchema,
        response: { 201: AdRef, ...errorResponses(400, 401, 409, 413, 415) },
      },
    },
    async (req, reply) => reply.code(201).send(await ads.create(req.body)),
  );
  app.get(
    '/v1/ads',
    {
      schema: {
        tags,
        security,
        summary: 'List ads',
        response: { 200: AdListSchema, ...errorResponses(401) },
      },
    },
    async () => ({ ads: await ads.list() }),
  );
  app.get<{ Params: { id: string } }>(
    '/v1/ads/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Get an ad',
        params: IdParamsSchema,
        response: { 200: AdRef, ...errorResponses(401, 404) },
      },
    },
    async (req) => ads.get(req.params.id),
  );
  app.patch<{ Params: { id: string }; Body: AdPatch }>(
    '/v1/ads/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Change an ad (null clears an optional field)',
        params: IdParamsSchema,
        body: AdPatchSchema,
        response: { 200: AdRef, ...errorResponses(400, 401, 404, 413, 415) },
      },
    },
    async (req) => ads.update(req.params.id, req.body),
  );
  app.delete<{ Params: { id: string } }>(
    '/v1/ads/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete an ad (refused while a placement targets it)',
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses(401, 404, 409) },
      },
    },
    async (req, reply) => {
      await ads.remove(req.params.id);
      return reply.code(204).send();
    },
  );
}
