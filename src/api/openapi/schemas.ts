import { validateSync } from 'class-validator';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import type { JsonSchema } from '../../core/api-routes.js';
import type { ValidatedClass } from '../../core/validation.js';
import { schemaConverters } from './converters.js';

/** Where component schemas live in an OpenAPI document. */
const COMPONENTS = '#/components/schemas/';

/** A JSON copy of a default value (instances, Sets and functions do not belong in a schema). */
function jsonValue(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The JSON Schema of a validated class, as `validateInto` applies it: its rules converted, the
 * keys it knows and no others (`additionalProperties: false`), defaults from its property
 * initializers, and `required` for exactly the keys whose absence the validator refuses (what an
 * all-defaults instance fails on: a key without a default, or with one that is not valid).
 * `refOf` names nested classes.
 */
export function classSchema(
  cls: ValidatedClass<object>,
  refOf: (cls: ValidatedClass<object>) => JsonSchema,
): JsonSchema {
  const converted = targetConstructorToSchema(cls, {
    additionalConverters: schemaConverters(refOf),
  }) as JsonSchema;
  const properties = (converted.properties ?? {}) as Record<string, JsonSchema>;
  const defaults = new cls() as Record<string, unknown>;
  const missing = new Set(
    validateSync(defaults, { forbidUnknownValues: false }).map((e) => e.property),
  );
  const required = Object.keys(properties).filter((key) => missing.has(key));
  for (const [key, schema] of Object.entries(properties)) {
    const value = missing.has(key) ? undefined : jsonValue(defaults[key]);
    if (value !== undefined) schema.default = value;
  }
  const schema: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) schema.required = required;
  return schema;
}

/** Query schemas by class: the query parser converts and checks against them on every request. */
const standalone = new WeakMap<ValidatedClass<object>, JsonSchema>();

/** `classSchema` with nested classes as plain objects, cached (queries and tests use it). */
export function standaloneSchema(cls: ValidatedClass<object>): JsonSchema {
  let schema = standalone.get(cls);
  if (!schema) {
    schema = classSchema(cls, () => ({ type: 'object' }));
    standalone.set(cls, schema);
  }
  return schema;
}

/**
 * The classes of one document and their component names: each class once, under its own name
 * (`Name2`, `Name3`… when two classes share one), nested classes included.
 */
export class SchemaRegistry {
  private readonly names = new Map<ValidatedClass<object>, string>();
  /** The component schemas by name, in the order the classes were first named. */
  readonly schemas: Record<string, JsonSchema> = {};

  /** Reserves names that are not classes' (e.g. `Error`), so that no class takes them. */
  constructor(reserved: readonly string[] = []) {
    for (const name of reserved) this.schemas[name] = {};
  }

  /** A `$ref` to the component schema `name` (a reserved one, or a class's). */
  refByName(name: string): JsonSchema {
    return { $ref: `${COMPONENTS}${name}` };
  }

  /** A `$ref` to the schema of `cls`, added to the components on first use. */
  ref(cls: ValidatedClass<object>): JsonSchema {
    return this.refByName(this.nameOf(cls));
  }

  /** The component name of `cls`, added on first use. */
  nameOf(cls: ValidatedClass<object>): string {
    const known = this.names.get(cls);
    if (known) return known;
    const base = cls.name || 'Anonymous';
    let name = base;
    for (let i = 2; Object.hasOwn(this.schemas, name); i++) name = `${base}${i}`;
    this.names.set(cls, name);
    // Taken before its schema is made: a class that (indirectly) nests itself refers to it.
    this.schemas[name] = {};
    this.schemas[name] = classSchema(cls, (nested) => this.ref(nested));
    return name;
  }
}
