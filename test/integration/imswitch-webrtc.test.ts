import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';
import { imswitchCall } from './imswitch-client.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1], codec: VP8 }
`;

type Json = Record<string, unknown>;

describe("ImSwitch's webrtc_offer (/imswitch/api/LiveViewController/webrtc_offer)", function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  const viewers: TestViewer[] = [];

  const viewer = (): TestViewer => {
    const v = new TestViewer({ codecs: ['VP8'], dataChannel: false });
    viewers.push(v);
    return v;
  };
  const offer = (body: unknown) =>
    imswitchCall(base, '/LiveViewController/webrtc_offer', { method: 'POST', body });
  const sessions = () => server.controller.findStream('Camera', 'webrtc')?.sessions.size ?? 0;
  /** Frames with a readable pixel code, whose frame numbers grow. */
  const plays = async (v: TestViewer): Promise<void> => {
    await waitFor(() => v.frames.filter((f) => f.frameNumber !== undefined).length >= 5, 15_000);
    const numbers = v.frames.map((f) => f.frameNumber).filter((n) => n !== undefined);
    expect(numbers[numbers.length - 1]).to.be.greaterThan(numbers[0]!);
  };

  beforeEach(async () => {
    server = await startTestServer(YAML);
    base = server.url;
  });
  afterEach(async () => {
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    await server?.stop();
  });

  it("ImSwitch's body {sdp, sdp_type, detectorName, params}: an answer that plays; params applied; stopLiveView ends the peer", async () => {
    const v = viewer();
    const a = await offer({
      sdp: await v.offer(),
      sdp_type: 'offer',
      detectorName: 'Camera',
      params: { throttle_ms: 33, subsampling_factor: 1, max_width: 160 },
    });
    expect(a.status, a.text).to.equal(200);
    const answer = a.json as Json;
    expect(answer).to.include({ status: 'success', type: 'answer' });
    expect(answer.sdp).to.match(/^v=0\r\n/);
    await v.accept(answer.sdp as string);
    await plays(v);
    // max_width 160: the 320-wide frames are subsampled to fit.
    expect(v.frames[v.frames.length - 1].width).to.equal(160);
    expect((await imswitchCall(base, '/LiveViewController/getActiveStreams')).json).to.deep.equal({
      status: 'success',
      active_streams: [{ detector: 'Camera', protocol: 'webrtc' }],
    });
    expect(sessions()).to.equal(1);
    // ImSwitch closes its peer on stopLiveView: so does liveview for the viewers it signaled.
    const stop = await imswitchCall(base, '/LiveViewController/stopLiveView');
    expect((stop.json as Json).status).to.equal('success');
    await waitFor(() => sessions() === 0);
  });

  it("the design note's body {sdp, type} is answered the same; a second viewer joins the same stream", async () => {
    const first = viewer();
    const a = await offer({ sdp: await first.offer(), type: 'offer' });
    expect(a.status, a.text).to.equal(200);
    await first.accept((a.json as Json).sdp as string);
    const second = viewer();
    const b = await offer({
      sdp: await second.offer(),
      sdp_type: 'offer',
      detectorName: null,
      params: null,
    });
    expect(b.status, b.text).to.equal(200);
    await second.accept((b.json as Json).sdp as string);
    await plays(first);
    await plays(second);
    expect(sessions(), 'liveview keeps every viewer (ImSwitch closed the previous one)').to.equal(
      2,
    );
    expect(server.controller.getActiveStreams()).to.have.length(1);
  });

  it('a bad offer → 400 JSON, no stream started', async () => {
    for (const [body, says] of [
      [{ sdp_type: 'offer' }, 'sdp'],
      [{ sdp: 'v=0', sdp_type: 'answer' }, 'sdp_type'],
      [{ sdp: 'not an sdp', sdp_type: 'offer' }, 'SDP'],
      [{ sdp: 'v=0', sdp_type: 'offer', params: { crop_size: 8 } }, 'crop_size'],
    ] as const) {
      const a = await offer(body);
      expect(a.status, a.text).to.equal(400);
      expect((a.json as Json).status).to.equal('error');
      expect((a.json as Json).message).to.include(says);
    }
    await waitFor(() => server.controller.findStream('Camera', 'webrtc') === undefined);
  });
});
