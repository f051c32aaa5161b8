import { beaconCases } from './beacon-cases.js';
import { busCases } from './bus-cases.js';
import type { Case } from './case.js';
import { decideCases } from './decide-cases.js';
import { selectionCases } from './selection-cases.js';
import { targetingCases } from './targeting-cases.js';

/** Every case, in the order they run and are printed. */
export const CASES: Case[] = [
  ...targetingCases,
  ...selectionCases,
  ...beaconCases,
  ...busCases,
  ...decideCases,
];
