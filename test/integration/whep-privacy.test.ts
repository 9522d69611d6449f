import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { getJson, startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

describe('WHEP session resources are unguessable and never listed', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  let viewer: TestViewer;

  before(async () => {
    server = await startTestServer(`
detectors:
  Camera:
    type: mock
    options: { width: 160, height: 120, fps: 30 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1] }
`);
    base = server.url;
  });
  after(async () => {
    await viewer?.close();
    await server?.stop();
  });

  it('status shows an opaque client id that cannot end the viewer; the WHEP resource stays private', async () => {
    viewer = new TestViewer();
    const res = await fetch(`${base}/liveview/whep/Camera`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: await viewer.offer(),
    });
    expect(res.status).to.equal(201);
    const location = res.headers.get('location')!;
    const resource = location.split('/').pop()!;
    expect(resource).to.match(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    await viewer.accept(await res.text());
    await waitFor(() => viewer.frames.length >= 2, 10_000);

    const listing = JSON.stringify((await getJson(`${base}/liveview/getActiveStreams`)).json);
    expect(listing).not.to.include(resource);
    const streams = (await getJson(`${base}/liveview/getActiveStreams`)).json.streams as {
      clients: { id: string }[];
    }[];
    const listed = streams[0]!.clients[0]!.id;
    expect(listed).to.match(/^webrtc-\d+$/);

    // What another client can read does not address the session.
    const foreign = await fetch(`${base}/liveview/whep/Camera/${listed}`, { method: 'DELETE' });
    expect(foreign.status).to.equal(404);
    const frames = viewer.frames.length;
    await waitFor(() => viewer.frames.length > frames + 2, 5000);

    const own = await fetch(`${base}${location}`, { method: 'DELETE' });
    expect(own.status).to.equal(200);
  });
});
