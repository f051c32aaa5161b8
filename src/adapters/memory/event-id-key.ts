/** An event id as numbers: the decision UUID's 128 bits and the event type's tag (1–3). */
export interface EventIdKey {
  readonly words: Int32Array;
  tag: number;
}

export const newEventIdKey = (): EventIdKey => ({ words: new Int32Array(4), tag: 0 });

/** Hex digit value by char code; -1 for anything else (uppercase included). */
const NIBBLE = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) NIBBLE[48 + c] = c;
for (let c = 0; c < 6; c++) NIBBLE[97 + c] = 10 + c;

/** Tag by the char code of the id's type suffix (`src/core/events/allot-event.ts`). */
const TAG = new Uint8Array(128);
TAG['d'.charCodeAt(0)] = 1;
TAG['i'.charCodeAt(0)] = 2;
TAG['c'.charCodeAt(0)] = 3;

const DASH = 45;
const COLON = 58;

/**
 * Reads an Allot event id — `<uuid>:<d|i|c>`, the UUID in lowercase hex with its four dashes
 * (`eventId(newDecisionId(), type)`) — into `out`; false, leaving `out` unspecified, for a
 * string of any other shape. Injective on what it accepts: two accepted strings differ exactly
 * when their words or tags do (uppercase hex is refused, not folded).
 */
export function eventIdKey(id: string, out: EventIdKey): boolean {
  if (id.length !== 38 || id.charCodeAt(36) !== COLON) return false;
  const t = id.charCodeAt(37);
  const tag = t < 128 ? TAG[t]! : 0;
  if (tag === 0) return false;
  if (
    id.charCodeAt(8) !== DASH ||
    id.charCodeAt(13) !== DASH ||
    id.charCodeAt(18) !== DASH ||
    id.charCodeAt(23) !== DASH
  ) {
    return false;
  }
  let word = 0;
  let nibbles = 0;
  let w = 0;
  for (let p = 0; p < 36; p++) {
    if (p === 8 || p === 13 || p === 18 || p === 23) continue;
    const c = id.charCodeAt(p);
    const v = c < 128 ? NIBBLE[c]! : -1;
    if (v < 0) return false;
    word = (word << 4) | v;
    if (++nibbles === 8) {
      out.words[w++] = word;
      word = 0;
      nibbles = 0;
    }
  }
  out.tag = tag;
  return true;
}
