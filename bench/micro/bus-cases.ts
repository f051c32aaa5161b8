import type { Case } from './case.js';
import { decisionEvents } from './fixtures.js';
import { sink } from './sink.js';

/** Event bus entries of 500 decision events: encoding and decoding, per event. */
export const busCases: Case[] = [
  {
    // The adapters encode inline (src/adapters/redis/redis-streams-event-bus.ts `publishAll`,
    // src/adapters/nats/nats-jetstream-event-bus.ts `publishChunk`); this mirrors that code.
    name: 'bus: encode 500-event entry (per event)',
    what: '`JSON.stringify` of a 500-event array, as the Redis Streams and NATS adapters write an entry',
    batch: 1,
    perCall: 500,
    setup: async () => {
      const chunks = [decisionEvents(500), decisionEvents(500)];
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) {
          sink.value += JSON.stringify(chunks[k]!).length;
          k ^= 1;
        }
      };
    },
  },
  {
    name: 'bus: decode 500-event entry (per event)',
    what: '`JSON.parse` of such an entry and its array check, as the adapters read it back',
    batch: 1,
    perCall: 500,
    setup: async () => {
      const payloads = [JSON.stringify(decisionEvents(500)), JSON.stringify(decisionEvents(500))];
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) {
          const v: unknown = JSON.parse(payloads[k]!);
          sink.value += Array.isArray(v) ? v.length : 0;
          k ^= 1;
        }
      };
    },
  },
];
