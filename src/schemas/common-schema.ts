import { type TSchema, Type } from '@sinclair/typebox';

/** Ids are chosen by the manager (or generated): URL- and Redis-key-safe. */
export const IdSchema = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
  description: 'Letters, digits, "_" and "-"; 1-64 characters, starting with a letter or digit.',
  examples: ['home-banner'],
});

export const NameSchema = Type.String({ minLength: 1, maxLength: 200 });

export const HttpUrlSchema = Type.String({
  maxLength: 2048,
  pattern: '^https?://[^\\s]+$',
  description: 'An absolute http(s) URL.',
});

export const TimestampSchema = Type.String({ format: 'date-time', description: 'ISO 8601 date-time' });

/** An OpenAPI 3.0 `nullable` schema: avoids `anyOf [T, null]`, whose errors are unreadable. */
export const Nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<T['static'] | null>({ ...schema, nullable: true });

export const IdParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const ProblemSchema = Type.Object({
  path: Type.String({ description: 'JSON pointer into the request (e.g. /targets/1/share)' }),
  message: Type.String(),
});

export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ examples: ['ALLOT_ERR_VALIDATION'] }),
      message: Type.String(),
      problems: Type.Array(ProblemSchema),
    }),
  },
  { $id: 'ErrorResponse', title: 'ErrorResponse' },
);

export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref('ErrorResponse')]));
