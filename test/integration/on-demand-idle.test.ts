import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

describe('a stream started on demand for a client that never joins stops', function () {
  this.timeout(20_000);
  let server: LiveViewServer;
  let base: string;

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
    await server?.stop();
  });

  const streams = async () =>
    (await getJson(`${base}/liveview/getActiveStreams`)).json.streams as unknown[];

  it('after a WebRTC offer the server cannot answer (VP9 only): 400, then no stream and an idle camera', async () => {
    const viewer = new TestViewer({ codecs: ['VP8'] });
    try {
      const vp9Only = (await viewer.offer()).replace(/VP8\/90000/g, 'VP9/90000');
      const { status, json } = await postJson(`${base}/liveview/webrtc_offer`, {
        detectorName: 'Camera',
        sdp: vp9Only,
        type: 'offer',
      });
      expect(status, String(json.message)).to.equal(400);
    } finally {
      await viewer.close();
    }
    await waitFor(async () => (await streams()).length === 0, 5000);
    await waitFor(() => server.controller.detectors.detector('Camera').state === 'idle', 3000);
  });
});
