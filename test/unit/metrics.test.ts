import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { errorHandler } from '../../src/api/errors.js';
import {
  DETECTOR_STATES,
  createMetricsRegistry,
  histogramSamples,
  metricsHandler,
  streamSample,
} from '../../src/api/metrics.js';
import type { LiveViewController } from '../../src/core/controller.js';
import type { SourceState } from '../../src/core/frame-source.js';
import { BucketCounts, StreamTotals } from '../../src/core/stream-totals.js';
import { createLogger } from '../../src/core/logger.js';
import { histogramValue, parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

function totals(values: Partial<StreamTotals>, encodes: number[] = []): StreamTotals {
  const t = Object.assign(new StreamTotals(), values);
  for (const v of encodes) t.encodeSeconds.observe(v);
  return t;
}

/** Just what the metrics read of a controller: detectors with their sources, running streams. */
function fakeController(
  detectors: Record<
    string,
    {
      status: SourceState;
      framesReceived: number;
      readers: number;
      stopped?: Map<string, StreamTotals>;
    }
  >,
  running: {
    detectorName: string;
    protocol: string;
    clientCount: number;
    fps: number;
    totals: StreamTotals;
  }[],
): LiveViewController {
  return {
    detectors: {
      names: Object.keys(detectors),
      source: (name: string) => {
        const d = detectors[name];
        return {
          status: d.status,
          framesReceived: d.framesReceived,
          readerCount: d.readers,
          stoppedStreams: d.stopped ?? new Map(),
        };
      },
    },
    // Clients are what relays are read from; these streams have none.
    getActiveStreams: () => running.map((r) => ({ ...r, clients: [] })),
    findStream: (detector: string, protocol: string) => {
      const s = running.find((r) => r.detectorName === detector && r.protocol === protocol);
      return s && { totals: () => s.totals };
    },
  } as unknown as LiveViewController;
}

describe('metrics: the collect mapping', () => {
  it('adds the totals of the stopped streams to those of the running one', () => {
    const stopped = totals({ framesSent: 10, bytesSent: 1000 }, [0.002]);
    const running = totals({ framesSent: 3, bytesSent: 300, framesDropped: 1 }, [0.02, 0.02]);
    const s = streamSample('Cam', 'mjpeg', stopped, { clients: 2, fps: 14.5, totals: running });
    expect(s).to.include({
      detector: 'Cam',
      protocol: 'mjpeg',
      running: true,
      clients: 2,
      fps: 14.5,
    });
    expect(s.totals).to.include({ framesSent: 13, bytesSent: 1300, framesDropped: 1 });
    expect(s.totals.encodeSeconds.count).to.equal(3);
    expect(stopped.framesSent, 'inputs are not changed').to.equal(10);
    expect(running.encodeSeconds.count).to.equal(2);
  });

  it('a stopped stream has no clients and no fps but keeps its counts', () => {
    const s = streamSample('Cam', 'binary', totals({ framesEncoded: 7 }), undefined);
    expect(s).to.include({ running: false, clients: 0, fps: 0 });
    expect(s.totals.framesEncoded).to.equal(7);
  });

  it('has a state label value for every detector state, stalled included', () => {
    expect(DETECTOR_STATES).to.have.members([
      'idle',
      'starting',
      'running',
      'error',
      'closed',
      'stalled',
    ]);
  });

  it('writes a histogram as cumulative buckets, +Inf, sum and count', () => {
    const b = new BucketCounts([0.01, 0.1]);
    // Binary fractions, so that the sum is exact.
    for (const v of [0.0078125, 0.0625, 0.0625, 3]) b.observe(v);
    const samples = histogramSamples('x', [{ labels: { detector: 'A' }, buckets: b }]);
    expect(samples.map((s) => [s.metricName, s.labels.le, s.value])).to.deep.equal([
      ['x_bucket', 0.01, 1],
      ['x_bucket', 0.1, 3],
      ['x_bucket', '+Inf', 4],
      ['x_sum', undefined, 3.1328125],
      ['x_count', undefined, 4],
    ]);
    expect(samples.every((s) => s.sharedLabels.detector === 'A')).to.equal(true);
  });
});

describe('metrics: the registry of a server', () => {
  const odd = 'Cam "1"\\ \n';
  const controller = fakeController(
    {
      [odd]: { status: 'stalled', framesReceived: 42, readers: 1 },
      Idle: {
        status: 'idle',
        framesReceived: 0,
        readers: 0,
        stopped: new Map([['binary', totals({ framesSent: 9, bytesSent: 900 }, [0.5])]]),
      },
    },
    [
      {
        detectorName: odd,
        protocol: 'mjpeg',
        clientCount: 1,
        fps: 12,
        totals: totals({ framesEncoded: 5, framesSent: 5, bytesSent: 5000 }, [0.004, 0.004, 2]),
      },
    ],
  );

  it('collects the controller state on scrape into valid text, labels escaped', async () => {
    const registry = createMetricsRegistry(controller);
    const m = parsePrometheusText(await registry.metrics());
    const mjpeg = { detector: odd, protocol: 'mjpeg' };
    expect(sampleValue(m, 'liveview_stream_bytes_sent_total', mjpeg)).to.equal(5000);
    expect(sampleValue(m, 'liveview_stream_clients', mjpeg)).to.equal(1);
    expect(sampleValue(m, 'liveview_stream_fps', mjpeg)).to.equal(12);
    expect(sampleValue(m, 'liveview_stream_running', mjpeg)).to.equal(1);
    const encode = histogramValue(m, 'liveview_stream_encode_seconds', mjpeg);
    expect(encode.count).to.equal(3);
    expect(encode.buckets.get('0.005')).to.equal(2);
    expect(encode.buckets.get('1')).to.equal(2);
    expect(encode.buckets.get('+Inf')).to.equal(3);
    expect(encode.sum).to.be.closeTo(2.008, 1e-9);
    const binary = { detector: 'Idle', protocol: 'binary' };
    expect(sampleValue(m, 'liveview_stream_frames_sent_total', binary)).to.equal(9);
    expect(sampleValue(m, 'liveview_stream_running', binary)).to.equal(0);
    expect(sampleValue(m, 'liveview_stream_clients', binary)).to.equal(0);
    expect(histogramValue(m, 'liveview_stream_latency_seconds', binary).count).to.equal(0);
    for (const state of DETECTOR_STATES) {
      expect(sampleValue(m, 'liveview_detector_state', { detector: odd, state })).to.equal(
        state === 'stalled' ? 1 : 0,
      );
    }
    expect(sampleValue(m, 'liveview_detector_frames_received_total', { detector: odd })).to.equal(
      42,
    );
    expect(sampleValue(m, 'liveview_detector_readers', { detector: 'Idle' })).to.equal(0);
    expect(
      m.get('liveview_process_resident_memory_bytes') ??
        m.get('liveview_nodejs_heap_size_total_bytes'),
    ).to.not.equal(undefined);
  });

  it('gives every server its own registry (no clash of names)', async () => {
    const a = createMetricsRegistry(controller);
    const b = createMetricsRegistry(
      fakeController({ Other: { status: 'running', framesReceived: 1, readers: 1 } }, []),
    );
    const [ta, tb] = await Promise.all([a.metrics(), b.metrics()]);
    expect(
      sampleValue(parsePrometheusText(tb), 'liveview_detector_readers', { detector: 'Other' }),
    ).to.equal(1);
    expect(() =>
      sampleValue(parsePrometheusText(ta), 'liveview_detector_readers', { detector: 'Other' }),
    ).to.throw(/no sample/);
  });
});

describe('metrics: the HTTP handler', () => {
  async function get(registry: Registry): Promise<Response> {
    const app = express();
    app.get('/metrics', metricsHandler(registry));
    app.use(errorHandler(createLogger('silent')));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      return await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("answers with the registry's text and content type", async () => {
    const registry = new Registry();
    const res = await get(registry);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal(registry.contentType);
  });

  it('a failing collect is a JSON error, not a crash', async () => {
    const registry = new Registry();
    registry.metrics = () => Promise.reject(new Error('collect broke'));
    const res = await get(registry);
    expect(res.status).to.equal(500);
    expect(await res.json()).to.deep.equal({
      status: 'error',
      message: 'internal error: collect broke',
    });
  });
});

describe('the strict Prometheus text parser of the tests', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\n';

  it('reads families, types, help and samples', () => {
    const m = parsePrometheusText(ok);
    expect(m.get('a_total')).to.deep.equal({
      name: 'a_total',
      help: 'A.',
      type: 'counter',
      samples: [{ name: 'a_total', labels: { x: '1' }, value: 3 }],
    });
  });

  for (const [why, text] of [
    ['no final newline', ok.trimEnd()],
    ['a value that is no number', '# TYPE g gauge\ng 12abc\n'],
    ['a negative counter', '# TYPE c counter\nc -1\n'],
    ['a duplicate series', '# TYPE g gauge\ng{a="1"} 1\ng{a="1"} 2\n'],
    ['a family split in two', '# TYPE g gauge\ng 1\n# TYPE h gauge\nh 1\ng{a="2"} 1\n'],
    ['TYPE after samples', 'g 1\n# TYPE g gauge\n'],
    ['an unquoted label value', '# TYPE g gauge\ng{a=1} 1\n'],
    ['a bad escape', '# TYPE g gauge\ng{a="\\x"} 1\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    [
      'a histogram whose buckets shrink',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
    ['+Inf ≠ count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
  ]) {
    it(`rejects ${why}`, () => {
      expect(() => parsePrometheusText(text)).to.throw();
    });
  }
});
