import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { AiortcViewer, aiortcAvailable } from '../helpers/aiortc-viewer.js';
import { postJson, startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1] }
`;

/** How soon after `server.stop()` a viewer must see that its peer is gone. */
const NOTICE_MS = 2000;

/*
 * What a viewer can notice: werift's RTCPeerConnection (0.25) and aiortc's (1.4) compute their
 * connectionState from ICE alone (and from DTLS failure), so a peer that leaves cleanly moves
 * neither of them before ICE consent expires (about 30 s): what they do see at once is the DTLS
 * close_notify (their DTLS transport closes, aiortc ends the track) and the SCTP ABORT (data
 * channels close). Browsers close their DTLS transport and data channels likewise.
 */
describe('WebRTC: viewers are told when the server stops', function () {
  this.timeout(30_000);
  let server: LiveViewServer | undefined;
  const viewers: TestViewer[] = [];
  const aiortc: AiortcViewer[] = [];

  afterEach(async () => {
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    await Promise.all(aiortc.splice(0).map((v) => v.close()));
    await server?.stop();
    server = undefined;
  });

  const connect = async (base: string, dataChannel: boolean) => {
    const v = new TestViewer({ codecs: ['VP8'], dataChannel });
    viewers.push(v);
    const { status, json } = await postJson(`${base}/liveview/webrtc_offer`, {
      detectorName: 'Camera',
      sdp: await v.offer(),
      type: 'offer',
    });
    expect(status, String(json.message)).to.equal(200);
    await v.accept(json.sdp as string);
    return v;
  };

  it('a werift viewer sees its DTLS transport (close_notify) and data channel close within 2 s of server.stop()', async () => {
    server = await startTestServer(YAML);
    // One viewer without a data channel: nothing but DTLS and RTCP can tell it.
    const plain = await connect(server.url, false);
    const withChannel = await connect(server.url, true);
    await waitFor(() => plain.frames.length >= 3 && withChannel.frames.length >= 3, 10_000);
    const dtls = (v: TestViewer) => v.transceiver.receiver.dtlsTransport;
    expect(dtls(plain).state).to.equal('connected');
    const seen = new Map<string, number>();
    const stoppedAt = Date.now();
    dtls(plain).onStateChange.subscribe((s) => seen.set(`plain dtls ${s}`, Date.now()));
    dtls(withChannel).onStateChange.subscribe((s) => seen.set(`channel dtls ${s}`, Date.now()));
    withChannel.channel!.stateChanged.subscribe((s) => seen.set(`channel ${s}`, Date.now()));
    await server.stop();
    server = undefined;
    await waitFor(
      () =>
        seen.has('plain dtls closed') &&
        seen.has('channel dtls closed') &&
        seen.has('channel closed'),
      NOTICE_MS + 500,
    ).catch(() => undefined);
    for (const what of ['plain dtls closed', 'channel dtls closed', 'channel closed']) {
      expect(seen.get(what), `${what} (seen: ${[...seen.keys()].join(', ')})`).to.be.a('number');
      expect(seen.get(what)! - stoppedAt, what).to.be.lessThan(NOTICE_MS);
    }
  });

  it('an aiortc viewer sees its DTLS transport close and its track end within 2 s of server.stop()', async function () {
    if (!aiortcAvailable()) {
      // On CI the independent peer must run: a missing package is a failure there, not a skip.
      if (process.env.CI)
        throw new Error('aiortc is missing: apt-get install python3-aiortc python3-aiohttp');
      this.skip();
    }
    server = await startTestServer(YAML);
    const v = new AiortcViewer(server.url, 'Camera');
    aiortc.push(v);
    await v.waitFor('frame', 10_000);
    const stoppedAt = Date.now();
    await server.stop();
    server = undefined;
    const closed = await v.waitFor('dtls', NOTICE_MS + 1000, (e) => e.state === 'closed');
    const ended = await v.waitFor('track-ended', NOTICE_MS + 1000);
    expect(closed.at - stoppedAt, 'DTLS closed after stop (ms)').to.be.lessThan(NOTICE_MS);
    expect(ended.at - stoppedAt, 'track ended after stop (ms)').to.be.lessThan(NOTICE_MS);
  });
});
