import { randomUUID } from 'node:crypto';
import type { Ad } from '../core/domain/ad.js';
import { AllotError, type Problem } from '../core/errors.js';
import type { ConfigStore } from '../core/ports/config-store.js';
import { validateTargeting } from '../core/targeting/validate-targeting.js';
import type { AdCreate, AdPatch } from '../schemas/ad-schema.js';
import type { Clock } from './clock.js';

export interface AdServiceDeps {
  store: ConfigStore;
  clock: Clock;
  /** Called after every successful write (the plan source recompiles). */
  changed: () => Promise<void>;
}

const iso = (v: string | null | undefined): string | null =>
  v === null || v === undefined ? null : new Date(v).toISOString();

/** The ad `input` describes, with the create path's defaults, created and updated at `now`. */
export function buildAd(input: AdCreate & { id: string }, now: string): Ad {
  return {
    id: input.id,
    name: input.name,
    creative: input.creative,
    clickUrl: input.clickUrl,
    targeting: input.targeting ?? null,
    frequencyCap: input.frequencyCap ?? null,
    startAt: iso(input.startAt),
    endAt: iso(input.endAt),
    status: input.status ?? 'active',
    createdAt: now,
    updatedAt: now,
  };
}

/** Checks that schema validation cannot express; lists every problem (paths relative to the ad). */
export function checkAd(ad: Ad): Problem[] {
  const problems: Problem[] = [];
  if (ad.targeting !== null) problems.push(...validateTargeting(ad.targeting));
  if (ad.startAt !== null && ad.endAt !== null && Date.parse(ad.startAt) >= Date.parse(ad.endAt)) {
    problems.push({ path: '/endAt', message: 'must be after startAt' });
  }
  return problems;
}

function assertValid(ad: Ad): void {
  const problems = checkAd(ad);
  if (problems.length > 0) throw new AllotError('ALLOT_ERR_VALIDATION', 'invalid ad', problems);
}

/** Manager operations on ads: schema-valid input in, semantic checks, store write, plan refresh. */
export function createAdService({ store, clock, changed }: AdServiceDeps) {
  return {
    list: () => store.listAds(),

    async get(id: string): Promise<Ad> {
      const ad = await store.getAd(id);
      if (ad === null) throw new AllotError('ALLOT_ERR_NOT_FOUND', `ad "${id}" not found`);
      return ad;
    },

    async create(input: AdCreate): Promise<Ad> {
      const id = input.id ?? `ad_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      const ad = buildAd({ ...input, id }, new Date(clock.now()).toISOString());
      assertValid(ad);
      const saved = await store.createAd(ad);
      await changed();
      return saved;
    },

    async update(id: string, patch: AdPatch): Promise<Ad> {
      const current = await this.get(id);
      const ad: Ad = {
        ...current,
        ...patch,
        startAt: patch.startAt === undefined ? current.startAt : iso(patch.startAt),
        endAt: patch.endAt === undefined ? current.endAt : iso(patch.endAt),
        updatedAt: new Date(clock.now()).toISOString(),
      };
      assertValid(ad);
      const saved = await store.updateAd(ad);
      if (saved === null) throw new AllotError('ALLOT_ERR_NOT_FOUND', `ad "${id}" not found`);
      await changed();
      return saved;
    },

    async remove(id: string): Promise<void> {
      if (!(await store.deleteAd(id))) throw new AllotError('ALLOT_ERR_NOT_FOUND', `ad "${id}" not found`);
      await changed();
    },
  };
}

export type AdService = ReturnType<typeof createAdService>;
