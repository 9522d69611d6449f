import { plainToInstance } from 'class-transformer';
import {
  ValidateBy,
  getMetadataStorage,
  validateSync,
  type ValidationError,
  type ValidationOptions,
} from 'class-validator';
import { ConfigError } from './errors.js';

/** A class whose instances class-validator can check; its property initializers are the defaults. */
export type ValidatedClass<T extends object> = new () => T;

/**
 * A validation rule; `constraints` are its arguments as the OpenAPI document's schema converters
 * read them (src/api/openapi), e.g. `[min, max]`.
 */
function rule(
  name: string,
  message: string,
  test: (value: unknown) => boolean,
  options?: ValidationOptions,
  constraints?: unknown[],
): PropertyDecorator {
  return ValidateBy(
    { name, constraints, validator: { validate: test, defaultMessage: () => message } },
    options,
  );
}

/** Property must be an integer in [min, max]. */
export function IntegerIn(
  min: number,
  max: number,
  options?: ValidationOptions,
): PropertyDecorator {
  return rule(
    'integerIn',
    `must be an integer between ${min} and ${max}`,
    (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
    options,
    [min, max],
  );
}

/** Property must be a finite number in [min, max]. */
export function NumberIn(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return rule(
    'numberIn',
    `must be a number between ${min} and ${max}`,
    (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max,
    options,
    [min, max],
  );
}

/** Property must be a finite number. */
export function FiniteNumber(options?: ValidationOptions): PropertyDecorator {
  return rule(
    'finiteNumber',
    'must be a number',
    (v) => typeof v === 'number' && Number.isFinite(v),
    options,
  );
}

/** Property must be one of the given values. */
export function OneOf(values: readonly unknown[], options?: ValidationOptions): PropertyDecorator {
  return rule('oneOf', `must be one of: ${values.join(', ')}`, (v) => values.includes(v), options, [
    values,
  ]);
}

/** Property must be a non-empty string. */
export function Text(options?: ValidationOptions): PropertyDecorator {
  return rule(
    'text',
    'must be a non-empty string',
    (v) => typeof v === 'string' && v.length > 0,
    options,
  );
}

/** Property must be true or false. */
export function Flag(options?: ValidationOptions): PropertyDecorator {
  return rule('flag', 'must be true or false', (v) => typeof v === 'boolean', options);
}

/** Property must be a list of non-empty strings. */
export function TextList(options?: ValidationOptions): PropertyDecorator {
  return rule(
    'textList',
    'must be a list of strings',
    (v) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0),
    options,
  );
}

/** Each string of a list must match `pattern` (whether it is a list of strings is TextList's check). */
export function EachMatching(
  pattern: RegExp,
  message: string,
  options?: ValidationOptions,
): PropertyDecorator {
  return rule(
    'eachMatching',
    message,
    (v) => !Array.isArray(v) || v.every((s) => typeof s !== 'string' || pattern.test(s)),
    options,
    [pattern.source],
  );
}

/** Property must be a mapping (a plain object), not a list or a scalar. */
export function Mapping(options?: ValidationOptions): PropertyDecorator {
  return rule('mapping', 'must be a mapping of keys to values', isMapping, options);
}

/** True for plain objects (YAML mappings, JSON objects). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The property names a validated class declares, in declaration order. */
export function knownKeys(cls: ValidatedClass<object>): string[] {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return [...new Set(metas.map((m) => m.propertyName))];
}

/** Joins a key path, e.g. `detectors.Camera` + `options`. */
export function keyPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Checks a plain value against a validated class and returns an instance with the defaults
 * filled in; throws ConfigError whose messages name each wrong key's path. `base` gives values
 * that `raw` overrides (for partial updates); `undefined`/`null` raw means "all defaults".
 */
export function validateInto<T extends object>(
  cls: ValidatedClass<T>,
  raw: unknown,
  path: string,
  base?: Partial<T>,
): T {
  if (raw === undefined || raw === null) raw = {};
  if (!isMapping(raw)) throw new ConfigError([`${path || '(top level)'}: must be a mapping`]);
  const known = knownKeys(cls);
  const problems: string[] = [];
  const accepted: Record<string, unknown> = {};
  let unsafe = false;
  for (const key of Object.keys(raw)) {
    const here = keyPath(path, key);
    if (FORBIDDEN_KEYS.has(key)) {
      problems.push(`${here}: this key name is not allowed`);
      unsafe = true;
    } else if (!known.includes(key)) {
      problems.push(`${here}: unknown key (known keys: ${known.join(', ')})`);
    } else {
      // Checked before anything copies the value: class-transformer drops `__proto__`
      // silently, throws on `constructor` and recurses without limit.
      const structure = unsafeStructure(raw[key], here, 1);
      problems.push(...structure);
      unsafe ||= structure.length > 0;
      accepted[key] = raw[key];
    }
  }
  if (unsafe) throw new ConfigError(problems);
  // Unknown keys are reported, never copied: their values are not checked for safety.
  const merged = { ...(base ?? {}), ...accepted };
  const instance = plainToInstance(cls, merged, { exposeDefaultValues: true });
  keepPlainMappings(instance, accepted);
  for (const error of validateSync(instance, { forbidUnknownValues: false })) {
    problems.push(...describe(error, path));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return instance;
}

/** Key names that address an object's prototype machinery rather than data. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting accepted in a checked value; nothing liveview reads nests more than a few levels. */
export const MAX_NESTING = 32;

/**
 * What makes a value unsafe to hand to class-transformer, as `key.path: problem` lines: keys
 * named `__proto__`, `constructor` or `prototype` at any depth, and nesting deeper than
 * MAX_NESTING (which also stops at a cycle, e.g. a YAML anchor that contains itself).
 */
export function unsafeStructure(value: unknown, path: string, depth = 0): string[] {
  if (typeof value !== 'object' || value === null) return [];
  if (depth >= MAX_NESTING)
    return [`${path || '(top level)'}: nested deeper than ${MAX_NESTING} levels`];
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => unsafeStructure(v, `${path}[${i}]`, depth + 1));
  }
  return Object.keys(value).flatMap((key) => {
    const here = keyPath(path, key);
    if (FORBIDDEN_KEYS.has(key)) return [`${here}: this key name is not allowed`];
    return unsafeStructure((value as Record<string, unknown>)[key], here, depth + 1);
  });
}

/**
 * Puts back the raw mappings that class-transformer copied into plain objects: it drops keys named
 * like Object.prototype members (`valueOf`, `toString`…), which would make an unknown key in a
 * nested mapping (request params) vanish instead of being refused where it is checked.
 */
function keepPlainMappings(instance: object, raw: Record<string, unknown>): void {
  const target = instance as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    const copied = target[key];
    if (isMapping(value) && isMapping(copied) && Object.getPrototypeOf(copied) === Object.prototype)
      target[key] = value;
  }
}

function describe(error: ValidationError, path: string): string[] {
  const here = keyPath(path, error.property);
  const out: string[] = [];
  const messages = Object.values(error.constraints ?? {});
  // One message per key: the decorators are written so that the first one says it all.
  if (messages.length > 0) out.push(`${here}: ${messages[messages.length - 1]}`);
  for (const child of error.children ?? []) out.push(...describe(child, here));
  return out;
}
