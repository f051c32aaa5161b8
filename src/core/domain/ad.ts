import type { TargetingRule } from '../targeting/targeting-rule.js';

/** What the publisher page renders. */
export type Creative =
  | { type: 'image'; url: string; width: number; height: number; alt?: string }
  | { type: 'html'; html: string; width?: number; height?: number };

/** At most `impressions` impressions per `userId` within any `windowSeconds`. */
export interface FrequencyCap {
  impressions: number;
  windowSeconds: number;
}

export type AdStatus = 'active' | 'paused';

/** An ad as stored by the config store and returned by the manager API. */
export interface Ad {
  id: string;
  name: string;
  creative: Creative;
  clickUrl: string;
  targeting: TargetingRule | null;
  frequencyCap: FrequencyCap | null;
  /** ISO 8601; null = no bound. */
  startAt: string | null;
  endAt: string | null;
  status: AdStatus;
  createdAt: string;
  updatedAt: string;
}
