import { expect } from 'chai';
import { Registry } from 'prom-client';
import type { LiveViewServer } from '../../src/api/server.js';
import { BinaryClient } from '../helpers/binary-client.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import {
  histogramValue,
  parsePrometheusText,
  sampleValue,
  type PromFamily,
} from '../helpers/prometheus-text.js';
import { SMALL_MOCK_YAML, postJson, startTestServer, waitFor } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 160, height: 120, fps: 30 }
  Stalling:
    type: mock
    options: { width: 64, height: 48, fps: 30, fault: stall, fault_after_frames: 5 }
    stall_timeout_ms: 600
protocols:
  mjpeg: { throttle_ms: 0 }
  binary: { throttle_ms: 0 }
`;

/** Every family this server exports with its type (the process metrics come on top). */
const FAMILIES: Record<string, PromFamily['type']> = {
  liveview_stream_frames_encoded_total: 'counter',
  liveview_stream_frames_sent_total: 'counter',
  liveview_stream_frames_dropped_total: 'counter',
  liveview_stream_frames_skipped_total: 'counter',
  liveview_stream_bytes_sent_total: 'counter',
  liveview_stream_encode_errors_total: 'counter',
  liveview_stream_running: 'gauge',
  liveview_stream_clients: 'gauge',
  liveview_stream_fps: 'gauge',
  liveview_stream_encode_seconds: 'histogram',
  liveview_stream_latency_seconds: 'histogram',
  liveview_stream_stage_seconds: 'histogram',
  liveview_detector_state: 'gauge',
  liveview_detector_frames_received_total: 'counter',
  liveview_detector_readers: 'gauge',
  liveview_relay_state: 'gauge',
  liveview_relay_packets_sent_total: 'counter',
  liveview_relay_bytes_sent_total: 'counter',
  liveview_relay_viewers: 'gauge',
};

describe('GET /metrics (Prometheus)', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let other: LiveViewServer | undefined;
  const readers: MultipartReader[] = [];
  const binaries: BinaryClient[] = [];

  before(async () => {
    server = await startTestServer(YAML);
  });
  after(async () => {
    for (const r of readers) r.close();
    for (const b of binaries) await b.close();
    await other?.stop();
    await server?.stop();
  });

  const scrape = async (target = server): Promise<Map<string, PromFamily>> => {
    const res = await fetch(`${target.url}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal(Registry.PROMETHEUS_CONTENT_TYPE);
    return parsePrometheusText(await res.text());
  };
  const mjpeg = { detector: 'Camera', protocol: 'mjpeg' };
  const stream = (m: Map<string, PromFamily>, name: string, labels = mjpeg) =>
    sampleValue(m, `liveview_stream_${name}`, labels);
  const state = (m: Map<string, PromFamily>, detector: string, s: string) =>
    sampleValue(m, 'liveview_detector_state', { detector, state: s });

  it('exports every family with HELP and TYPE, and the process metrics, before any stream', async () => {
    const m = await scrape();
    for (const [name, type] of Object.entries(FAMILIES)) {
      expect(m.get(name)?.type, name).to.equal(type);
      expect(m.get(name)?.help, name).to.be.a('string').and.not.equal('');
    }
    for (const family of m.values()) {
      expect(family.name).to.match(/^liveview_/);
      expect(family.help, family.name).to.be.a('string');
    }
    expect(sampleValue(m, 'liveview_process_cpu_user_seconds_total')).to.be.greaterThan(0);
    expect(sampleValue(m, 'liveview_nodejs_heap_size_used_bytes')).to.be.greaterThan(0);
    expect(m.get('liveview_stream_frames_sent_total')?.samples).to.deep.equal([]);
    expect(state(m, 'Camera', 'idle')).to.equal(1);
    expect(state(m, 'Camera', 'running')).to.equal(0);
    expect(sampleValue(m, 'liveview_detector_readers', { detector: 'Camera' })).to.equal(0);
  });

  it('counts what an MJPEG client gets, and keeps counting across a restart of the stream', async () => {
    const reader = new MultipartReader();
    readers.push(reader);
    await reader.connect(`${server.url}/liveview/mjpeg?detectorName=Camera`);
    await reader.waitForParts(5);
    const first = await scrape();
    const received = () => reader.parts.reduce((n, p) => n + p.body.length, 0);
    expect(stream(first, 'clients')).to.equal(1);
    expect(stream(first, 'running')).to.equal(1);
    expect(stream(first, 'frames_sent_total')).to.be.at.least(5);
    expect(stream(first, 'frames_encoded_total')).to.be.at.least(
      stream(first, 'frames_sent_total'),
    );
    expect(stream(first, 'bytes_sent_total')).to.be.at.least(received());
    expect(state(first, 'Camera', 'running')).to.equal(1);
    expect(state(first, 'Camera', 'idle')).to.equal(0);
    expect(sampleValue(first, 'liveview_detector_readers', { detector: 'Camera' })).to.equal(1);
    expect(
      sampleValue(first, 'liveview_detector_frames_received_total', { detector: 'Camera' }),
    ).to.be.at.least(5);
    const encode1 = histogramValue(first, 'liveview_stream_encode_seconds', mjpeg);
    const latency1 = histogramValue(first, 'liveview_stream_latency_seconds', mjpeg);
    expect(encode1.count).to.equal(stream(first, 'frames_encoded_total'));
    expect(encode1.sum).to.be.greaterThan(0);
    expect(latency1.count).to.be.at.least(5);
    expect(latency1.sum).to.be.greaterThan(0);
    expect(latency1.sum / latency1.count, 'mean capture→send seconds').to.be.below(2);

    await reader.waitForParts(reader.parts.length + 5);
    const second = await scrape();
    expect(stream(second, 'frames_sent_total')).to.be.greaterThan(
      stream(first, 'frames_sent_total'),
    );
    expect(stream(second, 'bytes_sent_total')).to.be.greaterThan(stream(first, 'bytes_sent_total'));
    expect(stream(second, 'bytes_sent_total')).to.be.at.least(received());
    expect(histogramValue(second, 'liveview_stream_encode_seconds', mjpeg).count).to.be.greaterThan(
      encode1.count,
    );
    for (const stage of ['capture_to_source', 'queue_wait', 'convert', 'encode', 'send', 'total']) {
      const labels = { ...mjpeg, stage };
      const was = histogramValue(first, 'liveview_stream_stage_seconds', labels);
      const now = histogramValue(second, 'liveview_stream_stage_seconds', labels);
      expect(was.count, stage).to.be.at.least(5);
      expect(now.count, stage).to.be.greaterThan(was.count);
      expect(now.sum, stage).to.be.at.least(was.sum);
    }
    expect(stream(second, 'fps')).to.be.greaterThan(0);

    reader.close();
    await waitFor(async () => stream(await scrape(), 'clients') === 0);
    const left = await scrape();
    // The client's counts stay in the stream's totals after it left.
    expect(stream(left, 'frames_sent_total')).to.be.at.least(stream(second, 'frames_sent_total'));
    expect(stream(left, 'bytes_sent_total')).to.be.at.least(stream(second, 'bytes_sent_total'));

    const stop = await postJson(`${server.url}/liveview/stopLiveView`, {
      detectorName: 'Camera',
      protocol: 'mjpeg',
    });
    expect(stop.status).to.equal(200);
    const stopped = await scrape();
    expect(stream(stopped, 'running')).to.equal(0);
    expect(stream(stopped, 'clients')).to.equal(0);
    expect(stream(stopped, 'fps')).to.equal(0);
    expect(sampleValue(stopped, 'liveview_detector_readers', { detector: 'Camera' })).to.equal(0);
    for (const name of ['frames_sent_total', 'bytes_sent_total', 'frames_encoded_total'])
      expect(stream(stopped, name), name).to.be.at.least(stream(left, name));

    // A new stream of the same detector and protocol counts on from there.
    const again = new MultipartReader();
    readers.push(again);
    await again.connect(`${server.url}/liveview/mjpeg?detectorName=Camera`);
    await again.waitForParts(3);
    const restarted = await scrape();
    expect(stream(restarted, 'clients')).to.equal(1);
    expect(stream(restarted, 'frames_sent_total')).to.be.at.least(
      stream(stopped, 'frames_sent_total') + 3,
    );
    expect(
      histogramValue(restarted, 'liveview_stream_encode_seconds', mjpeg).count,
    ).to.be.greaterThan(histogramValue(stopped, 'liveview_stream_encode_seconds', mjpeg).count);
    again.close();
  });

  it('counts the bytes of binary packets', async () => {
    const client = new BinaryClient();
    binaries.push(client);
    await client.connect(`${server.url.replace('http', 'ws')}/liveview/binary?detectorName=Camera`);
    await waitFor(() => client.frames.length >= 3);
    const m = await scrape();
    const binary = { detector: 'Camera', protocol: 'binary' };
    const packets = client.frames.reduce((n, f) => n + f.packetBytes, 0);
    expect(stream(m, 'clients', binary)).to.equal(1);
    expect(stream(m, 'frames_sent_total', binary)).to.be.at.least(client.frames.length);
    expect(stream(m, 'bytes_sent_total', binary)).to.be.at.least(packets);
    expect(histogramValue(m, 'liveview_stream_latency_seconds', binary).count).to.be.at.least(3);
    await client.close();
  });

  it('reports a detector that stops delivering as stalled', async () => {
    const reader = new MultipartReader();
    readers.push(reader);
    await reader.connect(`${server.url}/liveview/mjpeg?detectorName=Stalling`);
    await reader.waitForParts(3);
    await waitFor(async () => state(await scrape(), 'Stalling', 'stalled') === 1, 5000);
    const m = await scrape();
    expect(state(m, 'Stalling', 'running')).to.equal(0);
    expect(state(m, 'Camera', 'stalled')).to.equal(0);
    expect(
      sampleValue(m, 'liveview_detector_frames_received_total', { detector: 'Stalling' }),
    ).to.equal(5);
    reader.close();
  });

  it('keeps the stream metrics of each server apart', async () => {
    other = await startTestServer(SMALL_MOCK_YAML);
    const m = await scrape(other);
    expect(m.get('liveview_stream_frames_sent_total')?.samples).to.deep.equal([]);
    expect(m.get('liveview_detector_state')?.samples.map((s) => s.labels.detector)).to.include(
      'Camera',
    );
    expect(
      sampleValue(m, 'liveview_detector_frames_received_total', { detector: 'Camera' }),
    ).to.equal(0);
    // The first server still answers with its own.
    expect(stream(await scrape(), 'frames_sent_total')).to.be.greaterThan(0);
  });
});
