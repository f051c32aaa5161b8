/** A value a request context may carry. */
export type ContextValue = string | number | boolean;

/** A request's targeting context, e.g. `{ country: "DE", age: 31, loggedIn: true }`. */
export type RequestContext = Readonly<Record<string, ContextValue>>;

/**
 * Targeting is data, never code. A rule is a condition on one context key or a combination
 * of rules. Conditions on a missing key are false (`notIn` included), except `exists: false`.
 */
export type TargetingRule =
  | { key: string; in: ContextValue[] }
  | { key: string; notIn: ContextValue[] }
  | { key: string; gte: number }
  | { key: string; gt: number }
  | { key: string; lte: number }
  | { key: string; lt: number }
  | { key: string; exists: boolean }
  | { all: TargetingRule[] }
  | { any: TargetingRule[] }
  | { not: TargetingRule };

/** Bounds that keep rule evaluation cheap and the plan small. */
export const TARGETING_LIMITS = {
  maxDepth: 8,
  maxNodes: 200,
  maxListValues: 1000,
  maxKeyLength: 64,
  maxStringValueLength: 256,
} as const;
