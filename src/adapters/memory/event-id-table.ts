/** Slots of a new table (a power of two). */
const INITIAL_SLOTS = 1 << 16;

/**
 * Mixes a key into a 32-bit hash (the words of a random UUID are random, but not all of their
 * bits). Keys are decision ids the server made (beacons carry them signed), so no client can
 * pick ids that collide.
 */
function hash(w0: number, w1: number, w2: number, w3: number, tag: number): number {
  let h = Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35);
  h ^= Math.imul(w3 ^ tag, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return h ^ (h >>> 15);
}

/**
 * A set of event ids as numbers (four 32-bit words and a tag, `event-id-key.ts`) with an expiry
 * each: open addressing with linear probing over typed arrays, at most half full (doubled
 * beyond), removal by backward shift (no tombstones, so probes never lengthen with turnover).
 * Nothing in it is a JS object the GC has to trace. Slots are handles valid until the next
 * `insert` or `remove`.
 */
export function createEventIdTable(initialSlots = INITIAL_SLOTS) {
  if (!Number.isInteger(Math.log2(initialSlots)) || initialSlots < 2) {
    throw new RangeError(`initialSlots must be a power of two >= 2, got ${initialSlots}`);
  }
  let slots = initialSlots;
  let mask = slots - 1;
  let words = new Int32Array(slots * 4);
  let tags = new Uint8Array(slots); // 0: empty
  let expiries = new Int32Array(slots);
  let count = 0;

  const home = (s: number): number =>
    hash(words[s * 4]!, words[s * 4 + 1]!, words[s * 4 + 2]!, words[s * 4 + 3]!, tags[s]!) & mask;

  function place(w0: number, w1: number, w2: number, w3: number, tag: number, expiry: number): void {
    let s = hash(w0, w1, w2, w3, tag) & mask;
    while (tags[s] !== 0) s = (s + 1) & mask;
    words[s * 4] = w0;
    words[s * 4 + 1] = w1;
    words[s * 4 + 2] = w2;
    words[s * 4 + 3] = w3;
    tags[s] = tag;
    expiries[s] = expiry;
  }

  function grow(): void {
    const [oldWords, oldTags, oldExpiries, oldSlots] = [words, tags, expiries, slots];
    slots *= 2;
    mask = slots - 1;
    words = new Int32Array(slots * 4);
    tags = new Uint8Array(slots);
    expiries = new Int32Array(slots);
    for (let s = 0; s < oldSlots; s++) {
      const tag = oldTags[s]!;
      if (tag === 0) continue;
      place(
        oldWords[s * 4]!,
        oldWords[s * 4 + 1]!,
        oldWords[s * 4 + 2]!,
        oldWords[s * 4 + 3]!,
        tag,
        oldExpiries[s]!,
      );
    }
  }

  return {
    size: (): number => count,

    /** The slot holding the key, or -1. */
    find(w0: number, w1: number, w2: number, w3: number, tag: number): number {
      let s = hash(w0, w1, w2, w3, tag) & mask;
      for (;;) {
        const t = tags[s]!;
        if (t === 0) return -1;
        if (
          t === tag &&
          words[s * 4] === w0 &&
          words[s * 4 + 1] === w1 &&
          words[s * 4 + 2] === w2 &&
          words[s * 4 + 3] === w3
        ) {
          return s;
        }
        s = (s + 1) & mask;
      }
    },

    /** Adds a key that `find` did not find. */
    insert(w0: number, w1: number, w2: number, w3: number, tag: number, expiry: number): void {
      if ((count + 1) * 2 > slots) grow();
      place(w0, w1, w2, w3, tag, expiry);
      count++;
    },

    expiry: (slot: number): number => expiries[slot]!,

    setExpiry(slot: number, expiry: number): void {
      expiries[slot] = expiry;
    },

    /** Empties a slot, moving back the entries after it whose probe passed through it. */
    remove(slot: number): void {
      let hole = slot;
      tags[hole] = 0;
      count--;
      for (let s = (hole + 1) & mask; tags[s] !== 0; s = (s + 1) & mask) {
        // The entry at s may fill the hole if the hole lies on its probe path (home → s).
        if (((s - home(s)) & mask) < ((s - hole) & mask)) continue;
        words.copyWithin(hole * 4, s * 4, s * 4 + 4);
        tags[hole] = tags[s]!;
        expiries[hole] = expiries[s]!;
        tags[s] = 0;
        hole = s;
      }
    },
  };
}
