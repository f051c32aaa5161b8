import type { ErrorCode } from '../../core/errors.js';
import type { Decide, DecisionOutcome } from '../../decision/decide.js';
import type { DecisionRequestBody } from '../../schemas/decision-schema.js';
import type { Metrics } from '../metrics.js';

/** Decisions timed into `allot_decision_duration_seconds`: one in this many. */
export const TIMED_EVERY = 8;

/** What to answer a valid decision request, whichever HTTP path carries it. */
export type DecisionReply =
  | { status: 200; json: string }
  | { status: 204 }
  | { status: 404; code: ErrorCode; message: string };

const NO_FILL: DecisionReply = { status: 204 };

/**
 * Decides a validated request and counts it: the work shared by the Fastify route and the
 * decision fast path (`decision-fast-path.ts`). Synchronous unless the request has a
 * frequency-capped candidate whose user's fleet-wide count must be fetched first (`prepare`).
 */
export function createDecisionResponder(decide: Decide, metrics: Metrics) {
  // Label lookups resolved once: `inc({ result })` would hash the labels on every request.
  const filled = metrics.decisions.labels('filled');
  const noFill = metrics.decisions.labels('no_fill');
  const unknownPlacement = metrics.decisions.labels('unknown_placement');

  // One decision in TIMED_EVERY is timed into the histogram: its distribution is the same, and
  // prom-client's observe (label checks and hashing per call) cost ~2 % of a saturated server.
  let timeCountdown = TIMED_EVERY;

  function answer({ placementId, userId, context }: DecisionRequestBody): DecisionReply {
    let out: DecisionOutcome;
    if (--timeCountdown === 0) {
      timeCountdown = TIMED_EVERY;
      const t0 = performance.now();
      out = decide(placementId, userId, context);
      metrics.decisionSeconds.observe((performance.now() - t0) / 1000);
    } else {
      out = decide(placementId, userId, context);
    }
    if (out.kind === 'filled') {
      filled.inc();
      return { status: 200, json: out.json };
    }
    if (out.kind === 'noFill') {
      noFill.inc();
      return NO_FILL;
    }
    unknownPlacement.inc();
    return {
      status: 404,
      code: 'ALLOT_ERR_PLACEMENT_NOT_FOUND',
      message: `placement "${placementId}" not found`,
    };
  }

  return (body: DecisionRequestBody): DecisionReply | Promise<DecisionReply> => {
    const wait = decide.prepare(body.placementId, body.userId);
    return wait === null ? answer(body) : wait.then(() => answer(body));
  };
}

export type DecisionResponder = ReturnType<typeof createDecisionResponder>;
