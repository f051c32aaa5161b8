import { randomUUID } from 'node:crypto';
import { DEFAULT_ALLOCATION_WINDOW, type Placement, type TargetSet } from '../core/domain/placement.js';
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

async function checkPlacement(store: ConfigStore, p: Placement): Promise<Problem[]> {
  const problems: Problem[] = [];
  if (p.fallbackAdId !== null && (await store.getAd(p.fallbackAdId)) === null) {
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
      const now = new Date(clock.now()).toISOString();
      const placement: Placement = {
        id: input.id ?? `pl_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
        name: input.name,
        fallbackAdId: input.fallbackAdId ?? null,
        window: input.window ?? DEFAULT_ALLOCATION_WINDOW,
        createdAt: now,
        updatedAt: now,
      };
      const problems = await checkPlacement(store, placement);
      if (problems.length > 0) throw new AllotError('ALLOT_ERR_VALIDATION', 'invalid placement', problems);
      const saved = await store.createPlacement(placement);
      await changed();
      return saved;
    },

    async update(id: string, patch: PlacementPatch): Promise<Placement> {
      const current = await this.get(id);
      const placement: Placement = { ...current, ...patch, updatedAt: new Date(clock.now()).toISOString() };
      const problems = await checkPlacement(store, placement);
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
      const problems: Problem[] = [];
      const seen = new Map<string, number>();
      let sum = 0;
      for (const [i, t] of input.targets.entries()) {
        const first = seen.get(t.adId);
        if (first !== undefined) {
          problems.push({ path: `/targets/${i}/adId`, message: `duplicate of /targets/${first}/adId` });
        } else {
          seen.set(t.adId, i);
          if ((await store.getAd(t.adId)) === null) {
            problems.push({ path: `/targets/${i}/adId`, message: `ad "${t.adId}" does not exist` });
          }
        }
        sum += t.share;
      }
      if (sum > 1 + SUM_TOLERANCE) {
        problems.push({ path: '/targets', message: `shares must sum to at most 1, got ${+sum.toFixed(6)}` });
      }
      return problems;
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
