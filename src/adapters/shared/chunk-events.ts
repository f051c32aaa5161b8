import type { AllotEvent } from '../../core/events/allot-event.js';

/**
 * Most bytes of JSON per stored bus message (a Redis Streams entry, a JetStream message), as
 * estimated by `jsonBytes`. V8 allocates a string or array over 128 KiB as a large object, in
 * pages of its own that are mapped for it and unmapped when it dies; on a host where a freshly
 * touched page is dear (a microVM handing freed memory back to its host: ~1 ms for a 190 KB
 * string here, against ~20 µs for 95 KB — docs/benchmarks.md) every such message cost its
 * publisher (`JSON.stringify`, the encoded bytes) and every consumer (the decoded text) that
 * much. Messages stay well under it.
 */
export const MESSAGE_BYTES = 96 * 1024;

/** Fixed JSON text per event besides its values: braces, keys, quotes, the type and ts. */
const EVENT_OVERHEAD = 120;

/**
 * An event's JSON size, near enough to size messages (ids are plain text: JSON escapes little in
 * them; the broker's hard limit, 1 MB by default for NATS, is far above `MESSAGE_BYTES`).
 */
function jsonBytes(e: AllotEvent): number {
  return (
    EVENT_OVERHEAD +
    e.id.length +
    e.decisionId.length +
    e.placementId.length +
    e.adId.length +
    (e.userId === null ? 0 : e.userId.length)
  );
}

/**
 * `events` cut, in order, into chunks of at most `maxEvents` events and about `maxBytes` bytes
 * of JSON each (a single event larger than that is a chunk of its own).
 */
export function chunkEvents(
  events: readonly AllotEvent[],
  maxEvents: number,
  maxBytes: number = MESSAGE_BYTES,
): AllotEvent[][] {
  const chunks: AllotEvent[][] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    const size = jsonBytes(events[i]!);
    if (i > start && (i - start >= maxEvents || bytes + size > maxBytes)) {
      chunks.push(events.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < events.length) chunks.push(events.slice(start));
  return chunks;
}
