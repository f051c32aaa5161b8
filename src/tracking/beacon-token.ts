import { hash, timingSafeEqual } from 'node:crypto';

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

/** A key's HMAC pads (RFC 2104): K ⊕ ipad and K ⊕ opad, as latin1 strings to prepend. */
interface HmacPads {
  inner: string;
  outer: string;
}

const BLOCK = 64; // SHA-256's block size

function hmacPads(key: Buffer): HmacPads {
  const k = key.length > BLOCK ? hash('sha256', key, 'buffer') : key;
  const pad = (x: number) =>
    Buffer.from(Array.from({ length: BLOCK }, (_, i) => (k[i] ?? 0) ^ x)).toString('latin1');
  return { inner: pad(0x36), outer: pad(0x5c) };
}

/**
 * HMAC-SHA256 truncated to MAC_BYTES, as a latin1 string (one char per byte), from two one-shot
 * hashes over the precomputed pads: `createHmac` builds a stream object per call, which cost ~7 %
 * of a saturated decision server's main thread, and a digest returned as a Buffer is allocated
 * outside Node's pool (~1.5 µs here), a string is not. `signed` is ASCII (kid and base64url), so
 * latin1 keeps its bytes.
 */
function mac(pads: HmacPads, signed: string): Buffer {
  const inner = hash('sha256', Buffer.from(pads.inner + signed, 'latin1'), 'binary'); // = latin1
  const outer = hash('sha256', Buffer.from(pads.outer + inner, 'latin1'), 'binary');
  return Buffer.from(outer.slice(0, MAC_BYTES), 'latin1'); // from the pool
}

/**
 * Signs and verifies beacon tokens: `<kid>.<base64url(JSON claims)>.<base64url(mac)>`.
 * One token per decision serves both its impression and its click URL (the path says which).
 * `keys` maps key id → secret; `currentKid` signs, every listed key verifies, so a key can be
 * rotated by adding the new one first and retiring the old one after the click TTL.
 */
export function createBeaconSigner(keys: ReadonlyMap<string, Buffer>, currentKid: string) {
  const pads = new Map([...keys].map(([kid, key]) => [kid, hmacPads(key)]));
  const current = pads.get(currentKid);
  if (current === undefined) throw new Error(`beacon key "${currentKid}" is not configured`);

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
      const key = pads.get(token.slice(0, dot1));
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
