import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTargeting } from '../../../src/core/targeting/compile-targeting.js';
import type { RequestContext, TargetingRule } from '../../../src/core/targeting/targeting-rule.js';
import { abcTargeting, referenceMatches } from '../../support/targeting-reference.js';

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

const { rule: ruleArb, context: contextArb } = abcTargeting;

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
    expect(referenceMatches(rule, context)).toBe(expected);
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
    expect(referenceMatches({ key: '__proto__', in: ['x'] }, ctx)).toBe(true);
  });

  it('property: agrees with the reference interpreter on random rules and contexts', () => {
    fc.assert(
      fc.property(ruleArb, fc.array(contextArb, { minLength: 1, maxLength: 8 }), (rule, ctxs) => {
        const p = compileTargeting(rule);
        for (const ctx of ctxs) expect(p(ctx)).toBe(referenceMatches(rule, ctx));
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
