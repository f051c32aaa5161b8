import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TargetingRule } from '../../../src/core/targeting/targeting-rule.js';
import { validateTargeting } from '../../../src/core/targeting/validate-targeting.js';
import { abcTargeting } from '../../support/targeting-reference.js';

const paths = (rule: unknown, base?: string): string[] => validateTargeting(rule, base).map((p) => p.path);

const leaf = (i = 0): TargetingRule => ({ key: `k${i}`, in: [i] });

/** `levels` nested `not`s around one condition: levels + 1 levels deep. */
function notChain(levels: number): TargetingRule {
  let r: TargetingRule = leaf();
  for (let i = 0; i < levels; i++) r = { not: r };
  return r;
}

const ruleArb = abcTargeting.rule;

describe('validateTargeting: valid rules', () => {
  const valid: [string, unknown][] = [
    ['in', { key: 'country', in: ['DE', 1, true] }],
    ['notIn', { key: 'country', notIn: ['DE'] }],
    ['gte', { key: 'age', gte: 18 }],
    ['gt', { key: 'age', gt: -1.5 }],
    ['lte', { key: 'age', lte: 0 }],
    ['lt', { key: 'age', lt: 1e9 }],
    ['exists false', { key: 'uid', exists: false }],
    ['nested', { all: [{ any: [leaf(1), { not: leaf(2) }] }, { key: 'x', exists: true }] }],
    ['64-char key', { key: 'k'.repeat(64), exists: true }],
    ['256-char string value', { key: 'k', in: ['v'.repeat(256)] }],
    ['1000-value list', { key: 'k', in: Array.from({ length: 1000 }, (_, i) => i) }],
    ['8 levels deep', notChain(7)],
    ['exactly 200 nodes', { any: Array.from({ length: 199 }, (_, i) => leaf(i)) }],
  ];
  it.each(valid)('%s → no problems', (_name, rule) => {
    expect(validateTargeting(rule)).toEqual([]);
  });

  it('property: every generated rule validates with no problems', () => {
    fc.assert(
      fc.property(ruleArb, (rule) => {
        expect(validateTargeting(rule)).toEqual([]);
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});

describe('validateTargeting: problems with exact JSON pointers', () => {
  it('lists every problem of the example rule', () => {
    const problems = validateTargeting({ all: [{ key: 'x', gte: '3' }, { foo: 1 }] });
    expect(problems.map((p) => p.path)).toEqual([
      '/targeting/all/0/gte',
      '/targeting/all/1/key',
      '/targeting/all/1/foo',
    ]);
    expect(problems[0]!.message).toMatch(/finite number/);
    expect(problems[2]!.message).toMatch(/unknown operator "foo"/);
  });

  it('uses the given base path', () => {
    expect(paths({ not: { key: '', exists: true } }, '/ads/3/targeting')).toEqual([
      '/ads/3/targeting/not/key',
    ]);
  });

  const cases: [string, unknown, string[]][] = [
    ['null', null, ['/targeting']],
    ['array', [leaf()], ['/targeting']],
    ['string', 'country=DE', ['/targeting']],
    ['number child', { any: [leaf(), 3] }, ['/targeting/any/1']],
    ['empty all', { all: [] }, ['/targeting/all']],
    ['empty any', { any: [] }, ['/targeting/any']],
    ['all not an array', { all: leaf() }, ['/targeting/all']],
    ['not with missing child', { not: null }, ['/targeting/not']],
    ['combinator with extra property', { all: [leaf()], key: 'x' }, ['/targeting']],
    ['two combinators', { any: [leaf()], not: leaf() }, ['/targeting']],
    ['condition without operator', { key: 'x' }, ['/targeting']],
    ['condition with two operators', { key: 'x', gte: 1, lt: 5 }, ['/targeting']],
    ['missing key', { in: ['a'] }, ['/targeting/key']],
    ['empty key', { key: '', in: ['a'] }, ['/targeting/key']],
    ['65-char key', { key: 'k'.repeat(65), in: ['a'] }, ['/targeting/key']],
    ['numeric key', { key: 7, in: ['a'] }, ['/targeting/key']],
    ['unknown operator only', { key: 'x', eq: 1 }, ['/targeting/eq']],
    ['unknown operator beside a known one', { key: 'x', in: [1], regex: '.*' }, ['/targeting/regex']],
    ['gte as string', { key: 'x', gte: '3' }, ['/targeting/gte']],
    ['gt Infinity', { key: 'x', gt: Number.POSITIVE_INFINITY }, ['/targeting/gt']],
    ['lte NaN', { key: 'x', lte: Number.NaN }, ['/targeting/lte']],
    ['lt null', { key: 'x', lt: null }, ['/targeting/lt']],
    ['exists as string', { key: 'x', exists: 'yes' }, ['/targeting/exists']],
    ['empty in', { key: 'x', in: [] }, ['/targeting/in']],
    ['empty notIn', { key: 'x', notIn: [] }, ['/targeting/notIn']],
    ['in not an array', { key: 'x', in: 'DE' }, ['/targeting/in']],
    ['1001-value in', { key: 'x', in: Array.from({ length: 1001 }, (_, i) => i) }, ['/targeting/in']],
    ['1001-value notIn', { key: 'x', notIn: Array.from({ length: 1001 }, () => 'a') }, ['/targeting/notIn']],
    [
      'bad list items',
      { key: 'x', in: ['ok', null, { a: 1 }, 'v'.repeat(257), Number.NaN, 2] },
      ['/targeting/in/1', '/targeting/in/2', '/targeting/in/3', '/targeting/in/4'],
    ],
    ['9 levels deep', notChain(8), [`/targeting${'/not'.repeat(8)}`]],
    [
      'problems in several branches',
      { any: [{ not: { key: 'a', gt: 'x' } }, leaf(), { all: [{ k: 1 }] }] },
      ['/targeting/any/0/not/gt', '/targeting/any/2/all/0/key', '/targeting/any/2/all/0/k'],
    ],
  ];
  it.each(cases)('%s', (_name, rule, expected) => {
    expect(paths(rule)).toEqual(expected);
  });

  it('refuses depth > 8 in all/any nesting too, at each too-deep node', () => {
    let r: unknown = leaf();
    for (let i = 0; i < 8; i++) r = i % 2 === 0 ? { all: [leaf(), r] } : { any: [r] };
    // The innermost `all` is at level 8, so both of its children (levels 9) are refused.
    const deepest = '/targeting/any/0/all/1/any/0/all/1/any/0/all/1/any/0/all';
    const problems = validateTargeting(r);
    expect(problems.map((p) => p.path)).toEqual([`${deepest}/0`, `${deepest}/1`]);
    for (const p of problems) expect(p.message).toMatch(/at most 8 levels/);
  });

  it('refuses more than 200 nodes with one problem at the root', () => {
    for (const n of [200, 500]) {
      const problems = validateTargeting({ any: Array.from({ length: n }, (_, i) => leaf(i)) });
      expect(problems).toEqual([{ path: '/targeting', message: expect.stringMatching(/at most 200 nodes/) }]);
    }
  });

  it('counts nodes across nesting levels', () => {
    // 1 root + 50 × (all + 3 leaves) = 201 nodes.
    const rule = { any: Array.from({ length: 50 }, () => ({ all: [leaf(1), leaf(2), leaf(3)] })) };
    expect(paths(rule)).toEqual(['/targeting']);
    const smaller = { any: Array.from({ length: 49 }, () => ({ all: [leaf(1), leaf(2), leaf(3)] })) };
    expect(validateTargeting(smaller)).toEqual([]);
  });

  it('property: a generated rule with one leaf replaced by garbage reports that leaf', () => {
    fc.assert(
      fc.property(ruleArb, fc.nat(), (rule, pick) => {
        const leaves: string[] = [];
        const walk = (r: TargetingRule, p: string): void => {
          if ('all' in r) {
            r.all.forEach((c, i) => {
              walk(c, `${p}/all/${i}`);
            });
          } else if ('any' in r) {
            r.any.forEach((c, i) => {
              walk(c, `${p}/any/${i}`);
            });
          } else if ('not' in r) walk(r.not, `${p}/not`);
          else leaves.push(p);
        };
        walk(rule, '/targeting');
        const target = leaves[pick % leaves.length]!;
        const broken = structuredClone(rule) as unknown as Record<string, unknown>;
        const segs = target.split('/').slice(2);
        let parent: Record<string, unknown> = { root: broken };
        let field = 'root';
        for (const s of segs) {
          parent = parent[field] as Record<string, unknown>;
          field = s;
        }
        parent[field] = { key: 'a', gte: 'nope' };
        expect(paths(segs.length === 0 ? parent[field] : broken)).toEqual([`${target}/gte`]);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
