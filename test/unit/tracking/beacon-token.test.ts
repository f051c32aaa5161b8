import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BeaconClaims, createBeaconSigner } from '../../../src/tracking/beacon-token.js';

const K1 = Buffer.from('k1-secret-0123456789abcdef0123456789');
const K2 = Buffer.from('k2-secret-fedcba9876543210fedcba9876');
const signer = createBeaconSigner(new Map([['k1', K1]]), 'k1');

const claims: BeaconClaims = {
  decisionId: 'd-123',
  placementId: 'home-top',
  adId: 'ad-42',
  userId: 'user-7',
  issuedAtSec: 1_735_689_600,
};

/** Signs an arbitrary body with `key` under `kid`, as an attacker holding the key could. */
function forge(kid: string, key: Buffer, body: unknown): string {
  const signed = `${kid}.${Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)).toString('base64url')}`;
  const mac = createHmac('sha256', key).update(signed).digest().subarray(0, 16).toString('base64url');
  return `${signed}.${mac}`;
}

const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

describe('beacon tokens: the MAC is HMAC-SHA256 (checked against node:crypto createHmac)', () => {
  // Short, block-sized and longer-than-a-block keys (RFC 2104: a long key is hashed first).
  for (const size of [1, 20, 32, 63, 64, 65, 131]) {
    it(`${size}-byte key`, () => {
      const key = Buffer.from(Array.from({ length: size }, (_, i) => (i * 37 + 11) % 256));
      const s = createBeaconSigner(new Map([['kx', key]]), 'kx');
      const token = s.sign(claims);
      const [kid, body] = token.split('.');
      expect(token).toBe(forge(kid!, key, Buffer.from(body!, 'base64url').toString('utf8')));
      expect(
        s.verify(forge('kx', key, JSON.parse(Buffer.from(body!, 'base64url').toString('utf8')))).ok,
      ).toBe(true);
    });
  }
});

describe('beacon tokens: the MAC equals createHmac for any claims', () => {
  it('property: ids of any length and any characters', () => {
    const s = createBeaconSigner(new Map([['k1', K1]]), 'k1');
    fc.assert(
      fc.property(
        fc.record({
          decisionId: fc.string({ maxLength: 1200, unit: 'binary', size: 'max' }),
          placementId: fc.string({ maxLength: 40, unit: 'grapheme' }),
          adId: fc.string({ maxLength: 300, unit: 'grapheme' }),
          userId: fc.option(fc.string({ maxLength: 900, unit: 'binary', size: 'max' }), { nil: null }),
          issuedAtSec: fc.integer({ min: 0, max: 4_000_000_000 }),
        }),
        (c) => {
          const token = s.sign(c);
          expect(token).toBe(forge('k1', K1, [c.decisionId, c.placementId, c.adId, c.userId, c.issuedAtSec]));
          // Tokens over 2,048 characters are refused by verify as malformed (by design).
          if (token.length <= 2048) expect(s.verify(token)).toEqual({ ok: true, claims: c });
        },
      ),
      { seed: 7, numRuns: 400 },
    );
  });

  it('a short token after a long one is signed from its own bytes only (no state between calls)', () => {
    const s = createBeaconSigner(new Map([['k1', K1]]), 'k1');
    const long = { ...claims, userId: 'u'.repeat(5000) };
    expect(s.sign(long)).toBe(
      forge('k1', K1, [long.decisionId, long.placementId, long.adId, long.userId, long.issuedAtSec]),
    );
    expect(s.sign(claims)).toBe(signer.sign(claims));
    expect(s.verify(signer.sign(claims))).toEqual({ ok: true, claims });
  });
});

describe('beacon tokens: round trip', () => {
  it('verifies its own token and returns the claims (with userId)', () => {
    const token = signer.sign(claims);
    expect(token.split('.')).toHaveLength(3);
    expect(token.startsWith('k1.')).toBe(true);
    expect(signer.verify(token)).toEqual({ ok: true, claims });
  });

  it('round-trips a null userId', () => {
    const anon = { ...claims, userId: null };
    expect(signer.verify(signer.sign(anon))).toEqual({ ok: true, claims: anon });
  });

  it('is deterministic and URL-safe', () => {
    const t = signer.sign(claims);
    expect(signer.sign(claims)).toBe(t);
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
  });

  it('property: any claims round-trip', () => {
    fc.assert(
      fc.property(
        fc.record({
          decisionId: fc.string({ maxLength: 40, unit: 'grapheme' }),
          placementId: fc.string({ maxLength: 40, unit: 'grapheme' }),
          adId: fc.string({ maxLength: 40, unit: 'grapheme' }),
          userId: fc.option(fc.string({ maxLength: 40, unit: 'grapheme' }), { nil: null }),
          issuedAtSec: fc.integer({ min: 0, max: 4_000_000_000 }),
        }),
        (c) => {
          expect(signer.verify(signer.sign(c))).toEqual({ ok: true, claims: c });
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('beacon tokens: rejection', () => {
  const token = signer.sign(claims);
  const [kid, body, mac] = token.split('.') as [string, string, string];

  it('rejects an altered payload as badSignature', () => {
    const other = Buffer.from(
      JSON.stringify(['d-123', 'home-top', 'ad-43', 'user-7', 1_735_689_600]),
    ).toString('base64url');
    expect(signer.verify(`${kid}.${other}.${mac}`)).toEqual({ ok: false, reason: 'badSignature' });
    for (const i of [0, 5, body.length - 1]) {
      expect(signer.verify(`${kid}.${flip(body, i)}.${mac}`)).toEqual({ ok: false, reason: 'badSignature' });
    }
  });

  it('rejects an altered MAC as badSignature', () => {
    for (const i of [0, 10, 20]) {
      expect(signer.verify(`${kid}.${body}.${flip(mac, i)}`)).toEqual({ ok: false, reason: 'badSignature' });
    }
  });

  it('rejects a token signed with another key under the same kid', () => {
    const evil = createBeaconSigner(new Map([['k1', K2]]), 'k1');
    expect(signer.verify(evil.sign(claims))).toEqual({ ok: false, reason: 'badSignature' });
  });

  it('rejects an unknown kid as badSignature', () => {
    expect(signer.verify(`k9.${body}.${mac}`)).toEqual({ ok: false, reason: 'badSignature' });
    const other = createBeaconSigner(new Map([['k2', K2]]), 'k2');
    expect(signer.verify(other.sign(claims))).toEqual({ ok: false, reason: 'badSignature' });
  });

  it.each([
    ['MAC cut short', token.slice(0, -4), 'badSignature'],
    ['MAC one char short', token.slice(0, -1), 'badSignature'],
    ['MAC removed, trailing dot kept', `${kid}.${body}.`, 'badSignature'],
    ['MAC and its dot removed', `${kid}.${body}`, 'malformed'],
    ['kid only', 'k1', 'malformed'],
    ['empty string', '', 'malformed'],
    ['no kid', `.${body}.${mac}`, 'malformed'],
    ['extra segment', `${kid}.${body}.xx.${mac}`, 'badSignature'],
    ['garbage', 'not a token', 'malformed'],
    ['garbage with dots', 'a.b.c', 'badSignature'],
  ] as const)('rejects %s as %s', (_name, t, reason) => {
    expect(signer.verify(t)).toEqual({ ok: false, reason });
  });

  it('rejects over-long tokens as malformed before checking the MAC', () => {
    const long = forge('k1', K1, ['d'.repeat(1600), 'p', 'a', null, 1]);
    expect(long.length).toBeGreaterThan(2048);
    expect(signer.verify(long)).toEqual({ ok: false, reason: 'malformed' });
    const atLimit = forge('k1', K1, ['d'.repeat(1490), 'p', 'a', null, 1]);
    expect(atLimit.length).toBeLessThanOrEqual(2048);
    expect(signer.verify(atLimit).ok).toBe(true);
  });

  it.each([
    ['non-JSON body', 'not json at all'],
    ['an object body', { decisionId: 'd' }],
    ['four elements', ['d', 'p', 'a', null]],
    ['six elements', ['d', 'p', 'a', null, 1, 'x']],
    ['numeric decisionId', [1, 'p', 'a', null, 1]],
    ['numeric placementId', ['d', 2, 'a', null, 1]],
    ['null adId', ['d', 'p', null, null, 1]],
    ['numeric userId', ['d', 'p', 'a', 5, 1]],
    ['string issuedAtSec', ['d', 'p', 'a', null, '1']],
    ['null issuedAtSec', ['d', 'p', 'a', null, null]],
  ])('rejects a correctly signed token with %s as malformed', (_name, body) => {
    expect(signer.verify(forge('k1', K1, body))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts a correctly signed, well-formed forged body (the MAC is what is trusted)', () => {
    expect(signer.verify(forge('k1', K1, ['d', 'p', 'a', null, 5]))).toEqual({
      ok: true,
      claims: { decisionId: 'd', placementId: 'p', adId: 'a', userId: null, issuedAtSec: 5 },
    });
  });
});

describe('beacon tokens: key rotation', () => {
  const oldSigner = createBeaconSigner(new Map([['k1', K1]]), 'k1');
  const rotated = createBeaconSigner(
    new Map([
      ['k1', K1],
      ['k2', K2],
    ]),
    'k2',
  );

  it('a signer with keys k1, k2 (current k2) verifies tokens signed by a k1 signer', () => {
    expect(rotated.verify(oldSigner.sign(claims))).toEqual({ ok: true, claims });
  });

  it('signs new tokens with the current key', () => {
    const t = rotated.sign(claims);
    expect(t.startsWith('k2.')).toBe(true);
    expect(rotated.verify(t)).toEqual({ ok: true, claims });
    expect(oldSigner.verify(t)).toEqual({ ok: false, reason: 'badSignature' });
  });

  it('after retiring k1, its tokens no longer verify', () => {
    const retired = createBeaconSigner(new Map([['k2', K2]]), 'k2');
    expect(retired.verify(oldSigner.sign(claims))).toEqual({ ok: false, reason: 'badSignature' });
    expect(retired.verify(rotated.sign(claims))).toEqual({ ok: true, claims });
  });

  it('refuses a current kid that is not configured', () => {
    expect(() => createBeaconSigner(new Map([['k1', K1]]), 'k2')).toThrow(/"k2" is not configured/);
  });
});
