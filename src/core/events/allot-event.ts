export type EventType = 'decision' | 'impression' | 'click';

/**
 * One fact on the event bus. `id` is deterministic (`<decisionId>:<d|i|c>`), so every
 * consumer can drop redeliveries and replays by id: at-least-once delivery, counted once.
 */
export interface AllotEvent {
  id: string;
  type: EventType;
  /** Epoch milliseconds when the event happened (beacon received / decision made). */
  ts: number;
  decisionId: string;
  placementId: string;
  adId: string;
  userId: string | null;
}

const SUFFIX: Record<EventType, string> = { decision: 'd', impression: 'i', click: 'c' };

export const eventId = (decisionId: string, type: EventType): string => `${decisionId}:${SUFFIX[type]}`;
