import type { FastifyInstance } from 'fastify';
import type { Plan } from '../../core/plan/plan.js';
import type { Metrics } from '../metrics.js';

/** `/healthz` and `/metrics` (Prometheus text format). */
export function registerOpsRoutes(app: FastifyInstance, metrics: Metrics, plan: () => Plan): void {
  const startedAt = Date.now();
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'Liveness and plan revision' } },
    async () => ({
      status: 'ok',
      /** Which process answered (a decision server may run several workers). */
      pid: process.pid,
      planRevision: plan().revision,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
  );
  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics' } },
    async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
