import { Router, type Express } from 'express';
import type { RouteDeclaration, RouteMethod } from '../../core/api-routes.js';
import { RouteScope } from './route-scope.js';

/** What the document shows of a declaration: all of it but the code. */
export type DeclarationDoc = Omit<
  RouteDeclaration<object, object | undefined>,
  'handler' | 'use' | 'hint'
>;

/** One HTTP route the server serves, as the document lists it. */
export interface CatalogEntry {
  /** HTTP method. */
  method: RouteMethod;
  /** Full path as express matches it, with `:name` parameters. */
  path: string;
  /** Group in the document (the mount point's, or the protocol's name). */
  tag: string;
  /** The declaration; none for a route a plugin added the plain express way. */
  declaration?: DeclarationDoc;
  /** Who added an undeclared route, e.g. `plugin 'x', protocol 'y'`. */
  source?: string;
}

/** The key under which express would take two routes for the same: method and path, any case. */
function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path.toLowerCase().replace(/:\w+/g, ':')}`;
}

/**
 * Every HTTP route of one server, in the order they were registered: what `GET /openapi.json`
 * describes. Routes get here through a RouteScope (`mount` or `scope`).
 */
export class ApiCatalog {
  private readonly list: CatalogEntry[] = [];
  private readonly keys = new Set<string>();
  /** The document's tags (groups) and their descriptions, in the order they were added. */
  readonly tags = new Map<string, string>();

  /** The routes, in registration order. */
  get entries(): readonly CatalogEntry[] {
    return this.list;
  }

  /** Whether a route with this method and path is listed. */
  has(method: string, path: string): boolean {
    return this.keys.has(routeKey(method, path));
  }

  /** Lists a route; a second route for the same method and path is a programming error. */
  add(entry: CatalogEntry): void {
    const key = routeKey(entry.method, entry.path);
    if (this.keys.has(key))
      throw new Error(`route ${entry.method.toUpperCase()} ${entry.path} is declared twice`);
    this.keys.add(key);
    this.list.push(entry);
  }

  /** Adds a tag (a group of routes) with its description; the first description stays. */
  tag(name: string, description: string): void {
    if (!this.tags.has(name)) this.tags.set(name, description);
  }

  /** Declares routes on `router` (or the app), which express serves under `prefix`. */
  scope(router: Router | Express, prefix: string, tag: string, description = ''): RouteScope {
    this.tag(tag, description);
    // An app routes like a router (get, post, … and its stack); only the declared methods are used.
    return new RouteScope(this, router as Router, prefix, tag);
  }

  /** Declares routes on a new router, mounted on `app` at `prefix` now (in this place of its order). */
  mount(app: Express, prefix: string, tag: string, description = ''): RouteScope {
    const router = Router();
    app.use(prefix, router);
    return this.scope(router, prefix, tag, description);
  }
}
