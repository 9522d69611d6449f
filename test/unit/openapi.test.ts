import 'reflect-metadata';
import { expect } from 'chai';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { IsOptional, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { validate } from '@readme/openapi-parser';
import { BadRequestError } from '../../src/core/errors.js';
import { httpErrorOf } from '../../src/api/errors.js';
import {
  FiniteNumber,
  Flag,
  IntegerIn,
  Mapping,
  OneOf,
  Text,
  TextList,
} from '../../src/core/validation.js';
import { ApiCatalog } from '../../src/api/openapi/catalog.js';
import { buildOpenApiDocument, type DocumentSources } from '../../src/api/openapi/document.js';
import { parseQuery } from '../../src/api/openapi/query.js';
import { SchemaRegistry, standaloneSchema } from '../../src/api/openapi/schemas.js';
import { listRoutes } from '../../src/api/openapi/router-routes.js';

class Lens {
  /** Focal length in mm. */
  @IntegerIn(1, 500)
  focal_mm = 50;
}

class WidgetBody {
  @Text()
  name!: string;

  @IntegerIn(1, 10)
  count = 3;

  @OneOf(['a', 'b'])
  mode: 'a' | 'b' = 'a';

  @IsOptional()
  @Mapping()
  extra?: Record<string, unknown>;

  @TextList()
  tags: string[] = [];

  @ValidateNested({ each: true })
  @Type(() => Lens)
  lenses: Lens[] = [];

  /** A default that does not pass: the key must be sent. */
  @Text()
  code = '';
}

class WidgetQuery {
  @Text()
  kind!: string;

  @IsOptional()
  @IntegerIn(1, 100)
  limit?: number;

  @IsOptional()
  @FiniteNumber()
  scale?: number;

  @IsOptional()
  @Flag()
  all?: boolean;
}

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A catalog with a few declared routes on a real express router, mounted at /api. */
function fixture(): { catalog: ApiCatalog; app: express.Express } {
  const app = express();
  const catalog = new ApiCatalog();
  const api = catalog.mount(app, '/api', 'widgets', 'Widgets of the fixture');
  api.route({
    method: 'post',
    path: '/widgets',
    summary: 'Makes a widget',
    role: 'operator',
    body: WidgetBody,
    responses: { 200: 'The widget.' },
    handler: () => undefined,
  });
  api.route({
    method: 'get',
    path: '/widgets/:id',
    summary: 'One widget',
    role: 'viewer',
    pathParams: { id: 'Its id' },
    query: WidgetQuery,
    responses: { 200: 'The widget.' },
    handler: () => undefined,
  });
  api.route({
    method: 'get',
    path: '/ping',
    summary: 'Public ping',
    role: 'public',
    responses: { 200: { description: 'Text.', contentType: 'text/plain' } },
    handler: () => undefined,
  });
  return { catalog, app };
}

function sources(catalog: ApiCatalog, authEnabled: boolean): DocumentSources {
  return {
    version: '9.9.9',
    routes: catalog.entries,
    tags: catalog.tags,
    websockets: [
      { path: '/ws', tag: 'widgets', doc: { summary: 'Widget events', role: 'viewer' } },
      { path: '/raw-ws', tag: 'websockets' },
    ],
    protocols: [{ name: 'lensy', paramsClass: Lens }],
    authEnabled,
  };
}

describe('OpenAPI: schemas from the validating classes', () => {
  it('converts the core rules, requires exactly what the validator refuses to miss, shows defaults', () => {
    const registry = new SchemaRegistry();
    registry.ref(WidgetBody);
    const schema = registry.schemas.WidgetBody as Doc;
    expect(schema.additionalProperties).to.equal(false);
    expect(schema.required).to.deep.equal(['name', 'code']);
    expect(schema.properties.name).to.deep.equal({ type: 'string', minLength: 1 });
    expect(schema.properties.count).to.deep.equal({
      type: 'integer',
      minimum: 1,
      maximum: 10,
      default: 3,
    });
    expect(schema.properties.mode).to.deep.equal({
      type: 'string',
      enum: ['a', 'b'],
      default: 'a',
    });
    expect(schema.properties.extra).to.deep.equal({ type: 'object' });
    expect(schema.properties.tags.items).to.deep.equal({ type: 'string', minLength: 1 });
    expect(schema.properties.lenses).to.deep.include({
      type: 'array',
      items: { $ref: '#/components/schemas/Lens' },
    });
    // Every key of Lens has a valid default: nothing is required.
    expect((registry.schemas.Lens as Doc).required).to.equal(undefined);
    expect((registry.schemas.Lens as Doc).properties.focal_mm.maximum).to.equal(500);
  });

  it('names two classes of the same name apart', () => {
    const registry = new SchemaRegistry(['Error']);
    const a = class Error {};
    expect(registry.nameOf(a)).to.equal('Error2');
    expect(registry.nameOf(Lens)).to.equal('Lens');
    expect(registry.nameOf(Lens)).to.equal('Lens');
  });
});

describe('OpenAPI: the query parser follows the schema', () => {
  it('converts numbers and flags, ignores unknown keys and empty values', () => {
    const q = parseQuery(WidgetQuery, {
      kind: 'x',
      limit: '7',
      scale: '-1.5e1',
      all: 'true',
      token: 'abc',
      unknown: '1',
    });
    expect(q).to.include({ kind: 'x', limit: 7, scale: -15, all: true });
    expect(parseQuery(WidgetQuery, { kind: 'x', limit: '' }).limit).to.equal(undefined);
  });

  it('a missing required key, a key given twice and a bad value: one 400 naming each, plus the hint', () => {
    expect(() => parseQuery(WidgetQuery, {}, () => 'known kinds: x, y'))
      .to.throw(BadRequestError)
      .with.property('message', "query parameter 'kind' is required (known kinds: x, y)");
    expect(() => parseQuery(WidgetQuery, { kind: ['a', 'b'] }))
      .to.throw(BadRequestError)
      .with.property('message', "query parameter 'kind' must be given once");
    expect(() => parseQuery(WidgetQuery, { kind: 'x', limit: '500', all: 'yes' }))
      .to.throw(BadRequestError)
      .with.property(
        'message',
        "query parameter 'limit' must be an integer between 1 and 100; query parameter 'all' must be true or false",
      );
  });

  it('the schema the parser uses is the one the document shows', () => {
    const schema = standaloneSchema(WidgetQuery) as Doc;
    expect(schema.required).to.deep.equal(['kind']);
    expect(schema.properties.limit.type).to.equal('integer');
  });
});

describe('OpenAPI: route declarations', () => {
  it('registers the express handler and the entry, with the full path', () => {
    const { catalog, app } = fixture();
    expect(listRoutes(app).map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      'POST /api/widgets',
      'GET /api/widgets/:id',
      'GET /api/ping',
    ]);
    expect(catalog.entries.map((e) => `${e.method} ${e.path}`)).to.deep.equal([
      'post /api/widgets',
      'get /api/widgets/:id',
      'get /api/ping',
    ]);
  });

  it('refuses a path OpenAPI cannot show, and a route declared twice', () => {
    const { catalog, app } = fixture();
    const api = catalog.scope(app, '', 'x');
    const route = (path: string) => () =>
      api.route({
        method: 'get',
        path,
        summary: 's',
        role: 'viewer',
        responses: {},
        handler: () => undefined,
      });
    expect(route('/files/*rest')).to.throw(TypeError, /no wildcards/);
    expect(route('/a{/:b}')).to.throw(TypeError);
    expect(route('/API/Widgets/:other')).to.throw(/declared twice/);
  });

  it('lists routes a plugin added the plain way as undocumented, naming the plugin', () => {
    const { catalog, app } = fixture();
    const router = express.Router();
    app.use('/plug', router);
    const api = catalog.scope(router, '/plug', 'plug');
    api.adoptPlainRoutes("plugin 'p'", () => {
      router.get('/counter', (_req, res) => res.end());
      api.route({
        method: 'get',
        path: '/declared',
        summary: 's',
        role: 'viewer',
        responses: { 200: 'ok' },
        handler: () => undefined,
      });
    });
    const plain = catalog.entries.find((e) => e.path === '/plug/counter');
    expect(plain).to.deep.include({ method: 'get', source: "plugin 'p'" });
    expect(plain?.declaration).to.equal(undefined);
    expect(catalog.entries.filter((e) => e.path === '/plug/declared')).to.have.length(1);
  });

  it('a wrong query and a wrong body: one 400 naming both, the hint once; another body type is a 415', async () => {
    const app = express();
    app.use(express.json());
    let handled = 0;
    new ApiCatalog().scope(app, '', 'x').route({
      method: 'post',
      path: '/both',
      summary: 's',
      role: 'public',
      query: WidgetQuery,
      body: WidgetBody,
      hint: () => 'see /help',
      responses: { 200: 'ok' },
      handler: (_req, res) => {
        handled++;
        res.json({ status: 'success' });
      },
    });
    const toJson: ErrorRequestHandler = (err, _req, res, _next) => {
      const { status, message } = httpErrorOf(err);
      res.status(status).json({ status: 'error', message });
    };
    app.use(toJson);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const post = (query: string, type: string, body: string) =>
        fetch(`http://127.0.0.1:${port}/both${query}`, {
          method: 'POST',
          headers: { 'Content-Type': type },
          body,
        });
      const bad = await post('?limit=5', 'application/json', '{"name":"w","code":"c","nope":1}');
      expect(bad.status).to.equal(400);
      const { message } = (await bad.json()) as { message: string };
      expect(message).to.match(
        /^query parameter 'kind' is required; nope: unknown key .*\(see \/help\)$/,
      );
      expect(message.split('see /help')).to.have.length(2);
      expect((await post('', 'text/plain', 'x')).status).to.equal(415);
      const good = await post('?kind=k', 'application/json', '{"name":"w","code":"c"}');
      expect(good.status, await good.text()).to.equal(200);
      expect(handled).to.equal(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('OpenAPI: the document builder', () => {
  it('makes a valid OpenAPI 3.1 document (auth on and off)', async () => {
    for (const auth of [true, false]) {
      const doc = buildOpenApiDocument(sources(fixture().catalog, auth));
      const result = await validate(structuredClone(doc) as never);
      expect(result.valid, JSON.stringify(result)).to.equal(true);
      expect(doc.openapi).to.equal('3.1.0');
    }
  });

  it('the validator is not a rubber stamp: a path parameter left out is an error', async () => {
    const doc = buildOpenApiDocument(sources(fixture().catalog, true)) as Doc;
    delete doc.paths['/api/widgets/{id}'].get.parameters;
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid).to.equal(false);
  });

  it('operations: role in x-liveview-role and the description, parameters, body, errors, security', () => {
    const doc = buildOpenApiDocument(sources(fixture().catalog, true)) as Doc;
    expect(doc.info.version).to.equal('9.9.9');
    expect(doc.servers).to.deep.equal([{ url: '/', description: 'this server' }]);
    const post = doc.paths['/api/widgets'].post;
    expect(post['x-liveview-role']).to.equal('operator');
    expect(post.description).to.include('operator role');
    expect(post.requestBody).to.deep.equal({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/WidgetBody' } } },
    });
    expect(Object.keys(post.responses).sort()).to.deep.equal(
      ['200', '400', '401', '403', '415', 'default'].sort(),
    );
    expect(post.responses['200'].content['application/json'].schema).to.deep.equal({
      $ref: '#/components/schemas/Success',
    });
    expect(post.security).to.equal(undefined);
    const get = doc.paths['/api/widgets/{id}'].get;
    expect(get.parameters.map((p: Doc) => [p.name, p.in, p.required])).to.deep.equal([
      ['id', 'path', true],
      ['kind', 'query', true],
      ['limit', 'query', false],
      ['scale', 'query', false],
      ['all', 'query', false],
    ]);
    expect(get.parameters[0].description).to.equal('Its id');
    expect(get.responses['404']).to.deep.equal({ $ref: '#/components/responses/NotFound' });
    expect(get.security).to.deep.include({ urlToken: [] });
    const ping = doc.paths['/api/ping'].get;
    expect(ping['x-liveview-role']).to.equal('public');
    expect(ping.security).to.deep.include({});
    expect(ping.responses['401']).to.equal(undefined);
    expect(ping.responses['200'].content).to.have.key('text/plain');
    expect(doc.components.schemas.Error.required).to.deep.equal(['status', 'message']);
    expect(doc.components.securitySchemes).to.have.keys('bearer', 'cookie', 'urlToken');
    expect(doc['x-liveview-protocol-params']).to.deep.equal({
      lensy: { $ref: '#/components/schemas/Lens' },
    });
  });

  it('WebSocket endpoints are GET operations answered 101, marked; one without doc is undocumented', () => {
    const doc = buildOpenApiDocument(sources(fixture().catalog, false)) as Doc;
    const ws = doc.paths['/ws'].get;
    expect(ws['x-liveview-websocket']).to.equal(true);
    expect(ws.responses['101'].description).to.match(/Switching Protocols/);
    expect(ws['x-liveview-undocumented']).to.equal(undefined);
    expect(doc.paths['/raw-ws'].get['x-liveview-undocumented']).to.equal(true);
    // Without authentication: no security schemes, no 401.
    expect(doc.components.securitySchemes).to.equal(undefined);
    expect(ws.responses['401']).to.equal(undefined);
  });

  it('operation ids are unique even when derived ones collide', () => {
    const app = express();
    const catalog = new ApiCatalog();
    const api = catalog.scope(app, '', 't');
    for (const path of ['/a-b', '/a_b']) {
      api.route({
        method: 'get',
        path,
        summary: 's',
        role: 'viewer',
        responses: { 200: 'ok' },
        handler: () => undefined,
      });
    }
    const doc = buildOpenApiDocument({ ...sources(catalog, false), websockets: [] }) as Doc;
    expect([doc.paths['/a-b'].get.operationId, doc.paths['/a_b'].get.operationId]).to.deep.equal([
      'getAB',
      'getAB2',
    ]);
  });
});
