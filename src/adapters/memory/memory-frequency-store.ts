import type { FrequencyCap } from '../../core/domain/ad.js';
import type { FrequencyStore } from '../../core/ports/frequency-store.js';

interface Serve {
  decisionId: string;
  ts: number;
  impressed: boolean;
}

/**
 * Frequency state in process memory: user → ad → serves (reservations and impressions).
 * A (user, ad) list never exceeds the cap plus lapsed entries, which are pruned on access.
 * At most `maxUsers` users are kept, least recently served dropped first.
 */
export function createMemoryFrequencyStore(opts: { pendingMs: number; maxUsers?: number }): FrequencyStore & {
  users(): number;
} {
  const pendingMs = opts.pendingMs;
  const maxUsers = opts.maxUsers ?? 1_000_000;
  const users = new Map<string, Map<string, Serve[]>>();

  const counts = (s: Serve, nowMs: number, windowMs: number): boolean =>
    s.ts > nowMs - windowMs && (s.impressed || s.ts >= nowMs - pendingMs);

  const serves = (userId: string, adId: string, touch: boolean): Serve[] => {
    let ads = users.get(userId);
    if (ads === undefined) {
      ads = new Map();
      if (users.size >= maxUsers) {
        const oldest = users.keys().next().value;
        if (oldest !== undefined) users.delete(oldest);
      }
      users.set(userId, ads);
    } else if (touch) {
      users.delete(userId);
      users.set(userId, ads);
    }
    let list = ads.get(adId);
    if (list === undefined) {
      list = [];
      ads.set(adId, list);
    }
    return list;
  };

  return {
    isCapped(userId: string, adId: string, cap: FrequencyCap, nowMs: number) {
      const list = users.get(userId)?.get(adId);
      if (list === undefined) return cap.impressions <= 0;
      const windowMs = cap.windowSeconds * 1000;
      let n = 0;
      for (let i = 0; i < list.length; i++) if (counts(list[i]!, nowMs, windowMs)) n++;
      return n >= cap.impressions;
    },

    reserve(userId, adId, decisionId, cap, nowMs) {
      const list = serves(userId, adId, true);
      const windowMs = cap.windowSeconds * 1000;
      for (let i = list.length - 1; i >= 0; i--) {
        if (!counts(list[i]!, nowMs, windowMs)) list.splice(i, 1);
      }
      list.push({ decisionId, ts: nowMs, impressed: false });
    },

    recordImpression(userId, adId, decisionId, nowMs) {
      const list = serves(userId, adId, false);
      const s = list.find((x) => x.decisionId === decisionId);
      if (s !== undefined) s.impressed = true;
      else list.push({ decisionId, ts: nowMs, impressed: true });
    },

    users: () => users.size,
  };
}
