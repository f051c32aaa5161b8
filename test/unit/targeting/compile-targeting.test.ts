import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTargeting } from '../../../src/core/targeting/compile-targeting.js';
import type {
  ContextValue,
  RequestContext,
  TargetingRule,
} from '../../../src/core/targeting/targeting-rule.js';

interface TargetingCase {
  name: string;
  rule: TargetingRule;
  context: RequestContext;
  expected: boolean;
}

// Read with JSON.parse (not a module import) so contexts are exactly what a JSON body parses to.
const cases = JSON.parse(
  readFileSync(new URL('./targeting-cases.json', import.meta.url), 'utf8'),
) as TargetingCase[];

/** Reference semantics, written independently of the compiler: only own primitive values count. */
function present(ctx: RequestContext, key: string): ContextValue | undefined {
  if (!Object.hasOwn(ctx, key)) return undefined;
  const v: unknown = ctx[key];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

function evalRule(rule: TargetingRule, ctx: RequestContext): boolean {
  if ('all' in rule) return rule.all.every((r) => evalRule(r, ctx));
  if ('any' in rule) return rule.any.some((r) => evalRule(r, ctx));
  if ('not' in rule) return !evalRule(rule.not, ctx);
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

const keyArb = fc.constantFrom('a', 'b', 'c');
const valueArb: fc.Arbitrary<ContextValue> = fc.oneof(
  fc.constantFrom('x', 'y', '1', ''),
  fc.constantFrom(-1, 0, 0.5, 1, 2),
  fc.boolean(),
);
const boundArb = fc.constantFrom(-1, 0, 0.5, 1, 2);
const listArb = fc.array(valueArb, { minLength: 1, maxLength: 4 });

const ruleArb = fc.letrec<{
  rule: TargetingRule;
  cond: TargetingRule;
  all: TargetingRule;
  any: TargetingRule;
  not: TargetingRule;
}>((tie) => ({
  rule: fc.oneof({ maxDepth: 3, depthIdentifier: 'rule' }, tie('cond'), tie('all'), tie('any'), tie('not')),
  cond: fc.oneof(
    fc.record({ key: keyArb, in: listArb }),
    fc.record({ key: keyArb, notIn: listArb }),
    fc.record({ key: keyArb, gte: boundArb }),
    fc.record({ key: keyArb, gt: boundArb }),
    fc.record({ key: keyArb, lte: boundArb }),
    fc.record({ key: keyArb, lt: boundArb }),
    fc.record({ key: keyArb, exists: fc.boolean() }),
  ),
  all: fc.record({ all: fc.array(tie('rule'), { minLength: 1, maxLength: 3 }) }),
  any: fc.record({ any: fc.array(tie('rule'), { minLength: 1, maxLength: 3 }) }),
  not: fc.record({ not: tie('rule') }),
})).rule;

const contextArb: fc.Arbitrary<RequestContext> = fc.record(
  { a: valueArb, b: valueArb, c: valueArb },
  { requiredKeys: [] },
);

describe('compileTargeting golden vectors', () => {
  it('has a broad set of cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const ops = new Set(cases.flatMap((c) => Object.keys(c.rule)));
    for (const op of ['in', 'notIn', 'gte', 'gt', 'lte', 'lt', 'exists', 'all', 'any', 'not']) {
      expect(ops, op).toContain(op);
    }
  });

  it.each(cases)('$name → $expected', ({ rule, context, expected }) => {
    expect(compileTargeting(rule)(context)).toBe(expected);
  });

  it.each(cases)('reference interpreter agrees: $name', ({ rule, context, expected }) => {
    expect(evalRule(rule, context)).toBe(expected);
  });
});

describe('compileTargeting', () => {
  it('null rule matches every context', () => {
    const p = compileTargeting(null);
    expect(p({})).toBe(true);
    expect(p({ a: 1, b: 'x', c: false })).toBe(true);
  });

  it('a compiled predicate is reusable and does not keep state between calls', () => {
    const p = compileTargeting({
      any: [
        { key: 'a', in: ['x'] },
        { key: 'b', gt: 1 },
      ],
    });
    expect([p({ a: 'x' }), p({}), p({ b: 2 }), p({ a: 'y', b: 1 })]).toEqual([true, false, true, false]);
  });

  it('does not mutate the rule it compiles', () => {
    const rule: TargetingRule = { all: [{ key: 'a', in: [1, 2] }, { not: { key: 'b', exists: true } }] };
    const copy = structuredClone(rule);
    compileTargeting(rule)({ a: 1 });
    expect(rule).toEqual(copy);
  });

  it('matches a context from JSON whose own "__proto__" key is a string', () => {
    const ctx = JSON.parse('{"__proto__":"x"}') as RequestContext;
    expect(compileTargeting({ key: '__proto__', in: ['x'] })(ctx)).toBe(true);
    expect(evalRule({ key: '__proto__', in: ['x'] }, ctx)).toBe(true);
  });

  it('property: agrees with the reference interpreter on random rules and contexts', () => {
    fc.assert(
      fc.property(ruleArb, fc.array(contextArb, { minLength: 1, maxLength: 8 }), (rule, ctxs) => {
        const p = compileTargeting(rule);
        for (const ctx of ctxs) expect(p(ctx)).toBe(evalRule(rule, ctx));
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('property: not(rule) is the negation of rule', () => {
    fc.assert(
      fc.property(ruleArb, contextArb, (rule, ctx) => {
        expect(compileTargeting({ not: rule })(ctx)).toBe(!compileTargeting(rule)(ctx));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
