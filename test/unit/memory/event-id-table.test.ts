import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventIdKey, newEventIdKey } from '../../../src/adapters/memory/event-id-key.js';
import { createEventIdTable } from '../../../src/adapters/memory/event-id-table.js';
import { eventId } from '../../../src/core/events/allot-event.js';
import { newDecisionId } from '../../../src/decision/new-decision-id.js';

const keyOf = (id: string): string | null => {
  const k = newEventIdKey();
  return eventIdKey(id, k) ? `${Array.from(k.words).join(',')}/${k.tag}` : null;
};

/** A lowercase UUID-shaped string from 32 hex digits. */
const uuidOf = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
const hex32 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 });

describe('eventIdKey', () => {
  it('reads the ids Allot makes, one key per event type', () => {
    const d = newDecisionId();
    const keys = (['decision', 'impression', 'click'] as const).map((t) => keyOf(eventId(d, t)));
    expect(keys.every((k) => k !== null)).toBe(true);
    expect(new Set(keys).size).toBe(3);
    const k = newEventIdKey();
    expect(eventIdKey('ffffffff-0000-0000-0000-000000000001:i', k)).toBe(true);
    expect(Array.from(k.words)).toEqual([-1, 0, 0, 1]);
    expect(k.tag).toBe(2);
  });

  it('refuses every other shape, uppercase hex included', () => {
    const d = newDecisionId();
    for (const id of [
      '',
      'e1',
      d,
      `${d}:x`,
      `${d}:dd`,
      `${d.toUpperCase()}:d`,
      `${d.slice(0, 8)}x${d.slice(9)}:d`, // a dash replaced
      `${d.slice(0, 35)}g:d`, // not hex
      `${d.slice(0, 35)}é:d`,
      `${d.replaceAll('-', '')}-----:d`,
    ]) {
      expect(keyOf(id), id).toBeNull();
    }
  });

  it('gives distinct accepted ids distinct keys, and equal ids equal keys', () => {
    fc.assert(
      fc.property(
        hex32,
        hex32,
        fc.constantFrom('d', 'i', 'c'),
        fc.constantFrom('d', 'i', 'c'),
        (a, b, ta, tb) => {
          const x = `${uuidOf(a)}:${ta}`;
          const y = `${uuidOf(b)}:${tb}`;
          const kx = keyOf(x);
          const ky = keyOf(y);
          expect(kx).not.toBeNull();
          expect(ky).not.toBeNull();
          expect(kx === ky).toBe(x === y);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('event id table', () => {
  /** Words and tag of a key 0–95, its bits spread over the words and the tag (so that keys
   *  differ in one of them only), few bits, so that homes collide in a small table. */
  const k = (n: number): [number, number, number, number, number] => [
    n & 1,
    (n >> 1) & 1,
    (n >> 2) & 1,
    (n >> 3) & 3,
    1 + (n >> 5),
  ];

  it('finds what it holds across growth and removals, against a Map (random operations)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('put', 'remove'), fc.integer({ min: 0, max: 95 })), {
          maxLength: 600,
        }),
        (ops) => {
          const table = createEventIdTable(2);
          const model = new Map<number, number>();
          ops.forEach(([op, n], step) => {
            const slot = table.find(...k(n));
            if (op === 'put') {
              if (slot >= 0) table.setExpiry(slot, step);
              else table.insert(...k(n), step);
              model.set(n, step);
            } else if (op === 'remove' && slot >= 0) {
              table.remove(slot);
              model.delete(n);
            }
            // After every operation: each key is found exactly when the model holds it.
            expect(table.size()).toBe(model.size);
            for (let m = 0; m < 96; m++) {
              const s = table.find(...k(m));
              expect(s >= 0, `key ${m} after ${op} ${n}`).toBe(model.has(m));
              if (s >= 0) expect(table.expiry(s)).toBe(model.get(m));
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds 200,000 random event ids (growth from 2 slots), then drops every other one', () => {
    const table = createEventIdTable(2);
    const key = newEventIdKey();
    const keys = Array.from({ length: 200_000 }, (_, i) => {
      expect(eventIdKey(eventId(newDecisionId(), i % 2 ? 'impression' : 'decision'), key)).toBe(true);
      return [key.words[0]!, key.words[1]!, key.words[2]!, key.words[3]!, key.tag] as const;
    });
    let wrong = 0;
    keys.forEach((w, i) => {
      if (table.find(...w) !== -1) wrong++;
      table.insert(...w, i);
    });
    expect(table.size()).toBe(200_000);
    keys.forEach((w, i) => {
      if (i % 2 === 0) table.remove(table.find(...w));
    });
    expect(table.size()).toBe(100_000);
    keys.forEach((w, i) => {
      const s = table.find(...w);
      if (i % 2 === 0 ? s !== -1 : s < 0 || table.expiry(s) !== i) wrong++;
    });
    expect(wrong).toBe(0);
  });

  it('refuses an initial size that is not a power of two', () => {
    expect(() => createEventIdTable(3)).toThrow(RangeError);
    expect(() => createEventIdTable(1)).toThrow(RangeError);
  });
});
