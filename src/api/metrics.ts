import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LiveViewController } from '../core/controller.js';
import type { SourceState } from '../core/frame-source.js';
import { STAGES } from '../core/stage-timings.js';
import {
  ENCODE_SECONDS_BUCKETS,
  LATENCY_SECONDS_BUCKETS,
  STAGE_SECONDS_BUCKETS,
  StreamTotals,
  type BucketCounts,
} from '../core/stream-totals.js';

/** Prefix of every metric name. */
export const METRICS_PREFIX = 'liveview_';

/** Every state a detector can be reported in; a `Record` so that the compiler keeps it complete. */
const STATES: Record<SourceState, true> = {
  idle: true,
  starting: true,
  running: true,
  error: true,
  closed: true,
  stalled: true,
};

/** The values of the `state` label of `liveview_detector_state`. */
export const DETECTOR_STATES = Object.keys(STATES) as SourceState[];

/** One detector as a scrape sees it. */
export interface DetectorSample {
  detector: string;
  /** Its state, `stalled` while it runs without delivering frames. */
  state: SourceState;
  /** Frames received from the detector since the server started. */
  framesReceived: number;
  /** Readers subscribed to its frames (one per running stream). */
  readers: number;
}

/** One detector × protocol as a scrape sees it: every stream it ran, the running one included. */
export interface StreamSample {
  detector: string;
  protocol: string;
  /** True while a stream of this detector and protocol runs. */
  running: boolean;
  /** Clients of the running stream (0 when none runs). */
  clients: number;
  /** Frames per second the running stream delivers (0 when none runs). */
  fps: number;
  /** What every stream of this detector and protocol did since the server started. */
  totals: StreamTotals;
}

/** One relay (a stream's client whose `details` name a `relay`) as a scrape sees it. */
export interface RelaySample {
  relay: string;
  type: string;
  detector: string;
  state: string;
  packetsSent: number;
  bytesSent: number;
  /** Viewers where its servers report them. */
  viewers?: number;
}

/** The states a relay is reported in (`liveview_relay_state`). */
export const RELAY_STATES = ['starting', 'live', 'degraded', 'retrying'] as const;

/** Everything one scrape reports. */
export interface MetricsSnapshot {
  detectors: DetectorSample[];
  streams: StreamSample[];
  relays: RelaySample[];
}

/** The relays among the clients of the running streams (a relay lists itself in `details.relay`). */
function relaySamples(active: ReturnType<LiveViewController['getActiveStreams']>): RelaySample[] {
  const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return active.flatMap((s) =>
    s.clients.flatMap((c) => {
      const d = c.details;
      if (typeof d?.relay !== 'string') return [];
      return [
        {
          relay: d.relay,
          type: String(d.type),
          detector: s.detectorName,
          state: String(d.state),
          packetsSent: count(d.packetsSent),
          bytesSent: count(d.bytesSent),
          ...(typeof d.viewers === 'number' ? { viewers: d.viewers } : {}),
        },
      ];
    }),
  );
}

/** A running stream as `streamSample` needs it. */
export interface RunningStream {
  clients: number;
  fps: number;
  totals: StreamTotals;
}

/**
 * One detector × protocol: the totals of its stopped streams plus those of the running one, so
 * the counters only grow while the server runs, across stream restarts.
 */
export function streamSample(
  detector: string,
  protocol: string,
  stopped: StreamTotals | undefined,
  running: RunningStream | undefined,
): StreamSample {
  const totals = new StreamTotals();
  if (stopped) totals.add(stopped);
  if (running) totals.add(running.totals);
  return {
    detector,
    protocol,
    running: running !== undefined,
    clients: running?.clients ?? 0,
    fps: running?.fps ?? 0,
    totals,
  };
}

/** Reads what a scrape reports from the controller (the detectors, their streams, stopped ones too). */
export function takeSnapshot(controller: LiveViewController): MetricsSnapshot {
  const active = controller.getActiveStreams();
  const detectors: DetectorSample[] = [];
  const streams: StreamSample[] = [];
  for (const detector of controller.detectors.names) {
    const source = controller.detectors.source(detector);
    detectors.push({
      detector,
      state: source.status,
      framesReceived: source.framesReceived,
      readers: source.readerCount,
    });
    const running = new Map<string, RunningStream>();
    for (const s of active) {
      if (s.detectorName !== detector) continue;
      const worker = controller.findStream(detector, s.protocol);
      if (worker)
        running.set(s.protocol, { clients: s.clientCount, fps: s.fps, totals: worker.totals() });
    }
    const protocols = [...new Set([...source.stoppedStreams.keys(), ...running.keys()])].sort();
    for (const protocol of protocols) {
      streams.push(
        streamSample(
          detector,
          protocol,
          source.stoppedStreams.get(protocol),
          running.get(protocol),
        ),
      );
    }
  }
  return { detectors, streams, relays: relaySamples(active) };
}

/** One sample as prom-client's registry formats it. */
export interface Sample {
  metricName: string;
  /** The sample's own labels (`le` of a bucket). */
  labels: Record<string, string | number>;
  /** The series' labels. */
  sharedLabels: Record<string, string>;
  value: number;
}

/** The samples of a histogram's series in the text format's order: cumulative buckets, +Inf, sum, count. */
export function histogramSamples(
  name: string,
  series: { labels: Record<string, string>; buckets: BucketCounts }[],
): Sample[] {
  const samples: Sample[] = [];
  for (const { labels, buckets } of series) {
    let cumulative = 0;
    buckets.bounds.forEach((le, i) => {
      cumulative += buckets.counts[i];
      samples.push({
        metricName: `${name}_bucket`,
        labels: { le },
        sharedLabels: labels,
        value: cumulative,
      });
    });
    samples.push(
      {
        metricName: `${name}_bucket`,
        labels: { le: '+Inf' },
        sharedLabels: labels,
        value: buckets.count,
      },
      { metricName: `${name}_sum`, labels: {}, sharedLabels: labels, value: buckets.sum },
      { metricName: `${name}_count`, labels: {}, sharedLabels: labels, value: buckets.count },
    );
  }
  return samples;
}

/**
 * A prom-client Histogram whose series are read at scrape time from the `BucketCounts` the streams
 * fill themselves: prom-client can only observe values one by one, which would put it on the
 * frame path. It answers in the shape of prom-client's own histograms, which the registry formats
 * (for text it calls `getForPromString`, for JSON `get`, which splays the shared labels).
 */
class BucketedHistogram<T extends string> extends Histogram<T> {
  private readonly metricName: string;
  private readonly metricHelp: string;

  constructor(
    config: { name: string; help: string; labelNames: readonly T[]; buckets: readonly number[] },
    registry: Registry,
    private readonly read: () => { labels: Record<T, string>; buckets: BucketCounts }[],
  ) {
    super({ ...config, buckets: [...config.buckets], registers: [registry] });
    this.metricName = config.name;
    this.metricHelp = config.help;
  }

  /** The series as the registry formats them. */
  async getForPromString(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: Sample[];
    aggregator: 'sum';
  }> {
    return {
      name: this.metricName,
      help: this.metricHelp,
      type: 'histogram',
      values: histogramSamples(this.metricName, this.read()),
      aggregator: 'sum',
    };
  }
}

/**
 * The process metrics (CPU, memory, event loop, GC…): one collection per process, shared by the
 * registries of every server in it, because collectDefaultMetrics starts a GC observer and an
 * event-loop monitor that prom-client never stops.
 */
let processRegistry: Registry | undefined;

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRICS_PREFIX });
  }
  return processRegistry;
}

/**
 * The registry of one server: its detectors and streams, collected at scrape time from the
 * controller (the frame path only bumps plain counters), plus the process metrics.
 */
export function createMetricsRegistry(controller: LiveViewController): Registry {
  const registry = new Registry();
  // One reading of the controller per scrape, shared by every metric of that scrape.
  let current: MetricsSnapshot | undefined;
  const snapshot = (): MetricsSnapshot => {
    if (!current) {
      current = takeSnapshot(controller);
      setImmediate(() => (current = undefined));
    }
    return current;
  };
  const streamLabels = ['detector', 'protocol'] as const;
  const labelsOf = (s: StreamSample): Record<'detector' | 'protocol', string> => ({
    detector: s.detector,
    protocol: s.protocol,
  });

  const streamCounter = (name: string, help: string, value: (t: StreamTotals) => number): void => {
    new Counter({
      name: `${METRICS_PREFIX}stream_${name}`,
      help,
      labelNames: streamLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of snapshot().streams) this.inc(labelsOf(s), value(s.totals));
      },
    });
  };
  const streamGauge = (name: string, help: string, value: (s: StreamSample) => number): void => {
    new Gauge({
      name: `${METRICS_PREFIX}stream_${name}`,
      help,
      labelNames: streamLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of snapshot().streams) this.set(labelsOf(s), value(s));
      },
    });
  };

  streamCounter(
    'frames_encoded_total',
    'Frames a stream encoded (once for all of its clients).',
    (t) => t.framesEncoded,
  );
  streamCounter(
    'frames_sent_total',
    'Encoded frames delivered to clients, summed over the clients.',
    (t) => t.framesSent,
  );
  streamCounter(
    'frames_dropped_total',
    'Frames the detector delivered that the stream was too slow to take (throttling excluded).',
    (t) => t.framesDropped,
  );
  streamCounter(
    'frames_skipped_total',
    'Encoded frames a client was still too busy to take, summed over the clients.',
    (t) => t.framesSkipped,
  );
  streamCounter(
    'bytes_sent_total',
    "Bytes handed to the clients' transports (MJPEG parts, UC2F packets, RTP payloads), summed over the clients.",
    (t) => t.bytesSent,
  );
  streamCounter('encode_errors_total', 'Encodes that failed.', (t) => t.encodeErrors);
  streamGauge(
    'running',
    '1 while a stream of the detector and protocol runs, 0 after it stopped.',
    (s) => (s.running ? 1 : 0),
  );
  streamGauge('clients', 'Clients connected to the stream.', (s) => s.clients);
  streamGauge('fps', 'Frames per second the stream delivers (measured over 2 s).', (s) => s.fps);
  new BucketedHistogram(
    {
      name: `${METRICS_PREFIX}stream_encode_seconds`,
      help: 'Seconds each successful encode of a frame took.',
      labelNames: streamLabels,
      buckets: ENCODE_SECONDS_BUCKETS,
    },
    registry,
    () => snapshot().streams.map((s) => ({ labels: labelsOf(s), buckets: s.totals.encodeSeconds })),
  );
  new BucketedHistogram(
    {
      name: `${METRICS_PREFIX}stream_latency_seconds`,
      help: 'Seconds from the capture of a frame to the moment its encoded unit was handed to every client.',
      labelNames: streamLabels,
      buckets: LATENCY_SECONDS_BUCKETS,
    },
    registry,
    () =>
      snapshot().streams.map((s) => ({ labels: labelsOf(s), buckets: s.totals.latencySeconds })),
  );
  new BucketedHistogram(
    {
      name: `${METRICS_PREFIX}stream_stage_seconds`,
      help: 'Seconds each frame spent in each stage: capture_to_source, queue_wait, throttle, convert, encode, send, total (capture to clients).',
      labelNames: [...streamLabels, 'stage'] as const,
      buckets: STAGE_SECONDS_BUCKETS,
    },
    registry,
    () =>
      snapshot().streams.flatMap((s) =>
        STAGES.map((stage) => ({
          labels: { ...labelsOf(s), stage },
          buckets: s.totals.stageSeconds[stage],
        })),
      ),
  );

  new Gauge({
    name: `${METRICS_PREFIX}detector_state`,
    help: "1 for a detector's current state, 0 for the others (stalled: running without delivering frames).",
    labelNames: ['detector', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const d of snapshot().detectors) {
        for (const state of DETECTOR_STATES) {
          this.set({ detector: d.detector, state }, d.state === state ? 1 : 0);
        }
      }
    },
  });
  new Counter({
    name: `${METRICS_PREFIX}detector_frames_received_total`,
    help: 'Frames received from the detector.',
    labelNames: ['detector'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const d of snapshot().detectors) this.inc({ detector: d.detector }, d.framesReceived);
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}detector_readers`,
    help: "Readers of the detector's frames (one per running stream).",
    labelNames: ['detector'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const d of snapshot().detectors) this.set({ detector: d.detector }, d.readers);
    },
  });

  const relayLabels = ['relay', 'type', 'detector'] as const;
  const relayLabelsOf = (r: RelaySample) => ({
    relay: r.relay,
    type: r.type,
    detector: r.detector,
  });
  new Gauge({
    name: `${METRICS_PREFIX}relay_state`,
    help: "1 for a relay's current state (live, degraded: some of its servers fed, retrying, starting), 0 for the others.",
    labelNames: [...relayLabels, 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of snapshot().relays) {
        for (const state of RELAY_STATES)
          this.set({ ...relayLabelsOf(r), state }, r.state === state ? 1 : 0);
      }
    },
  });
  new Counter({
    name: `${METRICS_PREFIX}relay_packets_sent_total`,
    help: 'RTP packets a relay sent, over all of its destinations (Janus servers, the WHIP endpoint).',
    labelNames: relayLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of snapshot().relays) this.inc(relayLabelsOf(r), r.packetsSent);
    },
  });
  new Counter({
    name: `${METRICS_PREFIX}relay_bytes_sent_total`,
    help: 'Bytes a relay sent, over all of its destinations.',
    labelNames: relayLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of snapshot().relays) this.inc(relayLabelsOf(r), r.bytesSent);
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}relay_viewers`,
    help: "Viewers of a relay's stream on its servers, where they report them (Janus).",
    labelNames: relayLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of snapshot().relays)
        if (r.viewers !== undefined) this.set(relayLabelsOf(r), r.viewers);
    },
  });

  return Registry.merge([registry, processMetrics()]);
}

/**
 * GET /metrics: the registry in the Prometheus text format. Errors go to the JSON error handler.
 * When authentication exists, this route is for the monitoring role only.
 */
export function metricsHandler(registry: Registry): RequestHandler {
  return async (_req, res) => {
    const text = await registry.metrics();
    // Set as is: res.type() would rewrite the parameters of the format's content type.
    res.setHeader('Content-Type', registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(text);
  };
}
