import type { Request, RequestHandler, Response, Router } from 'express';
import type { Role } from './access.js';
import type { ValidatedClass } from './validation.js';

/** The HTTP methods a route may be declared with. */
export const ROUTE_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options'] as const;

/** An HTTP method of a declared route (lower case, as express names its router methods). */
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/**
 * Who may call a route: `public` (anyone; the server's list of public paths must say so too), or
 * a credential of at least this role (the declaration enforces it before the handler runs).
 */
export type RouteAccess = 'public' | Role;

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it) fragment. */
export type JsonSchema = Record<string, unknown>;

/**
 * A request body that the handler reads itself (SDP, a free-form JSON mapping): documented as
 * given, not validated by the declaration.
 */
export interface RawBody {
  /** Media type, e.g. `application/sdp`. */
  contentType: string;
  /** What the body holds. */
  description: string;
  /** Its schema (default: a string). */
  schema?: JsonSchema;
  /** Whether a body must be sent (default true). */
  required?: boolean;
}

/** One documented answer of a route. */
export interface ResponseDoc {
  /** What the answer means. */
  description: string;
  /** Media type (default `application/json`; none for 101, 204, 304). */
  contentType?: string;
  /** Its schema: a validated class or a JSON Schema (default for JSON: `{status: 'success', …}`). */
  schema?: JsonSchema | ValidatedClass<object>;
  /** Response headers by name, each with its description. */
  headers?: Record<string, string>;
}

/** What a route's handler gets besides the request: the declared query and body, validated. */
export interface RouteInput<Q, B> {
  /** The query as an instance of the declared class (`{}` when none is declared). */
  query: Q;
  /** The JSON body as an instance of the declared class (undefined for none or a raw body). */
  body: B;
}

/** A declared route's handler; a throw or rejection becomes the JSON error answer. */
export type RouteHandler<Q, B> = (req: Request, res: Response, input: RouteInput<Q, B>) => unknown;

/**
 * One HTTP route, declared once: registering it adds the express handler (with the role check
 * and the validation of query and body) and its entry in `GET /openapi.json`.
 */
export interface RouteDeclaration<
  Q extends object = Record<string, never>,
  B extends object | undefined = undefined,
> {
  /** HTTP method. */
  method: RouteMethod;
  /** Path relative to where the routes are mounted, with `:name` parameters (no wildcards). */
  path: string;
  /** One line: what it does. */
  summary: string;
  /** More, when one line is not enough (default none). */
  description?: string;
  /** Who may call it. */
  role: RouteAccess;
  /** Operation id in the document (default: derived from method and path). */
  operationId?: string;
  /** Descriptions of the `:name` path parameters by name (default none). */
  pathParams?: Record<string, string>;
  /** Class of the query (values are strings; integer, number and boolean properties are converted). */
  query?: ValidatedClass<Q>;
  /** Class of the JSON body (validated, 415 for another type), or a body the handler reads itself. */
  body?: ValidatedClass<NonNullable<B>> | RawBody;
  /** The answers by status code: a description (JSON success) or a ResponseDoc. */
  responses: Record<number, string | ResponseDoc>;
  /** Appended to a 400 about the query or body: what the caller may use instead (default none). */
  hint?: () => string;
  /** Middleware that runs after the role check and before the handler, e.g. a body reader. */
  use?: RequestHandler[];
  /** Answers the request. */
  handler: RouteHandler<Q, B>;
}

/** Where a module declares its HTTP routes (one mount point of the server). */
export interface ApiRoutes {
  /** The express router behind it, for middleware and for routes registered the old way. */
  readonly router: Router;
  /** Declares a route: adds its express handler and documents it. */
  route<Q extends object = Record<string, never>, B extends object | undefined = undefined>(
    declaration: RouteDeclaration<Q, B>,
  ): void;
}

/** The documentation of a WebSocket endpoint (its opening handshake is a GET answered 101). */
export interface WebSocketDoc {
  /** One line: what it streams. */
  summary: string;
  /** More (default none). */
  description?: string;
  /** Who may connect (an upgrade needs a credential like any request; protocols may ask more). */
  role: RouteAccess;
  /** Class of the query of the handshake URL (default none). */
  query?: ValidatedClass<object>;
}
