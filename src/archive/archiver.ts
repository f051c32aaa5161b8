import type { AllotEvent } from '../core/events/allot-event.js';
import type { EventBus, Subscription } from '../core/ports/event-bus.js';

export const ARCHIVER_GROUP = 'archive';

/** What the archiver needs of an archive (`parquet-archive.ts`). */
export interface ArchiveWriter {
  write(events: readonly AllotEvent[]): Promise<unknown>;
}

/**
 * Where every event is archived: its own consumer group on the bus (all events, never the
 * sampled counting), gathering `lingerMs` of them (up to `maxBatch`) per write, acknowledged
 * only once the write is in place — a failed write is redelivered, and a redelivered batch is
 * safe (the archive's file names and reads are replay-safe).
 */
export function startArchiver(deps: {
  bus: EventBus;
  archive: ArchiveWriter;
  lingerMs: number;
  maxBatch?: number;
  onWritten?: (events: number) => void;
}): Subscription {
  return deps.bus.subscribe(
    ARCHIVER_GROUP,
    async (batch) => {
      await deps.archive.write(batch);
      deps.onWritten?.(batch.length);
    },
    { lingerMs: deps.lingerMs, maxBatch: deps.maxBatch ?? 50_000 },
  );
}
