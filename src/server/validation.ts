import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import type { Problem } from '../core/errors.js';
import { validateTargeting } from '../core/targeting/validate-targeting.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Validator compilers for Fastify: bodies are checked strictly (no type coercion, unknown
 * properties refused, every error collected); path and query strings are coerced.
 */
export function createValidatorCompiler(
  sharedSchemas: readonly object[],
): FastifySchemaCompiler<FastifySchema> {
  const base: Options = { allErrors: true, strict: false, discriminator: true, messages: true };
  const body = addFormats(new Ajv({ ...base, coerceTypes: false, useDefaults: false }));
  const other = addFormats(new Ajv({ ...base, coerceTypes: true, useDefaults: true }));
  for (const s of sharedSchemas) {
    body.addSchema(s);
    other.addSchema(s);
  }
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : other).compile(schema as object);
}

const pointer = (base: string, prop: string): string =>
  `${base}/${prop.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/** The targeting rule an error lies in (`/targeting`, `/ads/3/targeting`), or null. */
const targetingRoot = (instancePath: string): string | null =>
  /^(.*?\/targeting)(?:\/|$)/.exec(instancePath)?.[1] ?? null;

/** The value at a JSON pointer, or undefined. */
function at(doc: unknown, path: string): unknown {
  let v = doc;
  for (const raw of path.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * Turns Ajv errors into problems a person can act on. Errors inside a targeting rule (of the
 * body, or of each ad of an import) are replaced by `validateTargeting`'s, which name the exact
 * fault instead of ten `anyOf` misses.
 */
export function toProblems(errors: readonly ErrorObject[], body: unknown): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const targetingDone = new Set<string>();
  for (const e of errors) {
    const root = targetingRoot(e.instancePath);
    if (root !== null) {
      if (targetingDone.has(root)) continue;
      const precise = validateTargeting(at(body, root), root);
      if (precise.length > 0) {
        targetingDone.add(root);
        problems.push(...precise);
        continue;
      }
    }
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path = pointer(path, String(e.params.missingProperty));
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path = pointer(path, String(e.params.additionalProperty));
      message = 'is not an allowed property';
    } else if (e.keyword === 'discriminator') {
      path = pointer(path, String(e.params.tag));
      message = e.params.error === 'mapping' ? 'must be one of the known types (image, html)' : message;
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path: path === '' ? '/' : path, message });
  }
  return problems;
}
