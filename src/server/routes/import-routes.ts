import type { FastifyInstance } from 'fastify';
import type { ImportService } from '../../manager/import-service.js';
import { errorResponses } from '../../schemas/common-schema.js';
import { type ConfigImport, ConfigImportSchema, ImportResultSchema } from '../../schemas/import-schema.js';

/** Manager API: `POST /v1/config/import`, a whole configuration in one request. */
export function registerImportRoutes(app: FastifyInstance, imports: ImportService, bodyLimit: number): void {
  app.post<{ Body: ConfigImport }>(
    '/v1/config/import',
    {
      // A whole configuration is far larger than one object: its own limit.
      bodyLimit,
      schema: {
        tags: ['config'],
        security: [{ bearerAuth: [] }],
        summary: 'Import ads, placements and targets in one change (upsert, all or nothing)',
        description:
          'Ads and placements whose id exists are replaced (keeping createdAt), others created; each target set replaces that placement’s targets like PUT /v1/placements/{id}/targets. One revision, one plan reload. Every problem in the document is listed, with paths into it, and a rejected import writes nothing.',
        body: ConfigImportSchema,
        response: { 200: ImportResultSchema, ...errorResponses(400, 401, 413, 415) },
      },
    },
    async (req) => imports.run(req.body),
  );
}
