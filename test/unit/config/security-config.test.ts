import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { configProblems as problems } from '../../support/load-config.js';

describe('token and key configuration', () => {
  it('several admin tokens (rotation), read-only tokens, beacon keys with ids', () => {
    const c = loadConfig(
      {
        ALLOT_ADMIN_TOKEN: 'new-admin-token-0123, old-admin-token-0123',
        ALLOT_READONLY_TOKENS: 'reader-token-0123456',
        ALLOT_BEACON_KEYS: `k2:${'b'.repeat(32)},k1:${'a'.repeat(32)}`,
      },
      '/cwd',
    );
    expect(c.adminToken).toBe('new-admin-token-0123');
    expect(c.adminTokens).toEqual(['new-admin-token-0123', 'old-admin-token-0123']);
    expect(c.readonlyTokens).toEqual(['reader-token-0123456']);
    expect(c.beaconKeys).toEqual([
      { kid: 'k2', secret: 'b'.repeat(32) },
      { kid: 'k1', secret: 'a'.repeat(32) },
    ]);
  });

  it('lists every problem', () => {
    expect(
      problems({
        ALLOT_ADMIN_TOKEN: 'long-enough-token-0123,short',
        ALLOT_READONLY_TOKENS: 'long-enough-token-0123,tiny',
        ALLOT_BEACON_KEYS: `k1:${'a'.repeat(32)},k1:short,nokey`,
        ALLOT_BEACON_SECRET: 'x'.repeat(32),
      }),
    ).toEqual([
      'ALLOT_ADMIN_TOKEN must be at least 16 characters (each, when several are listed)',
      'ALLOT_READONLY_TOKENS must each be at least 16 characters',
      'a token cannot be both in ALLOT_ADMIN_TOKEN and ALLOT_READONLY_TOKENS',
      'set ALLOT_BEACON_KEYS or ALLOT_BEACON_SECRET, not both',
      'ALLOT_BEACON_KEYS entry 2: the secret must be at least 32 characters',
      'ALLOT_BEACON_KEYS entry 3 must be <key id>:<secret>, the id 1-16 letters or digits',
      'ALLOT_BEACON_KEYS entry 3: the secret must be at least 32 characters',
      'ALLOT_BEACON_KEYS has a key id twice',
    ]);
  });
});
