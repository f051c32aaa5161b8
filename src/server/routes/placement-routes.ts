import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { FeasibilityService } from '../../manager/feasibility-service.js';
import type { PlacementService } from '../../manager/placement-service.js';
import type { StatusService } from '../../manager/status-service.js';
import { errorResponses, IdParamsSchema } from '../../schemas/common-schema.js';
import {
  type PlacementCreate,
  PlacementCreateSchema,
  PlacementListSchema,
  type PlacementPatch,
  PlacementPatchSchema,
  type TargetsPut,
  TargetsPutSchema,
} from '../../schemas/placement-schema.js';
import { WhatIfSchema } from '../../schemas/status-schema.js';

const tags = ['placements'];
const security = [{ bearerAuth: [] }];
const PlacementRef = Type.Ref('Placement');
const TargetSetRef = Type.Ref('TargetSet');

/** Manager API: `/v1/placements`, their targets and live status. */
export function registerPlacementRoutes(
  app: FastifyInstance,
  placements: PlacementService,
  status: StatusService,
  feasibility: FeasibilityService,
): void {
  app.post<{ Body: PlacementCreate }>(
    '/v1/placements',
    {
      schema: {
        tags,
        security,
        summary: 'Create a placement',
        body: PlacementCreateSchema,
        response: { 201: PlacementRef, ...errorResponses(400, 401, 409, 413, 415) },
      },
    },
    async (req, reply) => reply.code(201).send(await placements.create(req.body)),
  );
  app.get(
    '/v1/placements',
    {
      schema: {
        tags,
        security,
        summary: 'List placements',
        response: { 200: PlacementListSchema, ...errorResponses(401) },
      },
    },
    async () => ({ placements: await placements.list() }),
  );
  app.get<{ Params: { id: string } }>(
    '/v1/placements/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Get a placement',
        params: IdParamsSchema,
        response: { 200: PlacementRef, ...errorResponses(401, 404) },
      },
    },
    async (req) => placements.get(req.params.id),
  );
  app.patch<{ Params: { id: string }; Body: PlacementPatch }>(
    '/v1/placements/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Change a placement',
        params: IdParamsSchema,
        body: PlacementPatchSchema,
        response: { 200: PlacementRef, ...errorResponses(400, 401, 404, 413, 415) },
      },
    },
    async (req) => placements.update(req.params.id, req.body),
  );
  app.delete<{ Params: { id: string } }>(
    '/v1/placements/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a placement and its targets',
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
    },
    async (req, reply) => {
      await placements.remove(req.params.id);
      return reply.code(204).send();
    },
  );
  app.put<{ Params: { id: string }; Body: TargetsPut }>(
    '/v1/placements/:id/targets',
    {
      schema: {
        tags,
        security,
        summary: 'Replace the target shares (bumps the version)',
        params: IdParamsSchema,
        body: TargetsPutSchema,
        response: { 200: TargetSetRef, ...errorResponses(400, 401, 404, 413, 415) },
      },
    },
    async (req) => placements.putTargets(req.params.id, req.body),
  );
  app.post<{ Params: { id: string }; Body: TargetsPut }>(
    '/v1/placements/:id/targets/check',
    {
      schema: {
        tags,
        security,
        summary: 'What-if: would these targets be feasible? (validates like PUT, saves nothing)',
        params: IdParamsSchema,
        body: TargetsPutSchema,
        response: { 200: WhatIfSchema, ...errorResponses(400, 401, 404, 413, 415) },
      },
    },
    async (req) => feasibility.whatIf(req.params.id, req.body),
  );
  app.get<{ Params: { id: string } }>(
    '/v1/placements/:id/targets',
    {
      schema: {
        tags,
        security,
        summary: 'Get the target shares',
        params: IdParamsSchema,
        response: { 200: TargetSetRef, ...errorResponses(401, 404) },
      },
    },
    async (req) => placements.getTargets(req.params.id),
  );
  app.get<{ Params: { id: string } }>(
    '/v1/placements/:id/status',
    {
      schema: {
        tags,
        security,
        summary: 'Live allocation status in the current window',
        params: IdParamsSchema,
        response: { 200: Type.Ref('PlacementStatus'), ...errorResponses(401, 404) },
      },
    },
    async (req) => status.get(req.params.id),
  );
}
