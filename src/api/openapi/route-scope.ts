import type { RequestHandler, Router } from 'express';
import { requireRole } from '../../core/access.js';
import {
  ROUTE_METHODS,
  type ApiRoutes,
  type RouteDeclaration,
  type RouteMethod,
} from '../../core/api-routes.js';
import { BadRequestError } from '../../core/errors.js';
import type { ValidatedClass } from '../../core/validation.js';
import { jsonBody, parseBody } from '../requests.js';
import type { ApiCatalog, DeclarationDoc } from './catalog.js';
import { parseQuery } from './query.js';
import { joinPath, routesOf, stackOf } from './router-routes.js';

/**
 * A path the document can show: literal segments and whole-segment `:name` parameters. Express's
 * wildcards, optional groups and patterns have no OpenAPI form.
 */
const DECLARABLE_PATH = /^(?:\/(?::[A-Za-z_]\w*|[^/:*?+()[\]{}!]*))+$/;

/** Whether a declared body is a validated class (not a RawBody). */
export function isBodyClass(body: unknown): body is ValidatedClass<object> {
  return typeof body === 'function';
}

/** Runs `parse`; the message of a 400 it throws goes to `problems` (any other error is thrown). */
function collect<T>(problems: string[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof BadRequestError)) throw err;
    problems.push(err.message);
    return undefined;
  }
}

/**
 * Where one module declares its routes: one express router (or the app) and the path express
 * serves it under. Implements the SDK's ApiRoutes.
 */
export class RouteScope implements ApiRoutes {
  constructor(
    private readonly catalog: ApiCatalog,
    /** The express router the handlers go to. */
    readonly router: Router,
    /** Where express serves `router` (empty for the app itself). */
    readonly prefix: string,
    /** The document's group for these routes. */
    readonly tag: string,
  ) {}

  /** Declares a route: the express handler (role check, validated query and body) and its entry. */
  route<Q extends object = Record<string, never>, B extends object | undefined = undefined>(
    declaration: RouteDeclaration<Q, B>,
  ): void {
    const { method, path, role, query, body, hint, handler } = declaration;
    if (!ROUTE_METHODS.includes(method))
      throw new TypeError(`route ${path}: method must be one of ${ROUTE_METHODS.join(', ')}`);
    if (!DECLARABLE_PATH.test(path))
      throw new TypeError(
        `route ${method.toUpperCase()} ${path}: a declared path is '/'-separated literal segments and ':name' parameters (no wildcards, groups or patterns)`,
      );
    const fullPath = joinPath(this.prefix, path);
    // Listed first: a duplicate throws before express has a second handler for it.
    this.catalog.add({
      method,
      path: fullPath,
      tag: this.tag,
      declaration: documentedPart(declaration),
    });
    const run: RequestHandler = async (req, res) => {
      // One 400 names every problem of the query and of the body; a body of another media type
      // is its own 415, whatever the query.
      const problems: string[] = [];
      const q = query
        ? collect(problems, () => parseQuery(query, req.query as Record<string, unknown>))
        : ({} as Q);
      const b = isBodyClass(body)
        ? collect(problems, () => parseBody(body, jsonBody(req)))
        : undefined;
      if (problems.length > 0)
        throw new BadRequestError(`${problems.join('; ')}${hint ? ` (${hint()})` : ''}`);
      await handler(req, res, { query: q as Q, body: b as B });
    };
    const handlers: RequestHandler[] = [
      ...(role === 'public' ? [] : [requireRole(role)]),
      ...(declaration.use ?? []),
      run,
    ];
    const register = this.router[method] as (path: string, ...h: RequestHandler[]) => unknown;
    register.call(this.router, path, ...handlers);
  }

  /** The same router and mount point under another tag (a protocol's routes). */
  withTag(tag: string, description = ''): RouteScope {
    this.catalog.tag(tag, description);
    return new RouteScope(this.catalog, this.router, this.prefix, tag);
  }

  /**
   * Runs `register` (a plugin's hook) and lists the routes it added to the router the plain
   * express way, without a declaration, as undocumented routes of `source`: served as before,
   * and visible in the document. Routes with paths OpenAPI cannot show are not listed.
   */
  adoptPlainRoutes(source: string, register: () => unknown): unknown {
    const stack = stackOf(this.router);
    const before = stack.length;
    try {
      return register();
    } finally {
      for (const r of routesOf(stack.slice(before), this.prefix)) {
        const method = r.method.toLowerCase() as RouteMethod;
        if (!ROUTE_METHODS.includes(method) || this.catalog.has(method, r.path)) continue;
        if (!DECLARABLE_PATH.test(r.path)) continue;
        this.catalog.add({ method, path: r.path, tag: this.tag, source });
      }
    }
  }
}

/** A declaration without its code: what the document shows. */
function documentedPart(declaration: object): DeclarationDoc {
  const doc: Partial<RouteDeclaration<object, object | undefined>> = { ...declaration };
  delete doc.handler;
  delete doc.use;
  delete doc.hint;
  return doc as DeclarationDoc;
}
