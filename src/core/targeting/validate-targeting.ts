import type { Problem } from '../errors.js';
import { TARGETING_LIMITS } from './targeting-rule.js';

const NUMERIC_OPS = ['gte', 'gt', 'lte', 'lt'] as const;
const CONDITION_OPS = ['in', 'notIn', ...NUMERIC_OPS, 'exists'] as const;
const COMBINATORS = ['all', 'any', 'not'] as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a targeting rule tree and lists every problem with its JSON pointer. A rule that
 * passes can be compiled by `compileTargeting`. Kept separate from the JSON schema because a
 * schema `anyOf` over ten rule shapes reports unreadable errors; this names the exact fault.
 */
export function validateTargeting(rule: unknown, path = '/targeting'): Problem[] {
  const problems: Problem[] = [];
  let nodes = 0;
  const visit = (r: unknown, p: string, depth: number): void => {
    nodes++;
    if (nodes === TARGETING_LIMITS.maxNodes + 1) {
      problems.push({
        path,
        message: `a targeting rule may have at most ${TARGETING_LIMITS.maxNodes} nodes`,
      });
    }
    if (depth > TARGETING_LIMITS.maxDepth) {
      problems.push({ path: p, message: `rules may nest at most ${TARGETING_LIMITS.maxDepth} levels deep` });
      return;
    }
    if (!isObject(r)) {
      problems.push({ path: p, message: 'must be a rule object' });
      return;
    }
    const keys = Object.keys(r);
    const combinator = COMBINATORS.find((c) => c in r);
    if (combinator) {
      if (keys.length !== 1) {
        problems.push({ path: p, message: `"${combinator}" must be the rule's only property` });
        return;
      }
      const inner = r[combinator];
      if (combinator === 'not') {
        visit(inner, `${p}/not`, depth + 1);
        return;
      }
      if (!Array.isArray(inner) || inner.length === 0) {
        problems.push({ path: `${p}/${combinator}`, message: 'must be a non-empty array of rules' });
        return;
      }
      inner.forEach((child, i) => {
        visit(child, `${p}/${combinator}/${i}`, depth + 1);
      });
      return;
    }
    checkCondition(r, keys, p, problems);
  };
  visit(rule, path, 1);
  return problems;
}

function checkCondition(r: Record<string, unknown>, keys: string[], p: string, problems: Problem[]): void {
  const ops = keys.filter((k) => k !== 'key');
  const unknown = ops.filter((k) => !(CONDITION_OPS as readonly string[]).includes(k));
  if (typeof r.key !== 'string' || r.key.length === 0 || r.key.length > TARGETING_LIMITS.maxKeyLength) {
    problems.push({
      path: `${p}/key`,
      message: `must be a string of 1-${TARGETING_LIMITS.maxKeyLength} characters`,
    });
  }
  for (const k of unknown) problems.push({ path: `${p}/${k}`, message: `unknown operator "${k}"` });
  const known = ops.filter((k) => !unknown.includes(k));
  if (known.length !== 1) {
    if (unknown.length === 0) {
      problems.push({
        path: p,
        message: `a condition needs "key" and exactly one of ${CONDITION_OPS.join(', ')}; or use all, any, not`,
      });
    }
    return;
  }
  const op = known[0] as (typeof CONDITION_OPS)[number];
  const v = r[op];
  if (op === 'in' || op === 'notIn') {
    checkList(v, `${p}/${op}`, problems);
  } else if (op === 'exists') {
    if (typeof v !== 'boolean') problems.push({ path: `${p}/exists`, message: 'must be true or false' });
  } else if (typeof v !== 'number' || !Number.isFinite(v)) {
    problems.push({ path: `${p}/${op}`, message: 'must be a finite number' });
  }
}

function checkList(v: unknown, p: string, problems: Problem[]): void {
  if (!Array.isArray(v) || v.length === 0 || v.length > TARGETING_LIMITS.maxListValues) {
    problems.push({ path: p, message: `must be an array of 1-${TARGETING_LIMITS.maxListValues} values` });
    return;
  }
  v.forEach((item, i) => {
    const ok =
      (typeof item === 'string' && item.length <= TARGETING_LIMITS.maxStringValueLength) ||
      typeof item === 'boolean' ||
      (typeof item === 'number' && Number.isFinite(item));
    if (!ok) {
      problems.push({
        path: `${p}/${i}`,
        message: `must be a string (≤ ${TARGETING_LIMITS.maxStringValueLength} chars), finite number or boolean`,
      });
    }
  });
}
