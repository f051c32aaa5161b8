import type { Case } from './case.js';
import { BEACON_KEYS, decisionEvents } from './fixtures.js';
import { sink } from './sink.js';

/** Beacon tokens: signing one, verifying a valid one. */
export const beaconCases: Case[] = [
  {
    name: 'beacon: sign',
    what: '`createBeaconSigner().sign`: JSON claims, base64url, HMAC-SHA256 truncated to 128 bits',
    batch: 8,
    setup: async () => {
      const { createBeaconSigner } = await import('../../src/tracking/beacon-token.js');
      const signer = createBeaconSigner(BEACON_KEYS(), 'k1');
      const claims = decisionEvents(1024).map((e) => ({ ...e, issuedAtSec: Math.floor(e.ts / 1000) }));
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) {
          sink.value += signer.sign(claims[k]!).length;
          k = (k + 1) & 1023;
        }
      };
    },
  },
  {
    name: 'beacon: verify',
    what: '`verify` of a valid token: HMAC, constant-time compare, JSON parse and shape check',
    batch: 8,
    setup: async () => {
      const { createBeaconSigner } = await import('../../src/tracking/beacon-token.js');
      const signer = createBeaconSigner(BEACON_KEYS(), 'k1');
      const tokens = decisionEvents(1024).map((e) =>
        signer.sign({ ...e, issuedAtSec: Math.floor(e.ts / 1000) }),
      );
      if (!signer.verify(tokens[0]!).ok) throw new Error('verify rejects a fresh token');
      let k = 0;
      return (n) => {
        let ok = 0;
        for (let i = 0; i < n; i++) {
          if (signer.verify(tokens[k]!).ok) ok++;
          k = (k + 1) & 1023;
        }
        sink.value += ok;
      };
    },
  },
];
