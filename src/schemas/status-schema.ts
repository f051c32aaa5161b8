import { Type } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from './common-schema.js';

const Reason = Type.Unsafe<string>({
  type: 'string',
  enum: ['paused', 'notInFlight', 'missing', 'targeting', 'frequencyCap', 'overbooked'],
  description: 'Why an ad cannot currently reach its target.',
});
const NullableNumber = (description: string) =>
  Type.Unsafe<number | null>({ type: 'number', nullable: true, description });

export const StatusAdSchema = Type.Object({
  adId: IdSchema,
  role: Type.Union([Type.Literal('target'), Type.Literal('fallback'), Type.Literal('target+fallback')]),
  targetShare: Type.Number({ description: 'Target share; for the fallback, what the targets leave.' }),
  impressions: Type.Number({
    description: 'Impressions in the current window: exact, or the Horvitz–Thompson estimate when sampled.',
  }),
  decisions: Type.Integer(),
  clicks: Type.Integer(),
  share: Type.Number({ description: 'Realized share of the placement’s impressions in the window.' }),
  ci95: Type.Tuple([Type.Number(), Type.Number()], {
    description: 'Wilson 95 % interval for the share (see docs/api.md).',
  }),
  estimated: Type.Boolean({ description: 'False: every impression was counted (no sampling).' }),
  samples: Type.Integer({ description: 'Sampled impressions behind the estimate (all of them when exact).' }),
  sampleRate: Type.Number({ description: 'Effective sampling rate of this ad’s impressions (1 = exact).' }),
  achievableShare: NullableNumber(
    'Impression share the ad can reach (targeting, caps, competition, render rates); null before the first controller step.',
  ),
  renderRate: NullableNumber('Impressions ÷ decisions in the window, as the controller estimates it.'),
  weight: NullableNumber('Current serving weight.'),
  feasible: Type.Boolean(),
  reasons: Type.Array(Reason),
});

export const StatusSchema = Type.Object(
  {
    placementId: IdSchema,
    targetsVersion: Type.Integer(),
    window: Type.Object({ start: TimestampSchema, end: TimestampSchema }),
    asOf: TimestampSchema,
    totalImpressions: Type.Number(),
    feasible: Type.Boolean(),
    controller: Type.Object({
      lastStepAt: Type.Unsafe<string | null>({ type: 'string', format: 'date-time', nullable: true }),
      samples: Type.Integer({ description: 'Sampled requests behind the request mix.' }),
    }),
    ads: Type.Array(StatusAdSchema),
  },
  { $id: 'PlacementStatus', title: 'PlacementStatus' },
);

export const WhatIfSchema = Type.Object(
  {
    placementId: IdSchema,
    feasible: Type.Unsafe<boolean | null>({
      type: 'boolean',
      nullable: true,
      description: 'null when no traffic has been observed yet to judge by.',
    }),
    basis: Type.Object({
      sampledRequests: Type.Integer({
        description: 'Recent request contexts the targeting was evaluated on.',
      }),
      frequencyCapsModelled: Type.Boolean({
        description: 'Caps depend on user history and are not re-simulated.',
      }),
    }),
    ads: Type.Array(
      Type.Object({
        adId: IdSchema,
        role: Type.String(),
        targetShare: Type.Number(),
        achievableShare: NullableNumber('Impression share the ad could reach with these targets.'),
        reasons: Type.Array(Reason),
      }),
    ),
  },
  { title: 'WhatIf' },
);
