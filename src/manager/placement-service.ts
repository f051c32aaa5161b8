import { randomUUID } from 'node:crypto';
import {
  DEFAULT_ALLOCATION_WINDOW,
  type Placement,
  type Target,
  type TargetSet,
} from '../core/domain/placement.js';
import { AllotError, type Problem } from '../core/errors.js';
import type { ConfigStore } from '../core/ports/config-store.js';
import { isTimeZone } from '../core/window/allocation-window.js';
import type { PlacementCreate, PlacementPatch, TargetsPut } from '../schemas/placement-schema.js';
import type { Clock } from './clock.js';

export interface PlacementServiceDeps {
  store: ConfigStore;
  clock: Clock;
  changed: () => Promise<void>;
}

/** Shares may add up to 1 up to float rounding (0.1 + 0.2 + 0.7). */
const SUM_TOLERANCE = 1e-9;

/** Whether an ad exists: the store, or the store plus ads being created alongside (import). */
export type AdExists = (id: string) => boolean | Promise<boolean>;

const inStore =
  (store: ConfigStore): AdExists =>
  async (id) =>
    (await store.getAd(id)) !== null;

/** The placement `input` describes, with the create path's defaults, created and updated at `now`. */
export function buildPlacement(input: PlacementCreate & { id: string }, now: string): Placement {
  return {
    id: input.id,
    name: input.name,
    fallbackAdId: input.fallbackAdId ?? null,
    window: input.window ?? DEFAULT_ALLOCATION_WINDOW,
    createdAt: now,
    updatedAt: now,
  };
}

/** Every problem schema validation cannot see (paths relative to the placement). */
export async function checkPlacement(p: Placement, adExists: AdExists): Promise<Problem[]> {
  const problems: Problem[] = [];
  if (p.fallbackAdId !== null && !(await adExists(p.fallbackAdId))) {
    problems.push({ path: '/fallbackAdId', message: `ad "${p.fallbackAdId}" does not exist` });
  }
  if (!isTimeZone(p.window.timeZone)) {
    problems.push({
      path: '/window/timeZone',
      message: `unknown time zone "${p.window.timeZone}" (use an IANA name)`,
    });
  }
  return problems;
}

/**
 * Every problem with `targets` as one placement's target set: unknown or repeated ads, shares
 * summing over 1. Paths are `<base>/targets/…`: base '' for PUT .../targets, `/targets/2` for an
 * import's third target set.
 */
export async function checkTargetList(
  targets: readonly Target[],
  adExists: AdExists,
  base = '',
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  let sum = 0;
  for (const [i, t] of targets.entries()) {
    const path = `${base}/targets/${i}/adId`;
    const first = seen.get(t.adId);
    if (first !== undefined) {
      problems.push({ path, message: `duplicate of ${base}/targets/${first}/adId` });
    } else {
      seen.set(t.adId, i);
      if (!(await adExists(t.adId))) problems.push({ path, message: `ad "${t.adId}" does not exist` });
    }
    sum += t.share;
  }
  if (sum > 1 + SUM_TOLERANCE) {
    problems.push({
      path: `${base}/targets`,
      message: `shares must sum to at most 1, got ${+sum.toFixed(6)}`,
    });
  }
  return problems;
}

/** Manager operations on placements and their targets. */
export function createPlacementService({ store, clock, changed }: PlacementServiceDeps) {
  const notFound = (id: string) => new AllotError('ALLOT_ERR_NOT_FOUND', `placement "${id}" not found`);

  return {
    list: () => store.listPlacements(),

    async get(id: string): Promise<Placement> {
      const p = await store.getPlacement(id);
      if (p === null) throw notFound(id);
      return p;
    },

    async create(input: PlacementCreate): Promise<Placement> {
      const id = input.id ?? `pl_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      const placement = buildPlacement({ ...input, id }, new Date(clock.now()).toISOString());
      const problems = await checkPlacement(placement, inStore(store));
      if (problems.length > 0) throw new AllotError('ALLOT_ERR_VALIDATION', 'invalid placement', problems);
      const saved = await store.createPlacement(placement);
      await changed();
      return saved;
    },

    async update(id: string, patch: PlacementPatch): Promise<Placement> {
      const current = await this.get(id);
      const placement: Placement = { ...current, ...patch, updatedAt: new Date(clock.now()).toISOString() };
      const problems = await checkPlacement(placement, inStore(store));
      if (problems.length > 0) throw new AllotError('ALLOT_ERR_VALIDATION', 'invalid placement', problems);
      const saved = await store.updatePlacement(placement);
      if (saved === null) throw notFound(id);
      await changed();
      return saved;
    },

    async remove(id: string): Promise<void> {
      if (!(await store.deletePlacement(id))) throw notFound(id);
      await changed();
    },

    async getTargets(id: string): Promise<TargetSet> {
      const t = await store.getTargets(id);
      if (t === null) throw notFound(id);
      return t;
    },

    /** Every problem with `input` as targets of placement `id` (which must exist). */
    async checkTargets(id: string, input: TargetsPut): Promise<Problem[]> {
      await this.get(id);
      return checkTargetList(input.targets, inStore(store));
    },

    async putTargets(id: string, input: TargetsPut): Promise<TargetSet> {
      const problems = await this.checkTargets(id, input);
      if (problems.length > 0) throw new AllotError('ALLOT_ERR_VALIDATION', 'invalid targets', problems);
      const saved = await store.putTargets(id, input.targets, new Date(clock.now()).toISOString());
      if (saved === null) throw notFound(id);
      await changed();
      return saved;
    },
  };
}

export type PlacementService = ReturnType<typeof createPlacementService>;
