import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import type { RelayStatus } from '../../src/protocols/webrtc/relay/relay.js';
import type { WebrtcWorker } from '../../src/protocols/webrtc/worker.js';
import { aiortcAvailable } from '../helpers/aiortc-viewer.js';
import { freePort } from '../helpers/janus-server.js';
import { getJson, startTestServer, waitFor } from '../helpers/server.js';
import { WhipEndpoint } from '../helpers/whip-endpoint.js';

/** Resolves once the endpoint decoded `count` more pictures whose frame numbers increase. */
async function increasingFrames(endpoint: WhipEndpoint, count: number, timeoutMs = 15_000) {
  const from = endpoint.frameNumbers.length;
  await waitFor(() => endpoint.frameNumbers.length >= from + count, timeoutMs);
  const numbers = endpoint.frameNumbers.slice(from);
  for (let i = 1; i < numbers.length; i++) expect(numbers[i]).to.be.greaterThan(numbers[i - 1]);
}

const yaml = (port: number, token: string) => `
detectors:
  Camera: { type: mock, options: { width: 320, height: 240, fps: 30 } }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1] }
relays:
  out:
    detector: Camera
    whip:
      url: http://127.0.0.1:${port}/whip
      bearer_token: ${token}
      reconnect_min_ms: 200
      reconnect_max_ms: 1000
`;

describe('WHIP relays', function () {
  this.timeout(90_000);
  let server: LiveViewServer | undefined;
  const endpoints: WhipEndpoint[] = [];

  before(function () {
    if (!aiortcAvailable()) this.skip();
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    await Promise.all(endpoints.splice(0).map((e) => e.close()));
  });

  const endpoint = (port: number, token: string) => {
    const e = new WhipEndpoint(port, token);
    endpoints.push(e);
    return e;
  };
  const relays = async (): Promise<RelayStatus[]> =>
    (await getJson(`${server!.url}/liveview/relays`)).json.relays as RelayStatus[];

  it('publishes with the bearer token, publishes again after the endpoint came back, DELETEs on stop', async () => {
    const port = await freePort();
    const first = endpoint(port, 'tok3n');
    await first.waitFor('listening', 10_000);
    server = await startTestServer(yaml(port, 'tok3n'));
    const published = await first.waitFor('published', 15_000);
    expect(published.authorization).to.equal('Bearer tok3n');
    await increasingFrames(first, 10);
    await waitFor(async () => (await relays())[0].state === 'live', 5000);
    const stream = server.controller.getActiveStreams().find((s) => s.protocol === 'webrtc');
    expect(stream?.clients.map((c) => c.remote)).to.deep.equal([first.url]);
    expect(stream?.clients[0].details).to.include({ relay: 'out', type: 'whip', state: 'live' });

    // The far end's feedback reaches the shared encoder: PLI asks for a keyframe, REMB is an estimate.
    const peer = () =>
      (server!.controller.findStream('Camera', 'webrtc') as WebrtcWorker).viewers[0];
    first.sendPli();
    await first.waitFor('pli-sent', 5000, (e) => e.count === 1);
    await waitFor(() => peer().keyframeRequests > 0, 5000);
    await waitFor(() => peer().estimatedBitrate > 0, 10_000);

    // The endpoint goes away: the relay notices, and publishes to the one that comes back.
    await first.kill();
    await waitFor(async () => (await relays())[0].state === 'retrying', 15_000);
    const second = endpoint(port, 'tok3n');
    await second.waitFor('published', 20_000);
    await increasingFrames(second, 10);
    const status = (await relays())[0];
    expect(status.targets[0].connections).to.equal(2);
    expect(status.packetsSent).to.be.greaterThan(0);

    // Stopping the relay ends the session with a DELETE of its Location.
    const res = await fetch(`${server.url}/liveview/relays/out`, { method: 'DELETE' });
    expect(res.status).to.equal(200);
    const deleted = await second.waitFor('deleted', 5000);
    expect(deleted.id).to.equal(second.all('published')[0].id);
    expect(first.all('unauthorized').length + second.all('unauthorized').length).to.equal(0);
    expect(await relays()).to.deep.equal([]);
  });

  it('reports an endpoint that refuses the token, and keeps trying', async () => {
    const port = await freePort();
    const e = endpoint(port, 'right');
    await e.waitFor('listening', 10_000);
    server = await startTestServer(yaml(port, 'wrong'));
    await e.waitFor('unauthorized', 15_000);
    await waitFor(async () => /credential/.test((await relays())[0].lastError ?? ''), 5000);
    expect((await relays())[0].state).to.equal('retrying');
    await waitFor(() => e.all('unauthorized').length >= 2, 10_000);
    expect(e.all('published')).to.deep.equal([]);
  });
});
