import { expect } from 'chai';
import fc from 'fast-check';
import type { LiveViewServer } from '../../src/api/server.js';
import type { StreamParams } from '../../src/core/stream-params.js';
import { knownKeys, type ValidatedClass } from '../../src/core/validation.js';
import { BinaryParams } from '../../src/protocols/binary/params.js';
import { MjpegParams } from '../../src/protocols/mjpeg/params.js';
import { WebrtcParams } from '../../src/protocols/webrtc/params.js';
import { BinaryClient } from '../helpers/binary-client.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';
import {
  OBJECT_MEMBER_KEYS,
  urlPart,
  hasObjectMemberKey,
  setsLongThrottle,
  hasProtoKey,
  nastyKey,
  nastyString,
  nastyValue,
  objectOf,
  oneFieldWrong,
  paramsArbitrary,
  serverRuns,
  snapshot,
  someOf,
} from '../helpers/arbitraries.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 128, height: 96, fps: 30 }
`;
const PROTOCOLS = ['mjpeg', 'binary', 'webrtc'] as const;
const CLASSES: Record<(typeof PROTOCOLS)[number], ValidatedClass<StreamParams>> = {
  mjpeg: MjpegParams,
  binary: BinaryParams,
  webrtc: WebrtcParams,
};

/** A request: endpoint, body text and content type. */
interface Req {
  path: string;
  body: string;
  contentType: string;
  /** The parsed body as sent (undefined for text that is not JSON). */
  json?: unknown;
}

const jsonReq = (path: string, value: unknown): Req => ({
  path,
  body: JSON.stringify(value) ?? 'null',
  contentType: 'application/json',
  json: value,
});

const protocolName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PROTOCOLS) },
  fc.constantFrom('MJPEG', 'rtsp', ''),
  nastyValue,
);
const detectorName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('Camera', undefined) },
  fc.constantFrom('', 'camera', 'Nope'),
  nastyValue,
);
/** Params this property covers; the others are the subject of regression tests. */
function paramsInScope(params: unknown): boolean {
  return !setsLongThrottle(params) && !hasObjectMemberKey(params);
}
/** The same for a whole body (an extra `params` key may replace the generated one). */
function bodyInScope(req: Req): boolean {
  return paramsInScope((req.json as { params?: unknown } | undefined)?.params);
}
/** Params for a protocol name (anything for an unknown one). */
const paramsFor = (protocol: unknown) =>
  (PROTOCOLS as readonly unknown[]).includes(protocol)
    ? paramsArbitrary(protocol as (typeof PROTOCOLS)[number])
        // Throttle changes: the regression test in binary-ws.test.ts.
        // Prototype-member names (valueOf, …): the regression test below.
        .filter(paramsInScope)
    : nastyValue;
const extras = fc.array(fc.tuple(nastyKey, nastyValue), { maxLength: 1 });

/** Writable mock parameters kept cheap for a running camera (small images, no faults). */
const cheapDetectorParams = {
  exposure_ms: fc.double({ min: 0.01, max: 20, noNaN: true }),
  gain: fc.double({ min: 0.1, max: 64, noNaN: true }),
  fps: fc.double({ min: 10, max: 60, noNaN: true }),
  pattern: fc.constantFrom('features', 'gradient', 'noise'),
  noise: fc.double({ min: 0, max: 100, noNaN: true }),
  width: fc.integer({ min: 64, max: 256 }),
  height: fc.integer({ min: 32, max: 256 }),
  pixel_code: fc.boolean(),
};
/** Accepting this would make the running camera expensive or stop it: not what this test is about. */
function tooCostly(v: Record<string, unknown>): boolean {
  const big = (k: string, max: number) => typeof v[k] === 'number' && (v[k] as number) > max;
  const small = (k: string, min: number) => typeof v[k] === 'number' && (v[k] as number) < min;
  return (
    big('width', 256) ||
    big('height', 256) ||
    big('exposure_ms', 100) ||
    small('fps', 5) ||
    (typeof v.fault === 'string' && v.fault !== 'none')
  );
}

const request: fc.Arbitrary<Req> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(detectorName, protocolName, extras)
      .chain(([d, p, extra]) =>
        fc
          .option(paramsFor(p), { nil: undefined })
          .map((params) =>
            jsonReq(
              '/liveview/startLiveView',
              objectOf([
                ...(d === undefined ? [] : [['detectorName', d] as const]),
                ['protocol', p],
                ...(params === undefined ? [] : [['params', params] as const]),
                ...extra,
              ]),
            ),
          ),
      )
      .filter(bodyInScope),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(protocolName, extras)
      .chain(([p, extra]) =>
        paramsFor(p).map((params) =>
          jsonReq(
            '/liveview/setStreamParams',
            objectOf([['protocol', p], ['params', params], ...extra]),
          ),
        ),
      )
      .filter(bodyInScope),
  },
  // stopLiveView that names no running stream (stopping ours is valid and not what is tested).
  fc
    .tuple(
      fc
        .oneof(fc.constantFrom('Nope', 'camera', ' Camera'), nastyValue)
        .filter((d) => d !== undefined && d !== null && d !== '' && d !== 'Camera'),
      fc.option(protocolName, { nil: undefined }),
    )
    .map(([d, p]) =>
      jsonReq(
        '/liveview/stopLiveView',
        p === undefined ? { detectorName: d } : { detectorName: d, protocol: p },
      ),
    ),
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        someOf(cheapDetectorParams),
        oneFieldWrong(someOf(cheapDetectorParams), [
          ...Object.keys(cheapDetectorParams),
          'dtype',
          'fault',
          '__proto__',
        ]).map((w) => w.value),
        fc.array(fc.tuple(nastyKey, nastyValue), { maxLength: 3 }).map(objectOf),
        nastyValue,
      )
      .filter(
        (v) => typeof v !== 'object' || v === null || !tooCostly(v as Record<string, unknown>),
      )
      .map((v) => jsonReq('/liveview/detectors/Camera/parameters', v)),
  },
  // The design note's signaling with anything but a valid offer.
  fc
    .record(
      {
        detectorName: detectorName,
        sdp: fc.oneof(nastyString, nastyValue),
        type: fc.oneof(fc.constant('offer'), nastyValue),
      },
      { requiredKeys: [] },
    )
    .map((body) => jsonReq('/liveview/webrtc_offer', body)),
  // Bodies that are not JSON, or not labelled as JSON.
  fc
    .tuple(
      fc.constantFrom(
        '/liveview/startLiveView',
        '/liveview/setStreamParams',
        // stopLiveView with a non-JSON body: the regression test below.
        '/liveview/detectors/Camera/parameters',
      ),
      fc.oneof(nastyString, fc.constantFrom('{', '{"protocol":', '[1,', '\u0000', '{"a":1}{')),
      fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
    )
    .map(([path, body, contentType]) => ({ path, body, contentType })),
  fc
    .oneof(nastyString, fc.constantFrom('{', '{"protocol":', '[1,', '\u0000', '{"a":1}{'))
    // An empty body is "stop every stream of the default detector", as documented.
    // (A `null` body too: the regression test below.)
    .filter((body) => body.trim().length > 0 && body.trim() !== 'null')
    .map((body) => ({ path: '/liveview/stopLiveView', body, contentType: 'application/json' })),
);

/** GET requests with adversarial path segments and queries (never an endless MJPEG stream). */
const getRequest: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.tuple(fc.constantFrom('protocol', 'protocol[]', 'protocol[a]', 'x'), urlPart), {
      maxLength: 3,
    })
    .map((q) => `/liveview/getStreamParams?${q.map(([k, v]) => `${k}=${v}`).join('&')}`),
  urlPart.map((d) => `/liveview/detectors/${d}`),
  fc.tuple(urlPart, urlPart).map(([d, f]) => `/liveview/detectors/${d}/features/${f}`),
  urlPart.map((d) => `/liveview/snapshot.jpg?detectorName=${d}`),
  urlPart
    .filter((d) => d !== 'Camera' && d !== '')
    .map((d) => `/liveview/mjpeg?detectorName=${d}&detectorName=${d}`),
  urlPart.map((d) => `/liveview/whep/${d}/${d}`),
);

interface StreamInfo {
  detectorName: string;
  protocol: string;
  params: StreamParams;
}

describe('property: REST params endpoints on a real server', function () {
  this.timeout(60_000);
  let server: LiveViewServer;
  let base: string;
  let well: BinaryClient;
  let defaults: Record<string, string>;
  let detectorDefaults: Record<string, unknown>;

  const streams = async () =>
    ((await getJson(`${base}/liveview/getActiveStreams`)).json.streams as StreamInfo[]).map(
      (s) => ({
        key: `${s.detectorName}/${s.protocol}`,
        params: snapshot(s.params),
      }),
    );
  const protocolDefaults = async () => {
    const out: Record<string, string> = {};
    for (const p of PROTOCOLS) {
      out[p] = snapshot(
        (await getJson(`${base}/liveview/getStreamParams?protocol=${p}`)).json.params,
      );
    }
    return out;
  };
  const detectorParams = () =>
    snapshot(server.controller.detectors.detector('Camera').getParameters());

  /** Sends a request; checks the answer is 2xx, or a 4xx `{status: 'error', message}` (never 5xx). */
  const send = async (req: Req): Promise<number> => {
    const res = await fetch(`${base}${req.path}`, {
      method: 'POST',
      headers: req.contentType ? { 'Content-Type': req.contentType } : {},
      body: req.body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    expect(res.status, `${req.path} ${req.body.slice(0, 300)} → ${text.slice(0, 300)}`).to.be.below(
      500,
    );
    const body = JSON.parse(text) as { status?: string; message?: unknown };
    if (res.status >= 400) {
      expect(body.status).to.equal('error');
      expect(body.message).to.be.a('string').and.have.length.above(0);
    } else expect(body.status).to.equal('success');
    return res.status;
  };

  before(async () => {
    server = await startTestServer(YAML);
    base = server.url;
    expect(
      (await postJson(`${base}/liveview/startLiveView`, { protocol: 'mjpeg' })).status,
    ).to.equal(200);
    well = await new BinaryClient().connect(
      `${base.replace('http', 'ws')}/liveview/binary?detectorName=Camera`,
    );
    await waitFor(() => well.frames.length >= 2, 10_000);
    defaults = await protocolDefaults();
    detectorDefaults = server.controller.detectors.detector('Camera').getParameters();
  });
  after(async () => {
    await well?.close();
    await server?.stop();
  });

  it('any request: 2xx, or a 4xx JSON error; a rejected one changes no running stream, no default and no detector parameter', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        run++;
        const before = {
          streams: await streams(),
          defaults: await protocolDefaults(),
          detector: detectorParams(),
        };
        const status = await send(req);
        if (status >= 400) {
          expect(await streams(), 'a rejected request changed a running stream').to.deep.equal(
            before.streams,
          );
          expect(await protocolDefaults(), 'a rejected request changed the defaults').to.deep.equal(
            before.defaults,
          );
          expect(detectorParams(), 'a rejected request changed the detector').to.equal(
            before.detector,
          );
        } else {
          // Accepted: prototype keys must never have been among the params.
          const { params, protocol } = (req.json ?? {}) as { params?: unknown; protocol?: unknown };
          expect(hasProtoKey(params), `accepted prototype keys: ${req.body}`).to.equal(false);
          if (
            typeof params === 'object' &&
            params !== null &&
            typeof protocol === 'string' &&
            Object.hasOwn(CLASSES, protocol)
          ) {
            const known = knownKeys(CLASSES[protocol as (typeof PROTOCOLS)[number]]);
            for (const key of Object.keys(params as object)) {
              expect(known, `accepted an unknown params key: ${req.body}`).to.include(key);
            }
          }
          // Back to the starting point for the next input.
          const had = new Set(before.streams.map((s) => s.key));
          for (const s of await streams()) {
            if (!had.has(s.key)) {
              const [detectorName, protocol] = s.key.split('/');
              await server.controller.stopLiveView({ detectorName, protocol });
            }
          }
          for (const p of PROTOCOLS) server.controller.setStreamParams(p, JSON.parse(defaults[p]));
          if (req.path.includes('/parameters')) {
            const writable = { ...detectorDefaults };
            for (const k of ['dtype', 'bit_depth', 'channels']) delete writable[k];
            await server.controller.detectors.detector('Camera').setParameters(writable);
          }
        }
        expect(well.closeCode, 'the binary client was closed').to.equal(undefined);
        if (run % 15 === 0) {
          const seen = well.frames.length;
          await waitFor(() => well.frames.length > seen, 5000);
        }
      }),
      serverRuns(150),
    );
    const seen = well.frames.length;
    await waitFor(() => well.frames.length >= seen + 3, 5000);
    expect((await streams()).map((s) => s.key).sort()).to.deep.equal([
      'Camera/binary',
      'Camera/mjpeg',
    ]);
  });

  it('GET endpoints with adversarial path segments and queries: 2xx, or a 4xx JSON error; streams unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(getRequest, async (path) => {
        const before = (await streams()).map((s) => s.key).sort();
        const method = path.startsWith('/liveview/whep/') ? 'DELETE' : 'GET';
        const res = await fetch(`${base}${path}`, { method, signal: AbortSignal.timeout(10_000) });
        const type = res.headers.get('content-type') ?? '';
        if (res.status >= 400) {
          const text = await res.text();
          expect(res.status, `${method} ${path} → ${text.slice(0, 300)}`).to.be.below(500);
          const json = JSON.parse(text) as { status?: string; message?: unknown };
          expect(json.status).to.equal('error');
          expect(json.message).to.be.a('string').and.have.length.above(0);
        } else {
          expect(type, `${method} ${path}`).to.match(/json|image\/jpeg|multipart/);
          await res.body?.cancel();
        }
        if (method === 'DELETE' || path.startsWith('/liveview/getStreamParams')) {
          expect((await streams()).map((s) => s.key).sort()).to.deep.equal(before);
        }
      }),
      serverRuns(100),
    );
    expect(well.closeCode).to.equal(undefined);
  });

  it('a JSON body nested ~2000+ levels deep (a few KB) is a 400, not a 500 "Maximum call stack size exceeded"', async () => {
    // Found here: parseBody → validateInto → class-transformer's plainToInstance recursed into
    // every value without a depth limit, e.g.
    // POST /liveview/setStreamParams {"protocol":"mjpeg","params":{"x":[[[…2000…]]]}} → 500.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/liveview/startLiveView',
          '/liveview/setStreamParams',
          '/liveview/stopLiveView',
          '/liveview/webrtc_offer',
        ),
        fc.constantFrom('params', 'extra', 'detectorName'),
        fc.integer({ min: 2000, max: 8000 }),
        fc.boolean(),
        async (path, at, depth, list) => {
          // Written as text: the client's own JSON.stringify would overflow at such depths.
          const deep = list
            ? `${'['.repeat(depth)}${']'.repeat(depth)}`
            : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
          const value = at === 'params' ? `{"x":${deep}}` : deep;
          const others =
            at === 'detectorName'
              ? '"protocol":"mjpeg"'
              : '"protocol":"mjpeg","detectorName":"Nope"';
          const body = `{${others},"${at}":${value}}`;
          await send({ path, body, contentType: 'application/json' });
        },
      ),
      { ...serverRuns(12), examples: [['/liveview/setStreamParams', 'params', 2500, true]] },
    );
  });

  it('params keys named like Object.prototype members (valueOf, toString, hasOwnProperty, …) get 400 like any unknown key (they were dropped silently before)', async () => {
    // parseBody (src/api/requests.ts) → validateInto (src/core/validation.ts): class-transformer's
    // plainToInstance copies the nested `params` mapping without the keys that name
    // Object.prototype members, so the controller never sees them, e.g.
    // POST /liveview/setStreamParams {"protocol":"binary","params":{"valueOf":1}} → 200 (no change),
    // while {"params":{"foo":1}} → 400 "params.foo: unknown key". (Over the binary WebSocket the
    // same params are refused, as the params go to the controller untransformed.)
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OBJECT_MEMBER_KEYS),
        fc.constantFrom('/liveview/setStreamParams', '/liveview/startLiveView'),
        fc.constantFrom(...PROTOCOLS),
        fc.oneof(nastyValue, fc.constant(1)),
        async (key, path, protocol, value) => {
          const body = { protocol, params: objectOf([[key, value]]) };
          const had = new Set((await streams()).map((s) => s.key));
          try {
            const status = await send(jsonReq(path, body));
            expect(status, `${path} ${JSON.stringify(body)} accepted`).to.equal(400);
          } finally {
            for (const s of await streams()) {
              if (!had.has(s.key)) {
                const [detectorName, p] = s.key.split('/');
                await server.controller.stopLiveView({ detectorName, protocol: p });
              }
            }
          }
        },
      ),
      { ...serverRuns(20), examples: [['valueOf', '/liveview/setStreamParams', 'binary', 1]] },
    );
  });

  // Last: it may stop the streams the other properties rely on (it restarts them).
  it('POST /liveview/stopLiveView with a body that is not a JSON object (text/plain, a form, JSON null) stops nothing (it stopped every stream of the default detector before)', async () => {
    // liveview-routes.ts: `parseBody(StopLiveViewBody, req.body ?? {})`: express.json leaves a
    // text/plain body unparsed (undefined), and parses a JSON `null` (strict: false) to null;
    // both are read as "no body" = stop everything, e.g.
    // fetch(url, {method: 'POST', body: '{"detectorName":"Other","protocol":"mjpeg"}'}) (fetch's
    // default Content-Type is text/plain;charset=UTF-8) stops Camera's mjpeg AND binary streams,
    // closing every client. Expected: 415 (or 400), and nothing stopped.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'text/plain;charset=UTF-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/octet-stream',
          'application/json',
        ),
        fc.oneof(
          fc.constant('{"detectorName":"Nope","protocol":"mjpeg"}'),
          fc.constant('{"protocol":"webrtc"}'),
          fc.constant('null'),
          nastyString.filter((t) => t.length > 0),
        ),
        async (contentType, body) => {
          // A JSON object body is a real request; only the non-objects are in question here.
          if (contentType === 'application/json' && body.trim().startsWith('{')) return;
          const before = (await streams()).map((s) => s.key).sort();
          try {
            const status = await send({ path: '/liveview/stopLiveView', body, contentType });
            const after = (await streams()).map((s) => s.key).sort();
            expect(after, `${contentType} ${JSON.stringify(body)} → ${status}`).to.deep.equal(
              before,
            );
          } finally {
            if (!(await streams()).some((s) => s.key === 'Camera/mjpeg')) {
              await postJson(`${base}/liveview/startLiveView`, { protocol: 'mjpeg' });
            }
            if (well.closeCode !== undefined) {
              well = await new BinaryClient().connect(
                `${base.replace('http', 'ws')}/liveview/binary?detectorName=Camera`,
              );
            }
          }
        },
      ),
      {
        ...serverRuns(10),
        examples: [
          ['text/plain;charset=UTF-8', '{"detectorName":"Nope","protocol":"mjpeg"}'],
          ['application/json', 'null'],
        ],
      },
    );
  });
});
