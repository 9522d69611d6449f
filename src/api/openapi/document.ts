import type { JsonSchema } from '../../core/api-routes.js';
import type { ValidatedClass } from '../../core/validation.js';
import type { WebSocketEndpoint } from '../upgrade-router.js';
import type { CatalogEntry } from './catalog.js';
import { routeOperation, websocketOperation, type PathOperation } from './operation.js';
import { SchemaRegistry } from './schemas.js';

/** What a document is made of: the server's routes, WebSocket endpoints and protocols. */
export interface DocumentSources {
  /** The server's version (the package's). */
  version: string;
  /** The HTTP routes, in registration order. */
  routes: readonly CatalogEntry[];
  /** The tags (groups) with their descriptions. */
  tags: ReadonlyMap<string, string>;
  /** The WebSocket endpoints. */
  websockets: readonly WebSocketEndpoint[];
  /** The protocols, whose params classes are the `params` of startLiveView and setStreamParams. */
  protocols: readonly { name: string; paramsClass: ValidatedClass<object> }[];
  /** Whether the server checks credentials. */
  authEnabled: boolean;
}

/** The JSON body of every error answer. */
const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Every error answer: what is wrong and, where it helps, what to do.',
  properties: { status: { const: 'error' }, message: { type: 'string' } },
  required: ['status', 'message'],
};

/** The JSON body of a success answer; each operation adds its own keys. */
const SUCCESS_SCHEMA: JsonSchema = {
  type: 'object',
  description: "A success answer: `status: 'success'` and the operation's own keys.",
  properties: { status: { const: 'success' } },
  required: ['status'],
};

/** Shared error answers, by name, with their descriptions. */
const ERROR_RESPONSES: Record<string, string> = {
  BadRequest: 'The query or body is invalid; the message names each wrong key.',
  Unauthorized:
    'No credential, or one that is not valid (with a `WWW-Authenticate: Bearer` challenge).',
  Forbidden: "The credential's role may not do this; the message names the role needed.",
  NotFound: 'An unknown detector, protocol, session or feature; the message lists the known ones.',
  UnsupportedMediaType: 'The body is not of the media type this operation takes.',
  Error: 'An error: `{status: "error", message}`.',
};

/** The document's description: conventions that hold for every operation. */
function infoDescription(authEnabled: boolean): string {
  return [
    'The HTTP API of this liveview server: the REST liveview API (ImSwitch names), the protocols’ own endpoints, authentication, health and metrics.',
    'Every error is JSON `{"status": "error", "message": "…"}` with a 4xx or 5xx status; successful JSON answers carry `"status": "success"`.',
    'Roles, weakest first: viewer (watch, read), operator (start, stop, tune), admin. Each operation names the role it needs in `x-liveview-role` and in its description; WebSocket endpoints are GET operations marked `x-liveview-websocket`.',
    authEnabled
      ? 'Authentication is on: send `Authorization: Bearer <token>`, or log in at /login.html for a session cookie.'
      : 'Authentication is off on this server (auth: none): every request acts as admin.',
  ].join('\n\n');
}

/** The security schemes a server with authentication offers. */
const SECURITY_SCHEMES: JsonSchema = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'A configured token or a JWT, as `Authorization: Bearer <token>`.',
  },
  cookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'liveview_session',
    description: 'The HttpOnly session cookie POST /auth/login sets.',
  },
  urlToken: {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description:
      'A short-lived token from POST /auth/url-token, for `<img src>` and WebSocket URLs (GET and WebSockets only).',
  },
};

/** Operation ids made unique within the document (`id`, `id2`, …): validators require it. */
function uniqueIds(operations: PathOperation[]): void {
  const seen = new Set<string>();
  for (const { operation } of operations) {
    const base = String(operation.operationId);
    let id = base;
    for (let i = 2; seen.has(id); i++) id = `${base}${i}`;
    seen.add(id);
    operation.operationId = id;
  }
}

/**
 * The OpenAPI 3.1 document of a server: every route and WebSocket endpoint, schemas from the
 * classes that validate the requests (components.schemas), the protocols' params, the shared
 * error answers and, with authentication on, the security schemes.
 */
export function buildOpenApiDocument(sources: DocumentSources): JsonSchema {
  const registry = new SchemaRegistry(['Error', 'Success']);
  const ctx = { registry, authEnabled: sources.authEnabled };
  const operations = [
    ...sources.routes.map((entry) => routeOperation(entry, ctx)),
    ...sources.websockets.map((w) => websocketOperation(w.path, w.tag, w.doc, ctx)),
  ];
  uniqueIds(operations);
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const { path, method, operation } of operations) {
    (paths[path] ??= {})[method] = operation;
  }
  const protocolParams = Object.fromEntries(
    sources.protocols.map((p) => [p.name, registry.ref(p.paramsClass)]),
  );
  registry.schemas.Error = ERROR_SCHEMA;
  registry.schemas.Success = SUCCESS_SCHEMA;
  const tagNames = [
    ...new Set([
      ...sources.tags.keys(),
      ...operations.map((o) => (o.operation.tags as string[])[0]),
    ]),
  ];
  const document: JsonSchema = {
    openapi: '3.1.0',
    info: {
      title: 'liveview',
      version: sources.version,
      description: infoDescription(sources.authEnabled),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'this server' }],
    tags: tagNames.map((name) => {
      const description = sources.tags.get(name);
      return description ? { name, description } : { name };
    }),
    paths,
    components: {
      schemas: registry.schemas,
      responses: Object.fromEntries(
        Object.entries(ERROR_RESPONSES).map(([name, description]) => [
          name,
          {
            description,
            ...(name === 'Unauthorized'
              ? {
                  headers: {
                    'WWW-Authenticate': {
                      description: 'The Bearer challenge.',
                      schema: { type: 'string' },
                    },
                  },
                }
              : {}),
            content: { 'application/json': { schema: registry.refByName('Error') } },
          },
        ]),
      ),
      ...(sources.authEnabled ? { securitySchemes: SECURITY_SCHEMES } : {}),
    },
    'x-liveview-protocol-params': protocolParams,
  };
  if (sources.authEnabled) document.security = [{ bearer: [] }, { cookie: [] }];
  return document;
}
