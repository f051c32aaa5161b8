import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a beacon token vouches for: this decision served this ad at `issuedAtSec`. */
export interface BeaconClaims {
  decisionId: string;
  placementId: string;
  adId: string;
  userId: string | null;
  issuedAtSec: number;
}

export type VerifyResult =
  | { ok: true; claims: BeaconClaims }
  | { ok: false; reason: 'malformed' | 'badSignature' };

/** 128-bit truncated HMAC-SHA256 (NIST SP 800-107 allows truncation to ≥ 64 bits for MACs). */
const MAC_BYTES = 16;
const MAX_TOKEN_LENGTH = 2048;

/**
 * Signs and verifies beacon tokens: `<kid>.<base64url(JSON claims)>.<base64url(mac)>`.
 * One token per decision serves both its impression and its click URL (the path says which).
 * `keys` maps key id → secret; `currentKid` signs, every listed key verifies, so a key can be
 * rotated by adding the new one first and retiring the old one after the click TTL.
 */
export function createBeaconSigner(keys: ReadonlyMap<string, Buffer>, currentKid: string) {
  const current = keys.get(currentKid);
  if (current === undefined) throw new Error(`beacon key "${currentKid}" is not configured`);
  const mac = (key: Buffer, signed: string): Buffer =>
    createHmac('sha256', key).update(signed).digest().subarray(0, MAC_BYTES);

  return {
    sign(c: BeaconClaims): string {
      const body = Buffer.from(
        JSON.stringify([c.decisionId, c.placementId, c.adId, c.userId, c.issuedAtSec]),
      ).toString('base64url');
      const signed = `${currentKid}.${body}`;
      return `${signed}.${mac(current, signed).toString('base64url')}`;
    },

    verify(token: string): VerifyResult {
      if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
      const dot2 = token.lastIndexOf('.');
      const dot1 = token.indexOf('.');
      if (dot1 <= 0 || dot2 <= dot1) return { ok: false, reason: 'malformed' };
      const key = keys.get(token.slice(0, dot1));
      if (key === undefined) return { ok: false, reason: 'badSignature' };
      const signed = token.slice(0, dot2);
      const given = Buffer.from(token.slice(dot2 + 1), 'base64url');
      if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(key, signed))) {
        return { ok: false, reason: 'badSignature' };
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString('utf8'));
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (!Array.isArray(parsed) || parsed.length !== 5) return { ok: false, reason: 'malformed' };
      const [decisionId, placementId, adId, userId, issuedAtSec] = parsed as unknown[];
      if (
        typeof decisionId !== 'string' ||
        typeof placementId !== 'string' ||
        typeof adId !== 'string' ||
        (userId !== null && typeof userId !== 'string') ||
        typeof issuedAtSec !== 'number'
      ) {
        return { ok: false, reason: 'malformed' };
      }
      return { ok: true, claims: { decisionId, placementId, adId, userId, issuedAtSec } };
    },
  };
}

export type BeaconSigner = ReturnType<typeof createBeaconSigner>;
