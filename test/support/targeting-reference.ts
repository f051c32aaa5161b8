import fc from 'fast-check';
import type { ContextValue, RequestContext, TargetingRule } from '../../src/core/targeting/targeting-rule.js';

/**
 * Reference semantics of targeting rules, written independently of compileTargeting so that
 * tests can check the compiler (and the whole server) against it. A null / undefined rule
 * matches every context.
 * Only own properties with a string, number or boolean value count as present; a condition on
 * a missing key is false, except `exists: false`; numeric comparisons need a number value.
 */
export function referenceMatches(rule: TargetingRule | null | undefined, ctx: RequestContext): boolean {
  return rule === null || rule === undefined || evaluate(rule, ctx);
}

function present(ctx: RequestContext, key: string): ContextValue | undefined {
  if (!Object.hasOwn(ctx, key)) return undefined;
  const v: unknown = ctx[key];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

function evaluate(rule: TargetingRule, ctx: RequestContext): boolean {
  if ('all' in rule) return rule.all.every((r) => evaluate(r, ctx));
  if ('any' in rule) return rule.any.some((r) => evaluate(r, ctx));
  if ('not' in rule) return !evaluate(rule.not, ctx);
  const v = present(ctx, rule.key);
  if ('exists' in rule) return (v !== undefined) === rule.exists;
  if (v === undefined) return false;
  if ('in' in rule) return rule.in.some((x) => x === v);
  if ('notIn' in rule) return !rule.notIn.some((x) => x === v);
  if (typeof v !== 'number') return false;
  if ('gte' in rule) return v >= rule.gte;
  if ('gt' in rule) return v > rule.gt;
  if ('lte' in rule) return v <= rule.lte;
  return v < rule.lt;
}

export type ConditionOp = 'in' | 'notIn' | 'gte' | 'gt' | 'lte' | 'lt' | 'exists';

export interface TargetingArbOptions {
  /** The context keys, each with the values it may take; conditions test these keys. */
  context: Readonly<Record<string, fc.Arbitrary<ContextValue>>>;
  /** Values of `in` / `notIn` lists. */
  listValue: fc.Arbitrary<ContextValue>;
  /** Lists hold 1 to this many values. */
  maxListLength: number;
  /** Bounds of `gte` / `gt` / `lte` / `lt`. */
  bound: fc.Arbitrary<number>;
  /** Keys the numeric comparisons test; default: every context key. */
  numericKeys?: readonly string[];
  /** The conditions to generate, in this order; default: all seven. */
  ops?: readonly ConditionOp[];
  /** `all` / `any` / `not` nest at most this many levels above the conditions. */
  maxDepth: number;
}

export interface TargetingArbs {
  rule: fc.Arbitrary<TargetingRule>;
  /** Contexts holding any subset of the keys. */
  context: fc.Arbitrary<RequestContext>;
}

/** Random rules and contexts over small domains, so that conditions often both hit and miss. */
export function targetingArbs(o: TargetingArbOptions): TargetingArbs {
  const keys = Object.keys(o.context);
  const key = fc.constantFrom(...keys);
  const numericKey = fc.constantFrom(...(o.numericKeys ?? keys));
  const list = fc.array(o.listValue, { minLength: 1, maxLength: o.maxListLength });
  const conditions: Record<ConditionOp, fc.Arbitrary<TargetingRule>> = {
    in: fc.record({ key, in: list }),
    notIn: fc.record({ key, notIn: list }),
    gte: fc.record({ key: numericKey, gte: o.bound }),
    gt: fc.record({ key: numericKey, gt: o.bound }),
    lte: fc.record({ key: numericKey, lte: o.bound }),
    lt: fc.record({ key: numericKey, lt: o.bound }),
    exists: fc.record({ key, exists: fc.boolean() }),
  };
  const ops = o.ops ?? (['in', 'notIn', 'gte', 'gt', 'lte', 'lt', 'exists'] as const);
  const cond = fc.oneof(...ops.map((op) => conditions[op]));
  const rule = fc.letrec<{ rule: TargetingRule }>((tie) => ({
    rule: fc.oneof(
      { maxDepth: o.maxDepth, depthIdentifier: 'rule' },
      cond,
      fc.record({ all: fc.array(tie('rule'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ any: fc.array(tie('rule'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ not: tie('rule') }),
    ),
  })).rule;
  // Left-out keys are absent, never undefined-valued: the result is a RequestContext.
  const context = fc.record(o.context, { requiredKeys: [] }) as fc.Arbitrary<RequestContext>;
  return { rule, context };
}

/** A string, number or boolean; strings and numbers come from the given sets. */
export const contextValueFrom = (
  strings: readonly string[],
  numbers: readonly number[],
): fc.Arbitrary<ContextValue> =>
  fc.oneof(fc.constantFrom(...strings), fc.constantFrom(...numbers), fc.boolean());

const abcValue = contextValueFrom(['x', 'y', '1', ''], [-1, 0, 0.5, 1, 2]);

/**
 * Keys a, b, c with values of every type (empty string, '1' beside 1, fractions, negatives),
 * rules of every operator up to 3 levels of nesting.
 */
export const abcTargeting: TargetingArbs = targetingArbs({
  context: { a: abcValue, b: abcValue, c: abcValue },
  listValue: abcValue,
  maxListLength: 4,
  bound: fc.constantFrom(-1, 0, 0.5, 1, 2),
  maxDepth: 3,
});
