// Pure helpers for the ad and placement editors: the structured targeting editor's model ⇄ rules,
// typed form values, and `problems[].path` (JSON pointers) → the field they belong to.
import type { Problem } from './api.js';

export type Op = 'in' | 'notIn' | 'gte' | 'gt' | 'lte' | 'lt' | 'exists';
export const OPS: ReadonlyArray<{ op: Op; label: string }> = [
  { op: 'in', label: 'is one of' },
  { op: 'notIn', label: 'is none of' },
  { op: 'gte', label: '≥' },
  { op: 'gt', label: '>' },
  { op: 'lte', label: '≤' },
  { op: 'lt', label: '<' },
  { op: 'exists', label: 'exists' },
];
const isOp = (k: string): k is Op => OPS.some((o) => o.op === k);

/** One condition as typed: `value` is a comma-separated list (in / notIn), a number, or true/false. */
export interface Condition {
  key: string;
  op: Op;
  value: string;
}

/** What the structured editor can show: one condition, or all/any of conditions. */
export interface Structured {
  combinator: 'all' | 'any';
  conditions: Condition[];
}

type Rule = Record<string, unknown>;

/** A typed scalar: numbers and true/false typed, `"quoted"` forces a string, otherwise the text. */
export function scalarOf(text: string): string | number | boolean {
  const t = text.trim();
  if (/^".*"$/.test(t)) return t.slice(1, -1);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^[-+]?\d*\.?\d+(e[-+]?\d+)?$/i.test(t)) return Number(t);
  return t;
}

const textOf = (v: unknown): string =>
  typeof v === 'string' && (v !== v.trim() || v === 'true' || v === 'false' || String(scalarOf(v)) !== v)
    ? JSON.stringify(v)
    : String(v);

/** A condition → its rule. Anything not parseable is sent as typed, so the API reports it. */
export function conditionRule(c: Condition): Rule {
  if (c.op === 'in' || c.op === 'notIn') {
    const values = c.value.trim() === '' ? [] : c.value.split(',').map(scalarOf);
    return { key: c.key, [c.op]: values };
  }
  if (c.op === 'exists') return { key: c.key, exists: scalarOf(c.value) };
  return { key: c.key, [c.op]: scalarOf(c.value) };
}

/** The structured editor's rule: null without conditions, the condition itself when alone. */
export function structuredRule(s: Structured): Rule | null {
  if (s.conditions.length === 0) return null;
  if (s.conditions.length === 1) return conditionRule(s.conditions[0]!);
  return { [s.combinator]: s.conditions.map(conditionRule) };
}

function conditionOf(r: unknown): Condition | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return null;
  const keys = Object.keys(r);
  const op = keys.find((k) => k !== 'key');
  const rule = r as Rule;
  if (keys.length !== 2 || typeof rule.key !== 'string' || op === undefined || !isOp(op)) return null;
  const v = rule[op];
  if (op === 'in' || op === 'notIn') {
    return Array.isArray(v) ? { key: rule.key, op, value: v.map(textOf).join(', ') } : null;
  }
  return { key: rule.key, op, value: String(v) };
}

/** A rule → the structured editor's model, or null when it needs the advanced (JSON) editor. */
export function structuredOf(rule: unknown): Structured | null {
  if (rule === null || rule === undefined) return { combinator: 'all', conditions: [] };
  const one = conditionOf(rule);
  if (one !== null) return { combinator: 'all', conditions: [one] };
  if (typeof rule !== 'object' || Array.isArray(rule)) return null;
  const keys = Object.keys(rule);
  const comb = keys[0];
  if (keys.length !== 1 || (comb !== 'all' && comb !== 'any')) return null;
  const list = (rule as Rule)[comb];
  if (!Array.isArray(list) || list.length < 2) return null;
  const conditions = list.map(conditionOf);
  return conditions.every((c) => c !== null)
    ? { combinator: comb, conditions: conditions as Condition[] }
    : null;
}

/** A number typed in a form: '' → undefined, digits → the number, anything else as typed. */
export function numberOf(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return /^[-+]?\d*\.?\d+(e[-+]?\d+)?$/i.test(t) ? Number(t) : t;
}

/** A `datetime-local` value (the browser's time zone) → ISO 8601 UTC; '' → null. */
export function isoOf(local: string): string | null {
  if (local.trim() === '') return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

/** ISO 8601 → a `datetime-local` value in the browser's time zone. */
export function localOf(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Problems grouped by the form field that shows them; the rest in `general`. */
export interface FieldProblems {
  at(path: string): string[];
  general: string[];
  /** All the problems, as the API listed them. */
  raw: readonly Problem[];
}

/**
 * Assigns each problem to the longest of `fields` (JSON pointers) that is its path or a prefix
 * of it (`/creative/width` → `/creative/width`, `/targeting/all/1/in` → `/targeting`);
 * problems under no field go to `general`, prefixed with their path.
 */
export function fieldProblems(problems: readonly Problem[], fields: readonly string[]): FieldProblems {
  const by = new Map<string, string[]>();
  const general: string[] = [];
  for (const p of problems) {
    const field = fields
      .filter((f) => p.path === f || p.path.startsWith(`${f}/`))
      .sort((a, b) => b.length - a.length)[0];
    if (field === undefined) {
      general.push(p.path === '' ? p.message : `${p.path}: ${p.message}`);
      continue;
    }
    const rest = p.path.slice(field.length);
    const list = by.get(field) ?? [];
    list.push(rest === '' ? p.message : `${rest.slice(1)}: ${p.message}`);
    by.set(field, list);
  }
  return { at: (path) => by.get(path) ?? [], general, raw: problems };
}

export const NO_PROBLEMS: FieldProblems = { at: () => [], general: [], raw: [] };
