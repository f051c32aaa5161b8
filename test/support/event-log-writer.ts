// Child process of test/integration/file-event-log.test.ts: appends batches to the event log in a
// loop (several appends in flight, as concurrent beacons do) and prints each event id once its
// append resolved, until it is killed.
import { openEventLog } from '../../src/adapters/file/file-event-log.js';

const log = await openEventLog({ dir: process.env.LOG_DIR!, segmentBytes: 64 * 1024 });
let n = 0;
const writer = async (w: number) => {
  for (;;) {
    const batch = Array.from({ length: 1 + (n % 7) }, () => {
      const d = `w${w}-${n++}`;
      return {
        id: `${d}:i`,
        type: 'impression' as const,
        ts: Date.now(),
        decisionId: d,
        placementId: 'p',
        adId: 'a',
        userId: null,
      };
    });
    await log.append(batch);
    process.stdout.write(`${batch.map((e) => e.id).join('\n')}\n`);
  }
};
await Promise.all([writer(0), writer(1), writer(2), writer(3)]);
