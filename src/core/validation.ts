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

function rule(
  name: string,
  message: string,
  test: (value: unknown) => boolean,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    { name, validator: { validate: test, defaultMessage: () => message } },
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
  );
}

/** Property must be a finite number in [min, max]. */
export function NumberIn(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return rule(
    'numberIn',
    `must be a number between ${min} and ${max}`,
    (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max,
    options,
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
  return rule('oneOf', `must be one of: ${values.join(', ')}`, (v) => values.includes(v), options);
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
  // Checked before anything copies the value: class-transformer drops `__proto__` silently and
  // throws on `constructor`, so such keys would be accepted or crash instead of being named.
  const forbidden = forbiddenKeyPaths(raw, path);
  if (forbidden.length > 0) {
    throw new ConfigError(forbidden.map((p) => `${p}: this key name is not allowed`));
  }
  const known = knownKeys(cls);
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      problems.push(`${keyPath(path, key)}: unknown key (known keys: ${known.join(', ')})`);
    }
  }
  const merged = { ...(base ?? {}), ...raw };
  const instance = plainToInstance(cls, merged, { exposeDefaultValues: true });
  for (const error of validateSync(instance, { forbidUnknownValues: false })) {
    problems.push(...describe(error, path));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return instance;
}

/** Key names that address an object's prototype machinery rather than data. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting looked into; deeper values are data no class here declares anyway. */
const MAX_KEY_DEPTH = 32;

/** The key paths, at any depth, whose key is `__proto__`, `constructor` or `prototype`. */
export function forbiddenKeyPaths(value: unknown, path: string, depth = 0): string[] {
  if (depth > MAX_KEY_DEPTH || typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => forbiddenKeyPaths(v, `${path}[${i}]`, depth + 1));
  }
  return Object.keys(value).flatMap((key) => {
    const here = keyPath(path, key);
    if (FORBIDDEN_KEYS.has(key)) return [here];
    return forbiddenKeyPaths((value as Record<string, unknown>)[key], here, depth + 1);
  });
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
