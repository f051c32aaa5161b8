import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ReconciliationJob } from '../../analytics/reconciliation-job.js';
import { type ReportRequest, type ReportService, reportToCsv } from '../../manager/report-service.js';
import { errorResponses } from '../../schemas/common-schema.js';
import { allocationReportSchema, ReconciliationSchema } from '../../schemas/report-schema.js';

const tags = ['reports'];
const security = [{ bearerAuth: [] }];

/** Manager API: historical allocation reports from the archive, and archive-vs-live reconciliation. */
export function registerReportRoutes(
  app: FastifyInstance,
  reports: ReportService,
  metricDescriptions: ReadonlyArray<{ name: string; description: string; format: 'count' | 'ratio' }>,
  reconciliation: ReconciliationJob | null,
): void {
  app.get<{ Querystring: ReportRequest }>(
    '/v1/reports/allocation',
    {
      schema: {
        tags,
        security,
        summary: 'Allocation report per placement × ad × hour or day (JSON, or CSV with Accept: text/csv)',
        querystring: Type.Object({
          placementId: Type.Optional(
            Type.String({ maxLength: 64, description: 'One placement (default: all)' }),
          ),
          // Required, checked by the service so that every problem is listed with a clear message.
          from: Type.Optional(
            Type.String({ maxLength: 40, description: 'ISO 8601 start (floored to the period)' }),
          ),
          to: Type.Optional(
            Type.String({ maxLength: 40, description: 'ISO 8601 end, exclusive (ceiled to the period)' }),
          ),
          granularity: Type.Optional(Type.String({ maxLength: 8, description: 'hour (default) or day' })),
        }),
        response: { 200: allocationReportSchema(metricDescriptions), ...errorResponses(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const report = await reports.allocation(req.query);
      if ((req.headers.accept ?? '').includes('text/csv')) {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="allocation-report.csv"')
          .serializer((s: string) => s)
          .send(reportToCsv(report));
      }
      return report;
    },
  );
  if (reconciliation !== null) {
    app.get(
      '/v1/reconciliation',
      {
        schema: {
          tags,
          security,
          summary:
            'Latest comparison of the live counters with the archive’s exact counts (?run=now: run it now)',
          querystring: Type.Object({ run: Type.Optional(Type.Literal('now')) }),
          response: { 200: ReconciliationSchema, ...errorResponses(401) },
        },
      },
      async (req) =>
        (req.query as { run?: string }).run === 'now' ? reconciliation.runNow() : reconciliation.latest(),
    );
  }
}
