import { describe, expect, it } from 'vitest';
import { newDecisionId } from '../../../src/decision/new-decision-id.js';

describe('newDecisionId', () => {
  it('is a random (version 4) UUID in lower case, different each time', () => {
    const ids = Array.from({ length: 10_000 }, () => newDecisionId());
    for (const id of ids.slice(0, 100)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
