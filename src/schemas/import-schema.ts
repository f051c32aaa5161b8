import { type Static, Type } from '@sinclair/typebox';
import { AdCreateSchema } from './ad-schema.js';
import { IdSchema } from './common-schema.js';
import { PlacementCreateSchema, TargetsPutSchema } from './placement-schema.js';

const strict = { additionalProperties: false } as const;

/**
 * Bounds Ajv's work per request; the route's body limit (`ALLOT_IMPORT_BODY_LIMIT_BYTES`) is
 * the real bound. 10,000 × 50 placements-by-ads configurations fit.
 */
const MAX_ITEMS = 100_000;

/** `AdCreate` with the id required: an import names what it creates or replaces. */
export const AdImportSchema = Type.Object(
  { ...AdCreateSchema.properties, id: IdSchema },
  { ...strict, title: 'AdImport' },
);

export const PlacementImportSchema = Type.Object(
  { ...PlacementCreateSchema.properties, id: IdSchema },
  { ...strict, title: 'PlacementImport' },
);

export const TargetSetImportSchema = Type.Object(
  { placementId: IdSchema, targets: TargetsPutSchema.properties.targets },
  {
    ...strict,
    title: 'TargetSetImport',
    description: 'Replaces the placement’s targets, like PUT /v1/placements/{id}/targets.',
  },
);

export const ConfigImportSchema = Type.Object(
  {
    ads: Type.Optional(Type.Array(AdImportSchema, { maxItems: MAX_ITEMS })),
    placements: Type.Optional(Type.Array(PlacementImportSchema, { maxItems: MAX_ITEMS })),
    targets: Type.Optional(Type.Array(TargetSetImportSchema, { maxItems: MAX_ITEMS })),
  },
  {
    ...strict,
    title: 'ConfigImport',
    description:
      'Upserts ads and placements and replaces target sets, all or nothing, as one change. Ads and placements may refer to ads created in the same import.',
  },
);
export type ConfigImport = Static<typeof ConfigImportSchema>;

const Count = Type.Integer({ minimum: 0 });
const Upserts = Type.Object({ created: Count, updated: Count });

export const ImportResultSchema = Type.Object(
  {
    revision: Type.Integer({ description: 'The config revision the import produced.' }),
    ads: Upserts,
    placements: Upserts,
    targets: Type.Integer({ minimum: 0, description: 'Target sets replaced.' }),
  },
  { title: 'ImportResult' },
);
export type ImportResult = Static<typeof ImportResultSchema>;
