import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { STAGES, type StageLatencies } from '../../src/core/stage-timings.js';
import { BinaryClient } from '../helpers/binary-client.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { histogramValue, parsePrometheusText } from '../helpers/prometheus-text.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  mjpeg: { throttle_ms: 0 }
  binary: { throttle_ms: 0, compression: lz4 }
  webrtc: { ice_host_addresses: [127.0.0.1] }
`;

const PROTOCOLS = ['mjpeg', 'webrtc', 'binary'] as const;

/** Rounding slack, ms: percentiles are rounded to µs and a stage's clamps may add a little. */
const EPSILON_MS = 0.01;

describe('per-stage latency of every protocol (getActiveStreams and /metrics)', function () {
  this.timeout(60_000);
  let server: LiveViewServer;
  const mjpeg = new MultipartReader();
  const binary = new BinaryClient();
  const viewer = new TestViewer({ codecs: ['VP8'], dataChannel: false });

  before(async () => {
    server = await startTestServer(YAML);
    await mjpeg.connect(`${server.url}/liveview/mjpeg?detectorName=Camera`);
    await binary.connect(`${server.url.replace('http', 'ws')}/liveview/binary?detectorName=Camera`);
    const answer = await postJson(`${server.url}/liveview/webrtc_offer`, {
      detectorName: 'Camera',
      sdp: await viewer.offer(),
      type: 'offer',
    });
    expect(answer.status, String(answer.json.message)).to.equal(200);
    await viewer.accept(answer.json.sdp as string);
    // About a second of each protocol's traffic.
    await waitFor(
      () => mjpeg.parts.length >= 30 && binary.frames.length >= 30 && viewer.frames.length >= 10,
      20_000,
    );
  });
  after(async () => {
    mjpeg.close();
    await binary.close();
    await viewer.close();
    await server?.stop();
  });

  const activeStreams = async () =>
    (await getJson(`${server.url}/liveview/getActiveStreams`)).json.streams as {
      protocol: string;
      latencyMs: StageLatencies;
    }[];
  const scrape = async () =>
    parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());

  it('lists p50 and p95 of every stage of every stream, each within the total', async () => {
    const streams = await activeStreams();
    for (const protocol of PROTOCOLS) {
      const latency = streams.find((s) => s.protocol === protocol)?.latencyMs;
      expect(latency, protocol).to.be.an('object');
      expect(Object.keys(latency!), protocol).to.have.members([...STAGES]);
      const total = latency!.total!;
      for (const [stage, p] of Object.entries(latency!)) {
        const what = `${protocol} ${stage}`;
        expect(p.p50, what).to.be.a('number').and.at.least(0);
        expect(p.p50, what).to.be.at.most(p.p95);
        // Every frame's stages add up to its total, so no stage's median exceeds the total's.
        expect(p.p50, what).to.be.at.most(total.p95 + EPSILON_MS);
      }
      // WebRTC keeps its default throttle, so the throttled path is checked above too.
      if (protocol !== 'webrtc')
        expect(latency!.throttle, `${protocol}: throttle_ms 0`).to.deep.equal({ p50: 0, p95: 0 });
    }
  });

  it('counts every stage of every stream in liveview_stream_stage_seconds, growing with traffic', async () => {
    const first = await scrape();
    const count = (m: typeof first, protocol: string, stage: string) =>
      histogramValue(m, 'liveview_stream_stage_seconds', { detector: 'Camera', protocol, stage })
        .count;
    const before = new Map<string, number>();
    for (const protocol of PROTOCOLS) {
      const latency = histogramValue(first, 'liveview_stream_latency_seconds', {
        detector: 'Camera',
        protocol,
      });
      for (const stage of STAGES) {
        const n = count(first, protocol, stage);
        expect(n, `${protocol} ${stage}`).to.be.at.least(10);
        before.set(`${protocol} ${stage}`, n);
      }
      // The total stage and the latency histogram time the same frames.
      expect(count(first, protocol, 'total'), protocol).to.equal(latency.count);
    }
    const sent = { mjpeg: mjpeg.parts.length, binary: binary.frames.length };
    await waitFor(
      () => mjpeg.parts.length >= sent.mjpeg + 5 && binary.frames.length >= sent.binary + 5,
      10_000,
    );
    const second = await scrape();
    for (const protocol of ['mjpeg', 'binary']) {
      for (const stage of STAGES) {
        const key = `${protocol} ${stage}`;
        expect(count(second, protocol, stage), key).to.be.greaterThan(before.get(key)!);
      }
    }
  });
});
