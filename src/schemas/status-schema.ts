import { Type } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from './common-schema.js';

const Reason = Type.Union([Type.Literal('paused'), Type.Literal('notInFlight'), Type.Literal('missing')], {
  description: 'Why an ad cannot currently reach its target.',
});

export const StatusAdSchema = Type.Object({
  adId: IdSchema,
  role: Type.Union([Type.Literal('target'), Type.Literal('fallback'), Type.Literal('target+fallback')]),
  targetShare: Type.Number({ description: 'Target share; for the fallback, what the targets leave.' }),
  impressions: Type.Integer({ description: 'Impressions counted in the current window.' }),
  decisions: Type.Integer(),
  clicks: Type.Integer(),
  share: Type.Number({ description: 'Realized share of the placement’s impressions in the window.' }),
  ci95: Type.Tuple([Type.Number(), Type.Number()], {
    description: 'Wilson 95 % interval for the share (see docs/api.md).',
  }),
  estimated: Type.Boolean({ description: 'False: every impression was counted (no sampling).' }),
  feasible: Type.Boolean(),
  reasons: Type.Array(Reason),
});

export const StatusSchema = Type.Object(
  {
    placementId: IdSchema,
    targetsVersion: Type.Integer(),
    window: Type.Object({ start: TimestampSchema, end: TimestampSchema }),
    asOf: TimestampSchema,
    totalImpressions: Type.Integer(),
    feasible: Type.Boolean(),
    ads: Type.Array(StatusAdSchema),
  },
  { $id: 'PlacementStatus', title: 'PlacementStatus' },
);
