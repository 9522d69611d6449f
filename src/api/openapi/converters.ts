import { createRequire } from 'node:module';
import 'reflect-metadata';
import { ValidationTypes } from 'class-validator';
import type { targetConstructorToSchema } from 'class-validator-jsonschema';
import type { JsonSchema } from '../../core/api-routes.js';

/** class-validator-jsonschema's converters option (its own type is not exported). */
export type SchemaConverters = NonNullable<
  NonNullable<Parameters<typeof targetConstructorToSchema>[1]>['additionalConverters']
>;

/** What a converter reads of class-validator's metadata of one rule on one property. */
interface RuleMeta {
  target: unknown;
  propertyName: string;
  constraints?: unknown[];
}

/** The part of class-transformer's metadata storage that knows `@Type(() => Cls)`. */
interface TypeStorage {
  findTypeMetadata(
    target: unknown,
    propertyName: string,
  ): { typeFunction: () => unknown } | undefined;
}

// class-transformer's singleton storage, the copy its `@Type` decorator writes to (it exports it
// from a file of its own only; `import 'class-transformer'` loads the same CommonJS build).
const { defaultMetadataStorage } = createRequire(import.meta.url)(
  'class-transformer/cjs/storage.js',
) as { defaultMetadataStorage: TypeStorage };

/** The JSON Schema of a primitive value's type; undefined for objects and anything else. */
function primitiveType(value: unknown): string | undefined {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return undefined;
}

/** `{enum}` with a `type` when every value has the same one (a number type covers integers). */
function enumSchema(values: readonly unknown[]): JsonSchema {
  const types = new Set(values.map(primitiveType).map((t) => (t === 'integer' ? 'number' : t)));
  const [type] = types;
  return types.size === 1 && type !== undefined
    ? { type, enum: [...values] }
    : { enum: [...values] };
}

/** The TypeScript type a property was declared with (emitDecoratorMetadata). */
function declaredType(meta: RuleMeta): unknown {
  if (typeof meta.target !== 'function') return undefined;
  const prototype = (meta.target as { prototype?: object }).prototype;
  return prototype && Reflect.getMetadata('design:type', prototype, meta.propertyName);
}

/** A schema from the declared type alone, for rules the converters do not know. */
function fromDeclaredType(meta: RuleMeta): JsonSchema {
  const type = declaredType(meta);
  if (type === String) return { type: 'string' };
  if (type === Number) return { type: 'number' };
  if (type === Boolean) return { type: 'boolean' };
  if (type === Array) return { type: 'array' };
  // `unknown`, a union, an interface: anything (the library would point at a schema named Object).
  return {};
}

/**
 * Converters for the rules of src/core/validation.ts (by their names) and for nested classes;
 * `refOf` names a nested class in the document's components. Any other custom rule (a plugin's
 * own ValidateBy) is described by the property's declared type.
 */
export function schemaConverters(refOf: (cls: new () => object) => JsonSchema): SchemaConverters {
  const c = (meta: RuleMeta, i: number): unknown => meta.constraints?.[i];
  const converters: Record<string, (meta: RuleMeta) => JsonSchema> = {
    integerIn: (m) => ({ type: 'integer', minimum: c(m, 0), maximum: c(m, 1) }),
    numberIn: (m) => ({ type: 'number', minimum: c(m, 0), maximum: c(m, 1) }),
    finiteNumber: () => ({ type: 'number' }),
    oneOf: (m) => enumSchema((c(m, 0) as unknown[] | undefined) ?? []),
    text: () => ({ type: 'string', minLength: 1 }),
    flag: () => ({ type: 'boolean' }),
    textList: () => ({ type: 'array', items: { type: 'string', minLength: 1 } }),
    eachMatching: (m) => ({ type: 'array', items: { type: 'string', pattern: c(m, 0) } }),
    mapping: () => ({ type: 'object' }),
    [ValidationTypes.CUSTOM_VALIDATION]: fromDeclaredType,
    [ValidationTypes.NESTED_VALIDATION]: (m) => {
      const child =
        defaultMetadataStorage.findTypeMetadata(m.target, m.propertyName)?.typeFunction() ??
        declaredType(m);
      if (typeof child !== 'function' || child === Array || child === Object)
        return { type: 'object' };
      return refOf(child as new () => object);
    },
  };
  return converters as unknown as SchemaConverters;
}
