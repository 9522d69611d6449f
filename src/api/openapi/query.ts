import { BadRequestError, ConfigError } from '../../core/errors.js';
import type { JsonSchema } from '../../core/api-routes.js';
import { knownKeys, validateInto, type ValidatedClass } from '../../core/validation.js';
import { standaloneSchema } from './schemas.js';

/** A JSON number as text (what a query value must look like to become one). */
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;

/** A query value converted to the type its schema names; anything else stays text (and is refused). */
function converted(value: string, schema: JsonSchema | undefined): unknown {
  const type = schema?.type;
  if ((type === 'integer' || type === 'number') && NUMBER.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/** `key: message` of the validator as `query parameter 'key' message`. */
function asQueryProblem(problem: string): string {
  const m = /^([\w.[\]-]+): (.*)$/s.exec(problem);
  return m ? `query parameter '${m[1]}' ${m[2]}` : problem;
}

/**
 * Validates a request's query into `cls`. Keys the class does not declare are ignored (a
 * `?token=` or a cache buster belongs to others); an empty value counts as absent; a key given
 * twice is refused; integer, number and boolean properties are converted from their text. One
 * 400 names every problem, followed by what `hint` says when given.
 */
export function parseQuery<T extends object>(
  cls: ValidatedClass<T>,
  query: Record<string, unknown>,
  hint?: () => string,
): T {
  const schema = standaloneSchema(cls);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const picked: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of knownKeys(cls)) {
    const value = Object.hasOwn(query, key) ? query[key] : undefined;
    if (value === undefined || value === '') {
      if (required.has(key)) problems.push(`query parameter '${key}' is required`);
    } else if (typeof value !== 'string') {
      problems.push(`query parameter '${key}' must be given once`);
    } else picked[key] = converted(value, properties[key]);
  }
  if (problems.length === 0) {
    try {
      return validateInto(cls, picked, '');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems.map(asQueryProblem));
    }
  }
  throw new BadRequestError(`${problems.join('; ')}${hint ? ` (${hint()})` : ''}`);
}
