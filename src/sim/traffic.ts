import type { Random } from '../core/random/mulberry32.js';
import type { ContextValue, RequestContext } from '../core/targeting/targeting-rule.js';
import type { AttributeDistribution, Scenario } from './scenario-schema.js';

/**
 * One context key compiled for drawing: `cum[i]` is the cumulative probability of value i;
 * a draw at or above the last entry leaves the key out (discrete distributions summing below 1).
 * Integer ranges keep no value list: index i is `lo + i`.
 */
interface CompiledAttribute {
  key: string;
  values: ContextValue[] | null;
  cum: Float64Array;
  lo: number;
  /** Number of outcomes including "absent": the radix of this key in the context code. */
  radix: number;
}

interface CompiledPhase {
  fromMs: number;
  attributes: CompiledAttribute[];
  /** Interned contexts by mixed-radix code; null when the combinations are too many to intern. */
  cache: Map<number, RequestContext> | null;
}

/** Up to this many distinct contexts are interned (then drawn contexts are fresh objects). */
const MAX_INTERNED = 1 << 20;

function compileAttribute(key: string, d: AttributeDistribution): CompiledAttribute {
  if ('uniformInt' in d && Array.isArray(d.uniformInt)) {
    const [lo, hi] = d.uniformInt;
    return { key, values: null, cum: new Float64Array(0), lo, radix: hi - lo + 1 };
  }
  if ('bool' in d && typeof d.bool === 'number') {
    return { key, values: [true, false], cum: Float64Array.of(d.bool, 1), lo: 0, radix: 2 };
  }
  const entries = Object.entries(d as Record<string, number>);
  const cum = new Float64Array(entries.length);
  let acc = 0;
  entries.forEach(([, p], i) => {
    acc += p;
    cum[i] = acc;
  });
  return { key, values: entries.map(([v]) => v), cum, lo: 0, radix: entries.length + 1 };
}

/**
 * The request contexts of a scenario, drawn from its attribute distributions; phases override
 * keys from their hour on (a mid-day shift). Every draw consumes exactly one random number per
 * key of the phase, whatever the outcome, so the traffic stream stays aligned across strategies.
 *
 * Contexts are interned per phase: identical outcomes share one frozen object, which keeps the
 * hot loop allocation-free and lets the mix store keep references safely.
 */
export function createTraffic(scenario: Scenario, startMs: number) {
  const base = scenario.traffic.attributes;
  const phases: CompiledPhase[] = [{ fromHour: 0, attributes: {} }, ...scenario.traffic.phases].map((ph) => {
    const merged = { ...base, ...ph.attributes };
    const attributes = Object.entries(merged).map(([k, d]) => compileAttribute(k, d));
    const combos = attributes.reduce((n, a) => n * a.radix, 1);
    return {
      fromMs: startMs + ph.fromHour * 3_600_000,
      attributes,
      cache: combos <= MAX_INTERNED ? new Map() : null,
    };
  });
  // A phase at hour 0 replaces the base phase rather than following it.
  if (phases.length > 1 && phases[1]!.fromMs <= startMs) phases.shift();
  let current = 0;
  const values: Array<ContextValue | undefined> = [];

  function build(attrs: readonly CompiledAttribute[]): RequestContext {
    const ctx: Record<string, ContextValue> = {};
    for (let k = 0; k < attrs.length; k++) {
      const v = values[k];
      if (v !== undefined) ctx[attrs[k]!.key] = v;
    }
    return Object.freeze(ctx);
  }

  return {
    /** Draws the context of a request at `nowMs` (non-decreasing across calls). */
    draw(random: Random, nowMs: number): RequestContext {
      while (current + 1 < phases.length && nowMs >= phases[current + 1]!.fromMs) current++;
      const phase = phases[current]!;
      const attrs = phase.attributes;
      let code = 0;
      for (let k = 0; k < attrs.length; k++) {
        const a = attrs[k]!;
        const u = random();
        let idx: number;
        if (a.values === null) {
          idx = Math.floor(u * a.radix);
          values[k] = a.lo + idx;
        } else {
          idx = 0;
          while (idx < a.cum.length && u >= a.cum[idx]!) idx++;
          values[k] = a.values[idx];
        }
        code = code * a.radix + idx;
      }
      if (phase.cache === null) return build(attrs);
      let ctx = phase.cache.get(code);
      if (ctx === undefined) {
        ctx = build(attrs);
        phase.cache.set(code, ctx);
      }
      return ctx;
    },
  };
}

export type Traffic = ReturnType<typeof createTraffic>;
