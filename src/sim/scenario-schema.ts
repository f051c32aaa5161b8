import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import type { FrequencyCap } from '../core/domain/ad.js';
import type { Problem } from '../core/errors.js';
import type { TargetingRule } from '../core/targeting/targeting-rule.js';
import { validateTargeting } from '../core/targeting/validate-targeting.js';
import { IdSchema } from '../schemas/common-schema.js';
import { toProblems } from '../server/validation.js';

const strict = { additionalProperties: false } as const;
const Share = Type.Number({ minimum: 0, maximum: 1 });

/** One context key's distribution. Probabilities of a discrete one may sum below 1: the rest leaves the key out. */
export type AttributeDistribution =
  | Record<string, number>
  | { uniformInt: [number, number] }
  | { bool: number };

/**
 * `if`/`then`/`else` instead of `anyOf`: the three shapes are told apart by their key, so a bad
 * `uniformInt` reports one precise error instead of every branch's misses.
 */
const DistributionSchema = Type.Unsafe<AttributeDistribution>({
  type: 'object',
  if: { required: ['uniformInt'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited.
  then: {
    properties: { uniformInt: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 } },
    additionalProperties: false,
  },
  else: {
    if: { required: ['bool'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited.
    then: { properties: { bool: Share }, additionalProperties: false },
    else: { minProperties: 1, additionalProperties: Share },
  },
  description:
    '{ "DE": 0.35, "FR": 0.1 } (the rest: key absent), { "uniformInt": [18, 65] } or { "bool": 0.3 }',
});

const AttributesSchema = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), DistributionSchema);

/** Targeting is checked by `validateTargeting`, which names the exact fault (see `semanticProblems`). */
const TargetingSchema = Type.Unsafe<TargetingRule>({ type: 'object' });

const FrequencyCapSchema = Type.Object(
  {
    impressions: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: 366 * 86_400 }),
  },
  strict,
);

export const ScenarioSchema = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
      description: 'Also the output file name.',
    }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    seed: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    decisions: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    durationHours: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 24,
        description: 'Simulated span from a UTC midnight: one window.',
      }),
    ),
    servers: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    statusDelaySeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
    samplingRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    controlIntervalSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
    users: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    ads: Type.Array(
      Type.Object(
        {
          id: IdSchema,
          targeting: Type.Optional(TargetingSchema),
          frequencyCap: Type.Optional(FrequencyCapSchema),
          renderRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
        },
        strict,
      ),
      { minItems: 1, maxItems: 64 },
    ),
    placement: Type.Object(
      {
        fallbackAdId: Type.Optional(IdSchema),
        targets: Type.Array(Type.Object({ adId: IdSchema, share: Share }, strict), { maxItems: 64 }),
      },
      strict,
    ),
    traffic: Type.Object(
      {
        attributes: AttributesSchema,
        phases: Type.Optional(
          Type.Array(
            Type.Object({ fromHour: Type.Number({ minimum: 0 }), attributes: AttributesSchema }, strict),
            {
              maxItems: 48,
            },
          ),
        ),
      },
      strict,
    ),
  },
  { ...strict, $id: 'Scenario', title: 'Scenario' },
);
export type ScenarioInput = Static<typeof ScenarioSchema>;

/** A validated scenario with every default applied. */
export interface Scenario {
  name: string;
  description: string;
  seed: number;
  decisions: number;
  durationHours: number;
  servers: number;
  statusDelaySeconds: number;
  samplingRate: number;
  controlIntervalSeconds: number;
  users: number;
  ads: Array<{
    id: string;
    targeting: TargetingRule | null;
    frequencyCap: FrequencyCap | null;
    renderRate: number;
  }>;
  placement: { fallbackAdId: string | null; targets: Array<{ adId: string; share: number }> };
  traffic: {
    attributes: Record<string, AttributeDistribution>;
    phases: Array<{ fromHour: number; attributes: Record<string, AttributeDistribution> }>;
  };
}

/** Thrown by `parseScenario`; `problems` lists everything wrong, each at a JSON pointer. */
export class ScenarioError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(`invalid scenario:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'ScenarioError';
    this.problems = problems;
  }
}

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });
const check = ajv.compile<ScenarioInput>(ScenarioSchema);

/** Shares may add up to 1 up to float rounding (the placement service allows the same). */
const SUM_TOLERANCE = 1e-9;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * What the schema cannot say: references, uniqueness, sums, ordering. Written defensively over
 * the raw input so that these problems are listed together with the schema's.
 */
function semanticProblems(input: unknown): Problem[] {
  const problems: Problem[] = [];
  if (!isObject(input)) return problems;
  const ids = new Set<string>();
  asArray(input.ads).forEach((ad, i) => {
    if (!isObject(ad)) return;
    if (typeof ad.id === 'string') {
      if (ids.has(ad.id)) problems.push({ path: `/ads/${i}/id`, message: `duplicate ad id "${ad.id}"` });
      ids.add(ad.id);
    }
    if (ad.targeting !== undefined) problems.push(...validateTargeting(ad.targeting, `/ads/${i}/targeting`));
  });
  const placement = isObject(input.placement) ? input.placement : {};
  const fb = placement.fallbackAdId;
  if (typeof fb === 'string' && !ids.has(fb)) {
    problems.push({ path: '/placement/fallbackAdId', message: `unknown ad "${fb}"` });
  }
  const targets = asArray(placement.targets);
  const targeted = new Set<string>();
  let sum = 0;
  targets.forEach((t, j) => {
    if (!isObject(t)) return;
    if (typeof t.adId === 'string') {
      if (!ids.has(t.adId))
        problems.push({ path: `/placement/targets/${j}/adId`, message: `unknown ad "${t.adId}"` });
      if (targeted.has(t.adId))
        problems.push({ path: `/placement/targets/${j}/adId`, message: 'duplicate target' });
      targeted.add(t.adId);
    }
    if (typeof t.share === 'number') sum += t.share;
  });
  if (sum > 1 + SUM_TOLERANCE) {
    problems.push({
      path: '/placement/targets',
      message: `shares must sum to at most 1, got ${+sum.toFixed(6)}`,
    });
  }
  if (Array.isArray(placement.targets) && targets.length === 0 && typeof fb !== 'string') {
    problems.push({ path: '/placement', message: 'needs at least one target or a fallbackAdId' });
  }
  const traffic = isObject(input.traffic) ? input.traffic : {};
  problems.push(...distributionProblems(traffic.attributes, '/traffic/attributes'));
  const duration = typeof input.durationHours === 'number' ? input.durationHours : 24;
  let last = -1;
  asArray(traffic.phases).forEach((ph, k) => {
    if (!isObject(ph)) return;
    problems.push(...distributionProblems(ph.attributes, `/traffic/phases/${k}/attributes`));
    if (typeof ph.fromHour !== 'number') return;
    if (ph.fromHour >= duration) {
      problems.push({
        path: `/traffic/phases/${k}/fromHour`,
        message: `must be below durationHours (${duration})`,
      });
    }
    if (ph.fromHour <= last) {
      problems.push({
        path: `/traffic/phases/${k}/fromHour`,
        message: 'phases must be in increasing fromHour order',
      });
    }
    last = ph.fromHour;
  });
  return problems;
}

function distributionProblems(attributes: unknown, base: string): Problem[] {
  const problems: Problem[] = [];
  if (!isObject(attributes)) return problems;
  for (const [key, d] of Object.entries(attributes)) {
    const path = `${base}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (!isObject(d)) continue;
    if ('uniformInt' in d) {
      const [lo, hi] = asArray(d.uniformInt);
      if (typeof lo === 'number' && typeof hi === 'number' && lo > hi) {
        problems.push({
          path: `${path}/uniformInt`,
          message: `lower bound ${lo} is above upper bound ${hi}`,
        });
      }
    } else if (!('bool' in d)) {
      let sum = 0;
      for (const p of Object.values(d)) if (typeof p === 'number') sum += p;
      if (sum > 1 + SUM_TOLERANCE) {
        problems.push({ path, message: `probabilities must sum to at most 1, got ${+sum.toFixed(6)}` });
      }
    }
  }
  return problems;
}

/** Validates a parsed JSON scenario (every problem listed) and applies the defaults. */
export function parseScenario(input: unknown): Scenario {
  const problems = check(input) ? [] : toProblems(check.errors ?? [], input);
  problems.push(...semanticProblems(input));
  if (problems.length > 0) throw new ScenarioError(problems);
  const s = input as ScenarioInput;
  return {
    name: s.name,
    description: s.description ?? '',
    seed: s.seed,
    decisions: s.decisions,
    durationHours: s.durationHours ?? 24,
    servers: s.servers ?? 1,
    statusDelaySeconds: s.statusDelaySeconds ?? 0,
    samplingRate: s.samplingRate ?? 1,
    controlIntervalSeconds: s.controlIntervalSeconds ?? 60,
    users: s.users ?? 10_000,
    ads: s.ads.map((a) => ({
      id: a.id,
      targeting: a.targeting ?? null,
      frequencyCap: a.frequencyCap ?? null,
      renderRate: a.renderRate ?? 1,
    })),
    placement: { fallbackAdId: s.placement.fallbackAdId ?? null, targets: s.placement.targets },
    traffic: { attributes: s.traffic.attributes, phases: s.traffic.phases ?? [] },
  };
}
