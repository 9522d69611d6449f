import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Express } from 'express';
import WebSocket from 'ws';
import { validate, compileErrors } from '@readme/openapi-parser';
import type { LiveViewServer } from '../../src/api/server.js';
import { StartLiveViewBody } from '../../src/api/requests.js';
import { listRoutes } from '../../src/api/openapi/router-routes.js';
import { standaloneSchema } from '../../src/api/openapi/schemas.js';
import {
  AUTH_DETECTOR_YAML,
  AUTH_TOKENS_YAML,
  TOKENS,
  call,
  login,
  openSocket,
  startAuthServer,
  type Credential,
} from '../helpers/auth.js';
import { waitFor } from '../helpers/server.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One operation of the document. */
interface Op {
  method: string;
  /** OpenAPI path, `{name}` parameters. */
  path: string;
  op: Doc;
}

const VIEWER: Credential = { bearer: TOKENS.viewer };
const OPERATOR: Credential = { bearer: TOKENS.operator };
const ADMIN: Credential = { bearer: TOKENS.admin };
const ROLE_BELOW: Record<string, Credential | undefined> = {
  operator: VIEWER,
  admin: OPERATOR,
};

/**
 * Routes the router has that are no API operation. The CORS preflight answers OPTIONS on every
 * path (a RegExp route): an OpenAPI path cannot express "any path".
 */
const NOT_OPERATIONS = ['OPTIONS /.*/'];

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** Every operation of a document. */
function operations(doc: Doc): Op[] {
  return Object.entries(doc.paths as Doc).flatMap(([path, ops]) =>
    Object.entries(ops as Doc).map(([method, op]) => ({ method, path, op: op as Doc })),
  );
}

/** `METHOD /express/:path` of a documented HTTP operation. */
const routeOf = (o: Op): string =>
  `${o.method.toUpperCase()} ${o.path.replace(/\{(\w+)\}/g, ':$1')}`;

/** The operation's URL with every path parameter filled in. */
const urlOf = (base: string, o: Op): string => `${base}${o.path.replace(/\{\w+\}/g, 'Camera')}`;

/** The component schema a `$ref` points at. */
function resolve(doc: Doc, schema: Doc): Doc {
  const ref = schema.$ref as string | undefined;
  return ref ? (doc.components.schemas[ref.split('/').pop() as string] as Doc) : schema;
}

/**
 * Opens a WebSocket to an Engine.IO endpoint as a viewer; resolves with its first message (the
 * open packet, sent right after the 101), then closes it. A refused handshake rejects.
 */
async function engineIoOpenPacket(url: string): Promise<string> {
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${TOKENS.viewer}` } });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  try {
    return await new Promise<string>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(data.toString()));
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`${url}: refused with ${res.statusCode}`)),
      );
      // Kept for good: terminating a refused handshake emits a second error.
      ws.on('error', reject);
    });
  } finally {
    ws.terminate();
    await closed;
  }
}

/** The document's HTTP operations compared with the express router's routes. */
function coverage(server: LiveViewServer, doc: Doc): { undocumented: string[]; stale: string[] } {
  const app = server.http.listeners('request')[0] as Express;
  const routed = listRoutes(app)
    .map((r) => `${r.method} ${r.path}`)
    .filter((r) => !NOT_OPERATIONS.includes(r));
  const documented = operations(doc)
    .filter((o) => !o.op['x-liveview-websocket'])
    .map(routeOf);
  return {
    undocumented: routed.filter((r) => !documented.includes(r)),
    stale: documented.filter((r) => !routed.includes(r)),
  };
}

describe('GET /openapi.json: the whole HTTP API, made from the route declarations', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  let doc: Doc;

  before(async () => {
    server = await startAuthServer(`${AUTH_DETECTOR_YAML}${AUTH_TOKENS_YAML}`);
    base = server.url;
    const answer = await call(`${base}/openapi.json`, { credential: VIEWER });
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.headers.get('content-type')).to.match(/^application\/json/);
    doc = answer.json as Doc;
  });
  afterEach(async () => {
    await server.controller.stopLiveView({ detectorName: 'Camera' });
    await waitFor(() => server.controller.getActiveStreams().length === 0);
  });
  after(async () => {
    await server?.stop();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, compileErrors(result)).to.equal(true);
    expect(doc.openapi).to.equal('3.1.0');
    expect(doc.info.version).to.equal(PACKAGE_VERSION);
    expect(doc.servers).to.deep.equal([{ url: '/', description: 'this server' }]);
    expect(doc.components.securitySchemes).to.have.keys('bearer', 'cookie', 'urlToken');
  });

  it('documents every route the express app has, and nothing it does not have', () => {
    const { undocumented, stale } = coverage(server, doc);
    expect(
      undocumented,
      'routes without a declaration: declare them with ApiRoutes.route (ARCHITECTURE.md, "The HTTP API contract")',
    ).to.deep.equal([]);
    expect(stale, 'documented operations the app does not route').to.deep.equal([]);
  });

  it('declares every built-in route and WebSocket (nothing listed as undocumented)', () => {
    const undocumented = operations(doc)
      .filter((o) => o.op['x-liveview-undocumented'])
      .map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(undocumented).to.deep.equal([]);
  });

  it('every operation names its role, in x-liveview-role and in its description', () => {
    for (const o of operations(doc)) {
      const role = o.op['x-liveview-role'] as string;
      expect(['public', 'viewer', 'operator', 'admin'], `${o.method} ${o.path}`).to.include(role);
      expect(o.op.description, `${o.method} ${o.path}`).to.match(
        role === 'public'
          ? /^Public|\n\nPublic/
          : new RegExp(role === 'viewer' ? 'credential' : role),
      );
    }
  });

  it('the role each operation names is the one enforced: no credential → 401, a weaker role → 403', async () => {
    for (const o of operations(doc).filter((x) => !x.op['x-liveview-websocket'])) {
      const name = `${o.method.toUpperCase()} ${o.path}`;
      const role = o.op['x-liveview-role'] as string;
      const anonymous = await call(urlOf(base, o), { method: o.method.toUpperCase() });
      if (role === 'public') {
        expect(anonymous.status, `${name} is public: ${anonymous.text}`).to.not.equal(401);
        continue;
      }
      expect(anonymous.status, `${name} without a credential`).to.equal(401);
      const weaker = ROLE_BELOW[role];
      if (weaker) {
        const refused = await call(urlOf(base, o), {
          method: o.method.toUpperCase(),
          credential: weaker,
        });
        expect(refused.status, `${name} with a role below ${role}`).to.equal(403);
        expect(refused.json?.message).to.include(`needs the ${role} role`);
      }
    }
    expect(server.controller.getActiveStreams(), 'a refused request started nothing').to.deep.equal(
      [],
    );
  });

  it('every documented WebSocket accepts a handshake with a credential (101)', async () => {
    // (An undocumented one has no query to fill in: the test above names it.)
    const sockets = operations(doc).filter(
      (o) => o.op['x-liveview-websocket'] && !o.op['x-liveview-undocumented'],
    );
    expect(sockets.map((o) => o.path)).to.include('/liveview/binary');
    for (const o of sockets) {
      // Required query parameters get their first allowed value, or their default.
      const query = new URLSearchParams();
      for (const p of (o.op.parameters ?? []) as Doc[]) {
        if (p.in === 'query' && p.required)
          query.set(p.name, String(p.schema?.enum?.[0] ?? p.schema?.default ?? 'Camera'));
      }
      const target = `${o.path}${query.size > 0 ? `?${query}` : ''}`;
      const url = `${base.replace(/^http/, 'ws')}${target}`;
      // A Socket.IO endpoint (its handshake takes Engine.IO's own `EIO` parameter) sends Engine.IO
      // packets such as `0{"sid":…}`, not the JSON text messages openSocket parses: for it the 101
      // and Engine.IO's open packet are checked on a bare WebSocket instead.
      if (((o.op.parameters ?? []) as Doc[]).some((p) => p.in === 'query' && p.name === 'EIO')) {
        expect(await engineIoOpenPacket(url), o.path).to.match(/^0\{.*"sid"/);
        continue;
      }
      const s = openSocket(url, { headers: { Authorization: `Bearer ${TOKENS.viewer}` } });
      try {
        await s.opened;
      } finally {
        await s.close();
      }
    }
    expect(sockets.map((o) => o.path)).to.include('/imswitch/socket.io/');
  });

  it("startLiveView's body schema is StartLiveViewBody's: protocol is required, a body without it is 400", async () => {
    const start = operations(doc).find((o) => o.op.operationId === 'startLiveView');
    const schema = resolve(doc, start?.op.requestBody.content['application/json'].schema as Doc);
    expect(schema).to.deep.equal(standaloneSchema(StartLiveViewBody));
    expect(schema.required).to.deep.equal(['protocol']);
    const url = `${base}/liveview/startLiveView`;
    const invalid = await call(url, {
      method: 'POST',
      credential: OPERATOR,
      json: { detectorName: 'Camera' },
    });
    expect(invalid.status).to.equal(400);
    expect(invalid.json?.message).to.equal('protocol: must be a non-empty string');
    const valid = await call(url, {
      method: 'POST',
      credential: OPERATOR,
      json: { detectorName: 'Camera', protocol: 'mjpeg' },
    });
    expect(valid.status, valid.text).to.equal(200);
  });

  it('every JSON body class: a missing required key, an unknown key or another media type is refused as documented', async () => {
    const withBodies = operations(doc).filter(
      (o) => o.op.requestBody?.content['application/json']?.schema?.$ref,
    );
    expect(withBodies.length).to.be.above(3);
    for (const o of withBodies) {
      const name = `${o.method.toUpperCase()} ${o.path}`;
      const schema = resolve(doc, o.op.requestBody.content['application/json'].schema as Doc);
      expect(schema.additionalProperties, name).to.equal(false);
      const send = (init: { json?: unknown; body?: string; headers?: Record<string, string> }) =>
        call(urlOf(base, o), { method: o.method.toUpperCase(), credential: ADMIN, ...init });
      const required = (schema.required ?? []) as string[];
      if (required.length > 0) {
        const missing = await send({ json: {} });
        expect(missing.status, `${name} {}`).to.equal(400);
        for (const key of required) expect(missing.json?.message, name).to.include(`${key}: `);
      }
      const unknown = await send({ json: { no_such_key: 1 } });
      expect(unknown.status, `${name} unknown key`).to.equal(400);
      expect(unknown.json?.message, name).to.include('no_such_key: unknown key');
      expect(Object.keys(o.op.responses), name).to.include('415');
      const text = await send({ body: 'x', headers: { 'Content-Type': 'text/plain' } });
      expect(text.status, `${name} text/plain`).to.equal(415);
    }
  });

  it('every required query parameter left out is a 400 naming it', async () => {
    const withQuery = operations(doc).filter((o) =>
      (o.op.parameters ?? []).some((p: Doc) => p.in === 'query' && p.required),
    );
    expect(withQuery.map((o) => o.op.operationId)).to.include('getStreamParams');
    for (const o of withQuery) {
      const answer = await call(urlOf(base, o), {
        method: o.method.toUpperCase(),
        credential: ADMIN,
      });
      expect(answer.status, o.path).to.equal(400);
      for (const p of o.op.parameters.filter((x: Doc) => x.in === 'query' && x.required))
        expect(answer.json?.message).to.include(`query parameter '${p.name}' is required`);
    }
  });

  it("the protocols' params schemas are their classes': a value the schema excludes is refused", async () => {
    const params = doc['x-liveview-protocol-params'] as Record<string, Doc>;
    expect(Object.keys(params).sort()).to.deep.equal(['binary', 'mjpeg', 'webrtc']);
    const set = (protocol: string, values: Record<string, unknown>) =>
      call(`${base}/liveview/setStreamParams`, {
        method: 'POST',
        credential: OPERATOR,
        json: { protocol, params: values },
      });
    let checked = 0;
    for (const [protocol, ref] of Object.entries(params)) {
      const before = server.controller.getStreamParams(protocol);
      for (const [key, p] of Object.entries(resolve(doc, ref).properties as Record<string, Doc>)) {
        const outside: unknown[] = [];
        if (typeof p.maximum === 'number') outside.push(p.maximum + 1);
        if (typeof p.minimum === 'number') outside.push(p.minimum - 1);
        if (Array.isArray(p.enum)) outside.push('not-one-of-them');
        if (p.type === 'array') outside.push('not a list');
        for (const value of outside) {
          const answer = await set(protocol, { [key]: value });
          expect(answer.status, `${protocol}.${key} = ${JSON.stringify(value)}`).to.equal(400);
          expect(answer.json?.message).to.include(`params.${key}`);
          checked++;
        }
      }
      expect(server.controller.getStreamParams(protocol), 'refusals changed nothing').to.deep.equal(
        before,
      );
    }
    expect(checked).to.be.above(20);
    const top = resolve(doc, params.mjpeg).properties.jpeg_quality as Doc;
    expect((await set('mjpeg', { jpeg_quality: top.maximum })).status).to.equal(200);
    expect((await set('mjpeg', { jpeg_quality: top.default })).status).to.equal(200);
  });

  it('follows the pages: without a credential 401 (JSON), /api.html leads to the login page and, logged in, loads api.js', async () => {
    expect((await call(`${base}/openapi.json`)).status).to.equal(401);
    const visit = await call(`${base}/api.html`, { headers: { Accept: 'text/html' } });
    expect(visit.status).to.equal(303);
    expect(visit.headers.get('location')).to.equal('/login.html?next=%2Fapi.html');
    const { cookie } = await login(base, TOKENS.viewer);
    const page = await call(`${base}/api.html`, { credential: { cookie } });
    expect(page.status).to.equal(200);
    expect(page.text).to.include('src="api.js"');
    const script = await call(`${base}/api.js`, { credential: { cookie } });
    expect(script.status).to.equal(200);
    expect(script.text).to.include('/openapi.json');
    const index = await call(`${base}/`, { credential: { cookie } });
    expect(index.text).to.include('href="api.html"');
  });
});

describe("GET /openapi.json lists a third-party plugin's plain express route as undocumented", function () {
  this.timeout(30_000);
  let server: LiveViewServer;

  before(async () => {
    server = await startAuthServer(`
plugins:
  - ./plugins/counter-protocol
detectors:
  Camera:
    type: mock
    options: { width: 64, height: 48, fps: 10 }
`);
  });
  after(async () => {
    await server?.stop();
  });

  it('served as before, documented generically with the plugin named, and still a valid document', async () => {
    const doc = (await call(`${server.url}/openapi.json`)).json as Doc;
    const counter = doc.paths['/liveview/counter']?.get as Doc | undefined;
    expect(counter?.['x-liveview-undocumented']).to.equal(true);
    expect(counter?.summary).to.include("plugin 'counter', protocol 'counter'");
    expect(counter?.tags).to.deep.equal(['counter']);
    const { undocumented, stale } = coverage(server, doc);
    expect(undocumented).to.not.include('GET /liveview/counter');
    expect(stale).to.deep.equal([]);
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, compileErrors(result)).to.equal(true);
    expect((await call(`${server.url}/liveview/counter`)).json?.status).to.equal('success');
    // Authentication is off here: no security schemes, and the document says so.
    expect(doc.components.securitySchemes).to.equal(undefined);
    expect(doc.info.description).to.include('Authentication is off');
  });
});
