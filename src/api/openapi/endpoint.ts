import { readFileSync } from 'node:fs';
import type { ApiRoutes } from '../../core/api-routes.js';
import { buildOpenApiDocument, type DocumentSources } from './document.js';

/** The package's version (from dist/src/api/openapi/, package.json is four folders up). */
function packageVersion(): string {
  const url = new URL('../../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/**
 * Declares `GET /openapi.json` on `routes`. The document is made at the first request (every
 * route, protocol and WebSocket endpoint is registered by then) and kept: they do not change
 * while the server runs.
 */
export function serveOpenApi(
  routes: ApiRoutes,
  sources: () => Omit<DocumentSources, 'version'>,
): void {
  let text: string | undefined;
  routes.route({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This API as an OpenAPI 3.1 document',
    description:
      'Generated from the declarations of the routes and the classes that validate their requests; the reference page /api.html shows it.',
    role: 'viewer',
    responses: {
      200: { description: 'The OpenAPI 3.1 document.', schema: { type: 'object' } },
    },
    handler: (_req, res) => {
      text ??= JSON.stringify(buildOpenApiDocument({ version: packageVersion(), ...sources() }));
      res.type('application/json').send(text);
    },
  });
}
