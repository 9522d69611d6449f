import { expect } from 'chai';
import fc from 'fast-check';
import type { LiveViewServer } from '../../src/api/server.js';
import { parseStreamParams } from '../../src/core/stream-params.js';
import { BinaryParams } from '../../src/protocols/binary/params.js';
import { MAX_CLIENT_MESSAGE_BYTES } from '../../src/protocols/binary/protocol.js';
import { BinaryClient, UpgradeRefused } from '../helpers/binary-client.js';
import { getJson, startTestServer, waitFor } from '../helpers/server.js';
import {
  urlPart,
  hasProtoKey,
  setsLongThrottle,
  nastyString,
  nastyValue,
  objectOf,
  outcomeOf,
  paramsArbitrary,
  serverRuns,
  snapshot,
} from '../helpers/arbitraries.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 128, height: 96, fps: 30 }
`;

/** A message a client sends: text or binary. */
type Sent = { text: string } | { binary: Uint8Array };

/** What the protocol must do with a message (an oracle written from the README's contract). */
type Expected =
  | { kind: 'close'; codes: number[] }
  | { kind: 'ack' }
  | { kind: 'status' }
  | { kind: 'setParams'; params: unknown };

function expectedOf(sent: Sent): Expected {
  if ('binary' in sent) {
    return sent.binary.length > MAX_CLIENT_MESSAGE_BYTES
      ? { kind: 'close', codes: [1009] }
      : { kind: 'close', codes: [1003] };
  }
  // What the server decodes: the UTF-8 of the text (lone surrogates become U+FFFD).
  const bytes = Buffer.from(sent.text, 'utf8');
  if (bytes.length > MAX_CLIENT_MESSAGE_BYTES) return { kind: 'close', codes: [1009] };
  const parsed = outcomeOf(() => JSON.parse(bytes.toString('utf8')) as unknown);
  if (!parsed.ok) return { kind: 'close', codes: [1007] };
  const message = parsed.value as Record<string, unknown> | null;
  const type = typeof message === 'object' && message !== null ? message.type : undefined;
  if (type === 'ack') {
    const n = message!.frameNumber;
    return n === undefined || typeof n === 'number'
      ? { kind: 'ack' }
      : { kind: 'close', codes: [1008] };
  }
  if (type === 'getStatus') return { kind: 'status' };
  if (type === 'setParams') return { kind: 'setParams', params: message!.params };
  return { kind: 'close', codes: [1008] };
}

const json = (v: unknown): Sent => ({ text: JSON.stringify(v) ?? 'undefined' });
const withType = (type: unknown, rest: [string, unknown][]) => objectOf([['type', type], ...rest]);

const message: fc.Arbitrary<Sent> = fc.oneof(
  // Well-formed messages with adversarial fields.
  fc
    .option(fc.oneof(fc.nat(), nastyValue), { nil: undefined })
    .map((n) => json(n === undefined ? { type: 'ack' } : { type: 'ack', frameNumber: n })),
  fc
    .array(fc.tuple(fc.string(), nastyValue), { maxLength: 2 })
    .map((rest) => json(withType('getStatus', rest))),
  {
    weight: 3,
    arbitrary: paramsArbitrary('binary')
      // Throttle changes: the regression test below.
      .filter((params) => !setsLongThrottle(params))
      .map((params) => json({ type: 'setParams', params })),
  },
  fc.constant(json({ type: 'setParams' })),
  // A wrong or missing type, JSON that is not an object, text that is not JSON.
  fc
    .tuple(
      fc.oneof(nastyString, nastyValue),
      fc.array(fc.tuple(fc.string(), nastyValue), { maxLength: 2 }),
    )
    .map(([type, rest]) => json(withType(type, rest))),
  nastyValue.map(json),
  nastyString.map((text) => ({ text })),
  fc.tuple(paramsArbitrary('binary'), fc.nat()).map(([params, n]) => {
    const text = JSON.stringify({ type: 'setParams', params });
    return { text: text.slice(0, n % text.length) };
  }),
  fc.constantFrom<Sent>(
    { text: '' },
    { text: ' ' },
    { text: '\r\n' },
    { text: '{"type":"ack","frameNumber":1e999}' },
    { text: '{"type":"setParams","params":{"__proto__":{"throttle_ms":1}}}' },
    { text: '{"__proto__":{"type":"getStatus"}}' },
    { text: '{"type":"setParams","params":{"constructor":{"prototype":{}}}}' },
    { text: `{"type":"getStatus","pad":"${'x'.repeat(MAX_CLIENT_MESSAGE_BYTES)}"}` },
  ),
  // Binary messages: garbage, or what looks like a UC2F packet.
  fc.uint8Array({ maxLength: 64 }).map((binary) => ({ binary })),
  fc.constant<Sent>({ binary: new Uint8Array(MAX_CLIENT_MESSAGE_BYTES + 1) }),
);

/** Params as JSON without norm_min/norm_max. */
function withoutNormBounds(params: object): string {
  const rest = { ...(params as Record<string, unknown>) };
  delete rest.norm_min;
  delete rest.norm_max;
  return snapshot(rest);
}

describe('property: binary protocol control messages over a real WebSocket', function () {
  this.timeout(60_000);
  let server: LiveViewServer;
  let wsUrl: string;
  let well: BinaryClient;
  let original: BinaryParams;

  const worker = () => server.controller.findStream('Camera', 'binary');

  before(async () => {
    server = await startTestServer(YAML);
    wsUrl = `${server.url.replace('http', 'ws')}/liveview/binary?detectorName=Camera`;
    well = await new BinaryClient().connect(wsUrl);
    await waitFor(() => well.frames.length >= 2, 10_000);
    original = worker()!.params as BinaryParams;
  });
  after(async () => {
    await well?.close();
    await server?.stop();
  });

  it('any message: garbage gets a JSON error or a close 1003/1007/1008/1009; the server stays up; another client keeps its frames and params', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(message, async (sent) => {
        run++;
        const before = snapshot(worker()!.params);
        const client = await new BinaryClient().connect(wsUrl);
        try {
          await waitFor(() => client.json('hello').length === 1, 3000);
          if ('binary' in sent) client.sendRaw(Buffer.from(sent.binary));
          else client.sendRaw(sent.text);
          client.send({ type: 'getStatus' });
          await waitFor(
            () => client.closeCode !== undefined || client.json('status').length > 0,
            5000,
          );
          const expected = expectedOf(sent);
          const errors = client.json('error');
          const after = snapshot(worker()!.params);
          if (expected.kind === 'close') {
            // Garbage: closed with a protocol-violation code, or at least told (never a server error).
            if (client.closeCode !== undefined) {
              expect(
                expected.codes,
                `close code for ${JSON.stringify(sent).slice(0, 200)}`,
              ).to.include(client.closeCode);
            } else expect(errors, 'no JSON error for garbage').to.have.length.above(0);
            expect(after, 'garbage changed the stream params').to.equal(before);
          } else {
            expect(
              client.closeCode,
              `a valid message closed the session (${client.closeReason})`,
            ).to.equal(undefined);
            if (expected.kind === 'setParams') {
              const oracle = outcomeOf(() =>
                parseStreamParams(
                  BinaryParams,
                  expected.params,
                  'params',
                  JSON.parse(before) as BinaryParams,
                ),
              );
              if (hasProtoKey(expected.params)) {
                expect(oracle.ok, 'params with a prototype key are accepted').to.equal(false);
              }
              if (oracle.ok) {
                expect(errors, 'a valid setParams got an error').to.deep.equal([]);
                expect(after).to.equal(snapshot(oracle.value));
              } else {
                expect(errors, 'an invalid setParams got no error').to.have.length(1);
                expect(errors[0].message)
                  .to.be.a('string')
                  .and.match(/^params/);
                expect(after, 'a rejected setParams changed the stream params').to.equal(before);
              }
            } else {
              expect(errors).to.deep.equal([]);
              expect(after).to.equal(before);
            }
          }
        } finally {
          await client.close();
          if (withoutNormBounds(worker()!.params) !== withoutNormBounds(original)) {
            server.controller.updateStreamParams(
              'Camera',
              'binary',
              JSON.parse(JSON.stringify(original)),
            );
          }
        }
        // The well-behaved client is still there and still gets frames; the server answers.
        expect(well.closeCode, 'the other client was closed').to.equal(undefined);
        if (run % 10 === 0) {
          const seen = well.frames.length;
          await waitFor(() => well.frames.length > seen, 5000);
        }
        expect((await getJson(`${server.url}/liveview/getActiveStreams`)).status).to.equal(200);
      }),
      serverRuns(120),
    );
    const seen = well.frames.length;
    await waitFor(() => well.frames.length >= seen + 3, 5000);
    // norm_min/norm_max, once set by a valid setParams, cannot be unset over JSON (null is refused).
    expect(withoutNormBounds(worker()!.params)).to.equal(withoutNormBounds(original));
  });

  it('connecting with any detectorName query: the session opens, or the upgrade is refused with a 4xx JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(urlPart, { minLength: 1, maxLength: 2 }), async (names) => {
        const query = names.map((n) => `detectorName=${n}`).join('&');
        const url = `${server.url.replace('http', 'ws')}/liveview/binary?${query}`;
        const client = new BinaryClient();
        try {
          await client.connect(url);
          await waitFor(() => client.json('hello').length === 1, 3000);
          expect(client.json('hello')[0].detectorName).to.equal('Camera');
        } catch (err) {
          expect(err, String(err)).to.be.instanceOf(UpgradeRefused);
          const refused = err as UpgradeRefused;
          expect(refused.status, `${query} → ${refused.body}`).to.be.within(400, 499);
          const body = JSON.parse(refused.body) as { status?: string; message?: unknown };
          expect(body.status).to.equal('error');
          expect(body.message).to.be.a('string').and.have.length.above(0);
        } finally {
          await client.close().catch(() => undefined);
        }
        expect(well.closeCode).to.equal(undefined);
      }),
      serverRuns(60),
    );
  });

  it('after a valid setParams raises throttle_ms, lowering it again applies at once (it froze the stream for the old period before)', async () => {
    // StreamWorker.run (src/core/stream-worker.ts, `await delay(wait, …)` with wait computed from
    // currentParams.throttle_ms) sleeps the whole old throttle period: updateParams does not wake
    // it, so {"type":"setParams","params":{"throttle_ms":20000}} followed 300 ms later by
    // {"throttle_ms":33} leaves every client of the stream without frames for ~20 s.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 3000, max: 60000 }), async (throttle) => {
        const client = await new BinaryClient().connect(wsUrl);
        try {
          await waitFor(() => client.json('hello').length === 1, 3000);
          client.send({ type: 'setParams', params: { throttle_ms: throttle } });
          await waitFor(() => worker()!.params.throttle_ms === throttle, 3000);
          // Let the worker take a frame and start waiting out the long throttle.
          await new Promise((r) => setTimeout(r, 300));
          client.send({ type: 'setParams', params: { throttle_ms: original.throttle_ms } });
          await waitFor(() => worker()!.params.throttle_ms === original.throttle_ms, 3000);
          const seen = well.frames.length;
          await waitFor(() => well.frames.length > seen, 1500).catch(() => {
            throw new Error(
              `no frame within 1.5 s after throttle_ms went back from ${throttle} to ${original.throttle_ms}`,
            );
          });
        } finally {
          await client.close();
          server.controller.updateStreamParams(
            'Camera',
            'binary',
            JSON.parse(JSON.stringify(original)),
          );
        }
      }),
      { ...serverRuns(4), examples: [[20000]] },
    );
  });
});
