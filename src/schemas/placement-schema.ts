import { type Static, Type } from '@sinclair/typebox';
import { WINDOW_LENGTHS } from '../core/window/allocation-window.js';
import { IdSchema, NameSchema, Nullable, TimestampSchema } from './common-schema.js';

const strict = { additionalProperties: false } as const;

export const WindowSchema = Type.Object(
  {
    lengthHours: Type.Unsafe<number>({
      type: 'integer',
      enum: [...WINDOW_LENGTHS],
      description: 'Divides or is a multiple of 24, so windows start at local midnight.',
    }),
    timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Berlin' }),
  },
  {
    ...strict,
    title: 'AllocationWindow',
    description:
      'Period over which shares are measured; default the UTC day: { "lengthHours": 24, "timeZone": "UTC" }.',
  },
);

export const PlacementCreateSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    name: NameSchema,
    fallbackAdId: Type.Optional(Nullable(IdSchema)),
    window: Type.Optional(WindowSchema),
  },
  { ...strict, title: 'PlacementCreate' },
);
export type PlacementCreate = Static<typeof PlacementCreateSchema>;

export const PlacementPatchSchema = Type.Object(
  {
    name: Type.Optional(NameSchema),
    fallbackAdId: Type.Optional(Nullable(IdSchema)),
    window: Type.Optional(WindowSchema),
  },
  { ...strict, minProperties: 1, title: 'PlacementPatch' },
);
export type PlacementPatch = Static<typeof PlacementPatchSchema>;

export const PlacementSchema = Type.Object(
  {
    id: IdSchema,
    name: NameSchema,
    fallbackAdId: Nullable(IdSchema),
    window: WindowSchema,
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { $id: 'Placement', title: 'Placement' },
);

export const PlacementListSchema = Type.Object({ placements: Type.Array(Type.Ref('Placement')) });

export const TargetSchema = Type.Object(
  {
    adId: IdSchema,
    share: Type.Number({ minimum: 0, maximum: 1, description: 'Share of the placement’s impressions.' }),
  },
  strict,
);

export const TargetsPutSchema = Type.Object(
  { targets: Type.Array(TargetSchema, { maxItems: 500 }) },
  {
    ...strict,
    title: 'TargetsPut',
    description: 'Shares in [0, 1], sum ≤ 1, ads must exist, no duplicates.',
  },
);
export type TargetsPut = Static<typeof TargetsPutSchema>;

export const TargetSetSchema = Type.Object(
  {
    placementId: IdSchema,
    version: Type.Integer({ description: 'Bumped by every save.' }),
    targets: Type.Array(TargetSchema),
    updatedAt: Nullable(TimestampSchema),
  },
  { $id: 'TargetSet', title: 'TargetSet' },
);
