import type {
  JsonSchema,
  ResponseDoc,
  RouteAccess,
  RouteMethod,
  WebSocketDoc,
} from '../../core/api-routes.js';
import type { ValidatedClass } from '../../core/validation.js';
import type { CatalogEntry } from './catalog.js';
import { isBodyClass } from './route-scope.js';
import { SchemaRegistry, standaloneSchema } from './schemas.js';

/** What every operation of one document shares. */
export interface OperationContext {
  /** The document's component schemas. */
  registry: SchemaRegistry;
  /** Whether the server checks credentials (else every request acts as admin). */
  authEnabled: boolean;
}

/** One operation of the document at its OpenAPI path. */
export interface PathOperation {
  /** OpenAPI path, `{name}` parameters. */
  path: string;
  /** HTTP method. */
  method: RouteMethod;
  /** The Operation Object. */
  operation: JsonSchema;
}

/** A reference to one of the document's shared responses (document.ts defines them). */
const response = (name: string): JsonSchema => ({ $ref: `#/components/responses/${name}` });

/** Statuses whose answers have no body. */
const NO_BODY = new Set([101, 204, 304]);

/** The express path `/a/:b` as OpenAPI writes it, `/a/{b}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

/** The names of a path's `:name` parameters. */
function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
}

/** An operation id from method and path: `get /a/:b/c.jpg` → `getABByBCJpg`. */
export function derivedOperationId(method: string, path: string): string {
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const words = path
    .split('/')
    .filter(Boolean)
    .map((segment) =>
      segment.startsWith(':')
        ? `By${cap(segment.slice(1))}`
        : segment
            .split(/[^A-Za-z0-9]+/)
            .filter(Boolean)
            .map(cap)
            .join(''),
    );
  return `${method.toLowerCase()}${words.join('')}`;
}

/** The sentence on who may call an operation, for its description. */
export function roleSentence(role: RouteAccess): string {
  switch (role) {
    case 'public':
      return 'Public: no credential needed.';
    case 'viewer':
      return 'Needs a credential (any role: viewer, operator or admin).';
    case 'operator':
      return 'Needs the operator role (or admin).';
    case 'admin':
      return 'Needs the admin role.';
  }
}

/** Path and query parameters of an operation. */
function parameters(
  path: string,
  pathParams: Record<string, string> | undefined,
  query: ValidatedClass<object> | undefined,
): JsonSchema[] {
  const out: JsonSchema[] = pathParamNames(path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
    ...(pathParams?.[name] ? { description: pathParams[name] } : {}),
  }));
  if (query) {
    const schema = standaloneSchema(query);
    const required = new Set((schema.required ?? []) as string[]);
    for (const [name, property] of Object.entries(
      (schema.properties ?? {}) as Record<string, JsonSchema>,
    )) {
      out.push({ name, in: 'query', required: required.has(name), schema: property });
    }
  }
  return out;
}

/** One documented answer as a Response Object. */
function responseObject(status: number, doc: ResponseDoc, ctx: OperationContext): JsonSchema {
  const out: JsonSchema = { description: doc.description };
  if (doc.headers) {
    out.headers = Object.fromEntries(
      Object.entries(doc.headers).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    );
  }
  const type = doc.contentType ?? (NO_BODY.has(status) ? undefined : 'application/json');
  if (type === undefined) return out;
  let schema: JsonSchema | undefined;
  if (typeof doc.schema === 'function') schema = ctx.registry.ref(doc.schema);
  else if (doc.schema) schema = doc.schema;
  else if (type === 'application/json')
    schema = ctx.registry.refByName(status < 400 ? 'Success' : 'Error');
  out.content = { [type]: schema ? { schema } : {} };
  return out;
}

/** Security requirements of one operation; undefined: the document's (a credential). */
function security(role: RouteAccess, method: RouteMethod, ctx: OperationContext) {
  if (!ctx.authEnabled) return undefined;
  if (role === 'public') return [{}, { bearer: [] }, { cookie: [] }];
  // A signed ?token= is accepted on GET requests and WebSocket handshakes only.
  if (method === 'get') return [{ bearer: [] }, { cookie: [] }, { urlToken: [] }];
  return undefined;
}

/** The error answers every operation of its kind may get, unless it documents them itself. */
function errorResponses(
  responses: Record<string, unknown>,
  role: RouteAccess,
  flags: { input: boolean; pathParams: boolean; body: boolean },
  ctx: OperationContext,
): void {
  const add = (status: number, name: string) => {
    responses[String(status)] ??= response(name);
  };
  if (flags.input) add(400, 'BadRequest');
  if (ctx.authEnabled && role !== 'public') add(401, 'Unauthorized');
  if (ctx.authEnabled && (role === 'operator' || role === 'admin')) add(403, 'Forbidden');
  if (flags.pathParams) add(404, 'NotFound');
  if (flags.body) add(415, 'UnsupportedMediaType');
  responses.default = response('Error');
}

/** The description: the declaration's own text, then who may call it. */
function describe(description: string | undefined, role: RouteAccess): string {
  return [description, roleSentence(role)].filter(Boolean).join('\n\n');
}

/** The Operation Object of one route of the catalog. */
export function routeOperation(entry: CatalogEntry, ctx: OperationContext): PathOperation {
  const path = openApiPath(entry.path);
  const d = entry.declaration;
  if (!d) return undocumentedOperation(entry.method, entry.path, entry.tag, entry.source, ctx);
  const operation: JsonSchema = {
    operationId: d.operationId ?? derivedOperationId(entry.method, entry.path),
    tags: [entry.tag],
    summary: d.summary,
    description: describe(d.description, d.role),
    'x-liveview-role': d.role,
  };
  const params = parameters(entry.path, d.pathParams, d.query);
  if (params.length > 0) operation.parameters = params;
  if (isBodyClass(d.body)) {
    const schema = standaloneSchema(d.body);
    operation.requestBody = {
      // A class whose keys all have defaults takes no body at all, e.g. stop everything.
      required: Array.isArray(schema.required) && schema.required.length > 0,
      content: { 'application/json': { schema: ctx.registry.ref(d.body) } },
    };
  } else if (d.body) {
    operation.requestBody = {
      description: d.body.description,
      required: d.body.required ?? true,
      content: { [d.body.contentType]: { schema: d.body.schema ?? { type: 'string' } } },
    };
  }
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(d.responses)) {
    responses[status] = responseObject(
      Number(status),
      typeof r === 'string' ? { description: r } : r,
      ctx,
    );
  }
  errorResponses(
    responses,
    d.role,
    {
      input: d.query !== undefined || d.body !== undefined,
      pathParams: pathParamNames(entry.path).length > 0,
      body: d.body !== undefined,
    },
    ctx,
  );
  operation.responses = responses;
  const sec = security(d.role, entry.method, ctx);
  if (sec) operation.security = sec;
  return { path, method: entry.method, operation };
}

/** Text of every WebSocket operation: how to open it and pass a credential. */
const WEBSOCKET_NOTE =
  'A WebSocket: open it with a WebSocket client (ws:// or wss://); the opening handshake is this GET, answered 101 Switching Protocols. A browser passes its credential as the subprotocol `liveview.bearer.<token>`, a `?token=` from POST /auth/url-token, or the login cookie.';

/** The Operation Object of a WebSocket endpoint (its handshake GET). */
export function websocketOperation(
  path: string,
  tag: string,
  doc: WebSocketDoc | undefined,
  ctx: OperationContext,
): PathOperation {
  if (!doc) {
    const op = undocumentedOperation('get', path, tag, undefined, ctx);
    op.operation['x-liveview-websocket'] = true;
    return op;
  }
  const operation: JsonSchema = {
    operationId: derivedOperationId('websocket', path),
    tags: [tag],
    summary: doc.summary,
    description: describe([doc.description, WEBSOCKET_NOTE].filter(Boolean).join('\n\n'), doc.role),
    'x-liveview-role': doc.role,
    'x-liveview-websocket': true,
  };
  const params = parameters(path, undefined, doc.query);
  if (params.length > 0) operation.parameters = params;
  const responses: Record<string, unknown> = {
    '101': { description: 'Switching Protocols: the WebSocket is open.' },
  };
  // A bad handshake is a 400 too (missing Sec-WebSocket-Key, wrong Upgrade…).
  errorResponses(responses, doc.role, { input: true, pathParams: false, body: false }, ctx);
  operation.responses = responses;
  const sec = security(doc.role, 'get', ctx);
  if (sec) operation.security = sec;
  return { path: openApiPath(path), method: 'get', operation };
}

/** A route or WebSocket that was registered without a declaration: listed, marked as such. */
function undocumentedOperation(
  method: RouteMethod,
  path: string,
  tag: string,
  source: string | undefined,
  ctx: OperationContext,
): PathOperation {
  const by = source ? ` by ${source}` : '';
  const operation: JsonSchema = {
    operationId: derivedOperationId(method, path),
    tags: [tag],
    summary: `Undocumented: registered${by} without a declaration`,
    description: describe(
      'Registered the plain way (an express route or a WebSocket path without documentation): served, but its parameters and answers are not described here.',
      'viewer',
    ),
    'x-liveview-role': 'viewer',
    'x-liveview-undocumented': true,
  };
  const params = parameters(path, undefined, undefined);
  if (params.length > 0) operation.parameters = params;
  operation.responses = { '200': { description: 'Whatever the route answers.' } };
  errorResponses(
    operation.responses as Record<string, unknown>,
    'viewer',
    { input: false, pathParams: params.length > 0, body: false },
    ctx,
  );
  const sec = security('viewer', method, ctx);
  if (sec) operation.security = sec;
  return { path: openApiPath(path), method, operation };
}
