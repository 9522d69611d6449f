import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import type { ActiveStream } from '../../src/core/stream-hub.js';
import { JanusSession } from '../../src/protocols/webrtc/relay/janus-client.js';
import { mountpointIdOf } from '../../src/protocols/webrtc/relay/janus-mountpoint.js';
import type { RelayStatus } from '../../src/protocols/webrtc/relay/relay.js';
import { liveEncoders } from '../../src/protocols/webrtc/video-encoder.js';
import { JanusServer, janusAvailable, janusIceAddress } from '../helpers/janus-server.js';
import { JanusViewer } from '../helpers/janus-viewer.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { getJson, startTestServer, waitFor } from '../helpers/server.js';

/** Resolves once `viewer` decoded `count` more frames whose frame numbers increase. */
async function increasingFrames(viewer: JanusViewer, count: number, timeoutMs = 10_000) {
  const from = viewer.frameNumbers.length;
  await waitFor(() => viewer.frameNumbers.length >= from + count, timeoutMs);
  const numbers = viewer.frameNumbers.slice(from);
  for (let i = 1; i < numbers.length; i++) expect(numbers[i]).to.be.greaterThan(numbers[i - 1]);
  return numbers;
}

/** How long ago Janus at `url` last received each media of mountpoint `id`, by mid. */
async function mediaAges(url: string, id: number, secret: string): Promise<Record<string, number>> {
  const session = await JanusSession.create({ url, timeoutMs: 5000 });
  try {
    const handle = await session.attach('janus.plugin.streaming');
    const info = (await handle.request({ request: 'info', id, secret })).info as {
      media: { mid: string; age_ms?: number }[];
    };
    return Object.fromEntries(info.media.map((m) => [m.mid, m.age_ms ?? Infinity]));
  } finally {
    await session.destroy();
  }
}

/** Whether Janus at `url` has mountpoint `id`. */
async function hasMountpoint(url: string, id: number): Promise<boolean> {
  const session = await JanusSession.create({ url, timeoutMs: 5000 });
  try {
    const handle = await session.attach('janus.plugin.streaming');
    const list = (await handle.request({ request: 'list' })).list as { id: number }[];
    return list.some((m) => m.id === id);
  } finally {
    await session.destroy();
  }
}

describe('Janus relays', function () {
  this.timeout(90_000);
  const iceAddress = janusIceAddress();
  const janus: JanusServer[] = [];
  let server: LiveViewServer | undefined;
  const viewers: JanusViewer[] = [];

  before(async function () {
    if (!janusAvailable() || !iceAddress) this.skip();
    // The second one only creates mountpoints for requests with its admin_key.
    janus.push(await JanusServer.start(iceAddress!), await JanusServer.start(iceAddress!, 'adm1n'));
  });

  afterEach(async () => {
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    await server?.stop();
    server = undefined;
  });

  after(async () => {
    await Promise.all(janus.map((j) => j.stop()));
  });

  const relays = async (): Promise<RelayStatus[]> =>
    (await getJson(`${server!.url}/liveview/relays`)).json.relays as RelayStatus[];

  const watch = async (j: JanusServer, id: number) => {
    const v = await JanusViewer.watch(j.url, id, iceAddress!);
    viewers.push(v);
    return v;
  };

  it('feeds two Janus servers from one encoder, and a restarted server again within seconds', async () => {
    const encodersBefore = liveEncoders;
    server = await startTestServer(`
detectors:
  Camera: { type: mock, options: { width: 320, height: 240, fps: 30 } }
relays:
  hall:
    detector: Camera
    codec: H264
    janus:
      poll_interval_ms: 300
      secret: s3cret
      servers:
        - { url: '${janus[0].url}', bind: 127.0.0.1 }
        - { url: '${janus[1].url}', bind: 127.0.0.1, admin_key: adm1n }
`);
    const id = mountpointIdOf('hall');
    await waitFor(async () => (await relays())[0]?.state === 'live', 10_000);
    const [a, b] = [await watch(janus[0], id), await watch(janus[1], id)];
    await increasingFrames(a, 10);
    await increasingFrames(b, 10);
    // One stream, one encoder: both servers get the packets its viewers would get.
    expect(liveEncoders - encodersBefore).to.equal(1);
    // The relay is the stream's one client, and says what it is.
    const streams = (await getJson(`${server.url}/liveview/getActiveStreams`)).json
      .streams as ActiveStream[];
    const clients = streams.find((s) => s.protocol === 'webrtc')!.clients;
    expect(clients.map((c) => c.remote)).to.deep.equal(['relay hall (janus)']);
    expect(clients[0].details).to.include({ relay: 'hall', type: 'janus', state: 'live' });
    // Each server reports its viewer, and receives the metadata as the mountpoint's data stream.
    await waitFor(async () => (await relays())[0].viewers === 2, 5000);
    for (const j of janus) {
      const ages = await mediaAges(j.url, id, 's3cret');
      expect(ages.v).to.be.lessThan(1000);
      expect(ages.d).to.be.lessThan(1000);
    }

    // A crash of one server: the other's viewer goes on; the restarted one is fed again.
    await janus[0].kill();
    await waitFor(async () => (await relays())[0].state === 'degraded', 5000);
    const during = b.frameNumbers.length;
    await janus[0].start();
    await waitFor(async () => (await relays())[0].targets[0].connections === 2, 10_000);
    const again = await watch(janus[0], id);
    await increasingFrames(again, 10, 10_000);
    expect(b.frameNumbers.length).to.be.greaterThan(during);
    await increasingFrames(b, 5);
    const status = (await relays())[0];
    expect(status.state).to.equal('live');
    expect(status.targets.every((t) => t.packetsSent > 0 && t.bytesSent > 0)).to.equal(true);
    expect(liveEncoders - encodersBefore).to.equal(1);
    await waitFor(async () => (await relays())[0].viewers === 2, 5000);
    const metrics = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    const labels = { relay: 'hall', type: 'janus', detector: 'Camera' };
    expect(sampleValue(metrics, 'liveview_relay_state', { ...labels, state: 'live' })).to.equal(1);
    expect(sampleValue(metrics, 'liveview_relay_packets_sent_total', labels)).to.be.greaterThan(0);
    expect(sampleValue(metrics, 'liveview_relay_bytes_sent_total', labels)).to.be.greaterThan(0);
    expect(sampleValue(metrics, 'liveview_relay_viewers', labels)).to.equal(2);

    // Stopping liveview destroys the mountpoints.
    await server.stop();
    server = undefined;
    expect(await hasMountpoint(janus[1].url, id)).to.equal(false);
    expect(await hasMountpoint(janus[0].url, id)).to.equal(false);
  });

  it('replaces a stale mountpoint of its id, but not one that another feeder feeds', async () => {
    const id = mountpointIdOf('shared');
    // Left by a feeder that is gone: created, never fed.
    const stale = await JanusSession.create({ url: janus[0].url, timeoutMs: 5000 });
    await (
      await stale.attach('janus.plugin.streaming')
    ).request({
      request: 'create',
      type: 'rtp',
      id,
      media: [{ type: 'video', mid: 'v', port: 0, pt: 96, codec: 'vp8' }],
    });
    await stale.destroy();
    await new Promise((r) => setTimeout(r, 3500));
    const yaml = `
detectors:
  Camera: { type: mock, options: { width: 160, height: 120, fps: 15 } }
relays:
  shared: { detector: Camera, janus: { poll_interval_ms: 300, servers: [ { url: '${janus[0].url}', bind: 127.0.0.1 } ] } }
`;
    server = await startTestServer(yaml);
    await waitFor(async () => (await relays())[0]?.state === 'live', 10_000);
    // A second liveview with a relay of the same name: refused, the first one stays fed.
    const other = await startTestServer(yaml);
    try {
      const otherRelays = async () =>
        (await getJson(`${other.url}/liveview/relays`)).json.relays as RelayStatus[];
      await waitFor(
        async () => /fed by someone else/.test((await otherRelays())[0].lastError ?? ''),
        10_000,
      );
      expect((await otherRelays())[0].state).to.equal('retrying');
      await new Promise((r) => setTimeout(r, 1000));
      const first = (await relays())[0];
      expect(first.state).to.equal('live');
      expect(first.targets[0].connections).to.equal(1);
    } finally {
      await other.stop();
    }
    expect(await hasMountpoint(janus[0].url, id)).to.equal(true);
  });

  it('adds and removes a relay at run time (POST/DELETE /liveview/relays), refusing bad ones', async () => {
    server = await startTestServer(`
detectors:
  Camera: { type: mock, options: { width: 320, height: 240, fps: 30 } }
`);
    const url = `${server.url}/liveview/relays`;
    const post = async (body: unknown, type = 'application/json') => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const edge = {
      name: 'edge',
      detector: 'Camera',
      codec: 'VP8',
      janus: {
        poll_interval_ms: 300,
        pin: '0815',
        servers: [{ url: janus[1].url, bind: '127.0.0.1', admin_key: 'adm1n' }],
      },
    };

    let answer = await post({ ...edge, janus: { servers: [{ url: 'ftp://x' }] } });
    expect(answer.status).to.equal(400);
    expect(answer.json.message).to.equal(
      'janus.servers[0].url: must be an http:// or https:// URL',
    );
    answer = await post({ name: 'edge', detector: 'Camera' });
    expect(answer.status).to.equal(400);
    expect(answer.json.message).to.include("needs exactly one of 'janus'");
    answer = await post({ ...edge, name: 'a b' });
    expect(answer.status).to.equal(400);
    expect(answer.json.message).to.include('name: must be');
    answer = await post({ ...edge, detector: 'Nope' });
    expect(answer.status).to.equal(404);
    answer = await post('name=edge', 'text/plain');
    expect(answer.status).to.equal(415);
    expect(await relays()).to.deep.equal([]);

    // Without the plugin's admin_key Janus refuses the mountpoint: the relay says why, and retries.
    answer = await post({
      ...edge,
      name: 'nokey',
      janus: { servers: [{ url: janus[1].url, bind: '127.0.0.1' }] },
    });
    expect(answer.status).to.equal(201);
    await waitFor(async () => /admin_key/i.test((await relays())[0]?.lastError ?? ''), 5000);
    expect((await relays())[0].state).to.equal('retrying');
    expect((await fetch(`${url}/nokey`, { method: 'DELETE' })).status).to.equal(200);

    answer = await post(edge);
    expect(answer.status, JSON.stringify(answer.json)).to.equal(201);
    expect(answer.json.relay).to.deep.include({ name: 'edge', type: 'janus', detector: 'Camera' });
    expect((await post(edge)).status).to.equal(409);
    await waitFor(async () => (await relays())[0]?.state === 'live', 10_000);
    const id = mountpointIdOf('edge');
    expect(await hasMountpoint(janus[1].url, id)).to.equal(true);
    const vp8 = await JanusViewer.watch(janus[1].url, id, iceAddress!, 'VP8', '0815');
    viewers.push(vp8);
    await increasingFrames(vp8, 5);

    const removed = await fetch(`${url}/edge`, { method: 'DELETE' });
    expect(removed.status).to.equal(200);
    expect(await hasMountpoint(janus[1].url, id)).to.equal(false);
    expect(await relays()).to.deep.equal([]);
    expect((await fetch(`${url}/edge`, { method: 'DELETE' })).status).to.equal(404);
    // The stream the relay started on demand stops once nobody uses it.
    await waitFor(() => server!.controller.findStream('Camera', 'webrtc') === undefined, 10_000);
  });
});
