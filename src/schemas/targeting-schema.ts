import { Type } from '@sinclair/typebox';
import type { TargetingRule } from '../core/targeting/targeting-rule.js';
import { TARGETING_LIMITS } from '../core/targeting/targeting-rule.js';

const Key = Type.String({ minLength: 1, maxLength: TARGETING_LIMITS.maxKeyLength });
const Value = Type.Union([
  Type.String({ maxLength: TARGETING_LIMITS.maxStringValueLength }),
  Type.Number(),
  Type.Boolean(),
]);
const List = Type.Array(Value, { minItems: 1, maxItems: TARGETING_LIMITS.maxListValues });
const strict = { additionalProperties: false } as const;

/**
 * The targeting rule grammar as JSON Schema (for validation and the OpenAPI document).
 * Depth and node-count limits, and readable error messages, come from `validateTargeting`.
 */
export const TargetingRuleSchema = Type.Recursive(
  (This) =>
    Type.Union([
      Type.Object({ key: Key, in: List }, strict),
      Type.Object({ key: Key, notIn: List }, strict),
      Type.Object({ key: Key, gte: Type.Number() }, strict),
      Type.Object({ key: Key, gt: Type.Number() }, strict),
      Type.Object({ key: Key, lte: Type.Number() }, strict),
      Type.Object({ key: Key, lt: Type.Number() }, strict),
      Type.Object({ key: Key, exists: Type.Boolean() }, strict),
      Type.Object({ all: Type.Array(This, { minItems: 1 }) }, strict),
      Type.Object({ any: Type.Array(This, { minItems: 1 }) }, strict),
      Type.Object({ not: This }, strict),
    ]),
  {
    $id: 'TargetingRule',
    title: 'TargetingRule',
    description:
      'A condition on a request context key, or all/any/not of rules. Conditions on a missing key are false, except exists:false.',
  },
);

export const TargetingRef = Type.Unsafe<TargetingRule>(Type.Ref('TargetingRule'));
