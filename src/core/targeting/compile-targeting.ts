import type { ContextValue, RequestContext, TargetingRule } from './targeting-rule.js';

/** A compiled rule: evaluated per request, built once per plan. */
export type Predicate = (ctx: RequestContext) => boolean;

const always: Predicate = () => true;

/**
 * The context value for `key`, or undefined. Inherited members (`toString`, `__proto__`) of a
 * JSON-parsed context are functions or objects, never context values: treated as missing.
 */
function lookup(ctx: RequestContext, key: string): ContextValue | undefined {
  const v: unknown = ctx[key];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

/**
 * Compiles a validated rule tree into one predicate. Runs once per plan compile; the
 * returned closures allocate nothing per call. `in`/`notIn` become Set lookups; a missing key
 * fails every condition except `exists: false`; numeric comparisons need a number value.
 */
export function compileTargeting(rule: TargetingRule | null): Predicate {
  return rule === null ? always : compileRule(rule);
}

function compileRule(rule: TargetingRule): Predicate {
  if ('all' in rule) {
    const parts = rule.all.map(compileRule);
    if (parts.length === 1) return parts[0]!;
    return (ctx) => {
      for (let i = 0; i < parts.length; i++) if (!parts[i]!(ctx)) return false;
      return true;
    };
  }
  if ('any' in rule) {
    const parts = rule.any.map(compileRule);
    if (parts.length === 1) return parts[0]!;
    return (ctx) => {
      for (let i = 0; i < parts.length; i++) if (parts[i]!(ctx)) return true;
      return false;
    };
  }
  if ('not' in rule) {
    const inner = compileRule(rule.not);
    return (ctx) => !inner(ctx);
  }
  const key = rule.key;
  if ('in' in rule) {
    const set = new Set<ContextValue>(rule.in);
    return (ctx) => {
      const v = lookup(ctx, key);
      return v !== undefined && set.has(v);
    };
  }
  if ('notIn' in rule) {
    const set = new Set<ContextValue>(rule.notIn);
    return (ctx) => {
      const v = lookup(ctx, key);
      return v !== undefined && !set.has(v);
    };
  }
  if ('exists' in rule) {
    const want = rule.exists;
    return (ctx) => (lookup(ctx, key) !== undefined) === want;
  }
  if ('gte' in rule) {
    const b = rule.gte;
    return (ctx) => {
      const v = lookup(ctx, key);
      return typeof v === 'number' && v >= b;
    };
  }
  if ('gt' in rule) {
    const b = rule.gt;
    return (ctx) => {
      const v = lookup(ctx, key);
      return typeof v === 'number' && v > b;
    };
  }
  if ('lte' in rule) {
    const b = rule.lte;
    return (ctx) => {
      const v = lookup(ctx, key);
      return typeof v === 'number' && v <= b;
    };
  }
  const b = rule.lt;
  return (ctx) => {
    const v = lookup(ctx, key);
    return typeof v === 'number' && v < b;
  };
}
