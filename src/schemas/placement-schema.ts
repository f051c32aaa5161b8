import { type Static, Type } from '@sinclair/typebox';
import { IdSchema, NameSchema, Nullable, TimestampSchema } from './common-schema.js';

const strict = { additionalProperties: false } as const;

export const PlacementCreateSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    name: NameSchema,
    fallbackAdId: Type.Optional(Nullable(IdSchema)),
  },
  { ...strict, title: 'PlacementCreate' },
);
export type PlacementCreate = Static<typeof PlacementCreateSchema>;

export const PlacementPatchSchema = Type.Object(
  { name: Type.Optional(NameSchema), fallbackAdId: Type.Optional(Nullable(IdSchema)) },
  { ...strict, minProperties: 1, title: 'PlacementPatch' },
);
export type PlacementPatch = Static<typeof PlacementPatchSchema>;

export const PlacementSchema = Type.Object(
  {
    id: IdSchema,
    name: NameSchema,
    fallbackAdId: Nullable(IdSchema),
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
