import { type Static, Type } from '@sinclair/typebox';
import type { Creative } from '../core/domain/ad.js';
import type { TargetingRule } from '../core/targeting/targeting-rule.js';
import { HttpUrlSchema, IdSchema, NameSchema, Nullable, TimestampSchema } from './common-schema.js';
import { TargetingRef } from './targeting-schema.js';

const strict = { additionalProperties: false } as const;
const Dimension = Type.Integer({ minimum: 1, maximum: 10_000 });

const ImageCreative = Type.Object(
  {
    type: Type.Literal('image'),
    url: HttpUrlSchema,
    width: Dimension,
    height: Dimension,
    alt: Type.Optional(Type.String({ maxLength: 500 })),
  },
  strict,
);
const HtmlCreative = Type.Object(
  {
    type: Type.Literal('html'),
    html: Type.String({ minLength: 1, maxLength: 65_536 }),
    width: Type.Optional(Dimension),
    height: Type.Optional(Dimension),
  },
  strict,
);

/** `oneOf` with a discriminator, so a bad image creative reports only image errors. */
export const CreativeSchema = Type.Unsafe<Creative>({
  type: 'object',
  discriminator: { propertyName: 'type' },
  required: ['type'],
  oneOf: [ImageCreative, HtmlCreative],
  $id: 'Creative',
  title: 'Creative',
});
const CreativeRef = Type.Unsafe<Creative>(Type.Ref('Creative'));

export const FrequencyCapSchema = Type.Object(
  {
    impressions: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: 366 * 86_400 }),
  },
  { ...strict, description: 'At most `impressions` per userId within any `windowSeconds`.' },
);

export const AdStatusSchema = Type.Unsafe<'active' | 'paused'>({
  type: 'string',
  enum: ['active', 'paused'],
});

const editable = {
  name: NameSchema,
  creative: CreativeRef,
  clickUrl: HttpUrlSchema,
  targeting: Type.Unsafe<TargetingRule | null>({ anyOf: [TargetingRef, { type: 'null' }] }),
  frequencyCap: Nullable(FrequencyCapSchema),
  startAt: Nullable(TimestampSchema),
  endAt: Nullable(TimestampSchema),
  status: AdStatusSchema,
};

export const AdCreateSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    name: editable.name,
    creative: editable.creative,
    clickUrl: editable.clickUrl,
    targeting: Type.Optional(editable.targeting),
    frequencyCap: Type.Optional(editable.frequencyCap),
    startAt: Type.Optional(editable.startAt),
    endAt: Type.Optional(editable.endAt),
    status: Type.Optional(editable.status),
  },
  { ...strict, title: 'AdCreate' },
);
export type AdCreate = Static<typeof AdCreateSchema>;

export const AdPatchSchema = Type.Partial(Type.Object(editable, strict), {
  ...strict,
  minProperties: 1,
  title: 'AdPatch',
  description: 'Fields to change; null clears an optional field.',
});
export type AdPatch = Static<typeof AdPatchSchema>;

export const AdSchema = Type.Object(
  {
    id: IdSchema,
    ...editable,
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { $id: 'Ad', title: 'Ad' },
);

export const AdListSchema = Type.Object({ ads: Type.Array(Type.Ref('Ad')) });
