/** One route of an express router: `method` upper case (`ALL` for app.all), path as written. */
export interface RouterRoute {
  /** HTTP method, upper case. */
  method: string;
  /** Full path as express matches it (`/x/:id`); a RegExp route as its source between slashes. */
  path: string;
}

/** What this module reads of express's router layers. */
export interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * A mount prefix and a route path joined the way express matches them: `/x` + `/` is `/x` (not
 * strict), and the root mount `/` adds nothing.
 */
export function joinPath(prefix: string, path: string): string {
  const head = prefix === '/' ? '' : prefix;
  if (path === '/' && head !== '') return head;
  return `${head}${path}`;
}

/** The routes of layers (mounted routers walked into), each with its full path. */
export function routesOf(stack: readonly Layer[], prefix = ''): RouterRoute[] {
  const routes: RouterRoute[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const path = joinPath(prefix, String(layer.route.path));
      for (const method of Object.keys(layer.route.methods)) {
        routes.push({ method: method === '_all' ? 'ALL' : method.toUpperCase(), path });
      }
    } else if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === 'string' ? layer.rawPath : '';
      routes.push(...routesOf(layer.handle.stack, joinPath(prefix, mount)));
    }
  }
  return routes;
}

/** The layer stack of an express app or router (an app keeps it on its router). */
export function stackOf(appOrRouter: unknown): Layer[] {
  const r = appOrRouter as { stack?: Layer[]; router?: { stack?: Layer[] } };
  return r.stack ?? r.router?.stack ?? [];
}

/** Every route an express app or router serves, mounted routers included (static files are no routes). */
export function listRoutes(appOrRouter: unknown): RouterRoute[] {
  return routesOf(stackOf(appOrRouter));
}
