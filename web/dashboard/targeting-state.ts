// The targeting editor's state: structured conditions or advanced JSON, and the rule it sends.
import { type Structured, structuredOf, structuredRule } from './forms.js';
import { message } from './message.js';

export interface TargetingState {
  mode: 'structured' | 'advanced';
  structured: Structured;
  json: string;
}

export function targetingState(rule: unknown): TargetingState {
  const s = structuredOf(rule);
  const json = rule === null || rule === undefined ? '' : JSON.stringify(rule, null, 2);
  return s === null
    ? { mode: 'advanced', structured: { combinator: 'all', conditions: [] }, json }
    : { mode: 'structured', structured: s, json };
}

/** The rule to send, or a message when the advanced JSON does not parse. */
export function targetingRule(t: TargetingState): { rule: unknown } | { error: string } {
  if (t.mode === 'structured') return { rule: structuredRule(t.structured) };
  if (t.json.trim() === '') return { rule: null };
  try {
    return { rule: JSON.parse(t.json) };
  } catch (e) {
    return { error: `not JSON: ${message(e)}` };
  }
}

/** The JSON-pointer prefix of condition `i`'s problems, as sent by `structuredRule`. */
export const conditionPath = (s: Structured, i: number) =>
  s.conditions.length === 1 ? '/targeting' : `/targeting/${s.combinator}/${i}`;
