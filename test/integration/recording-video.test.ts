import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import type { RecordingSink, RecordingStats } from '../../src/core/recording.js';
import { liveEncoders } from '../../src/protocols/webrtc/video-encoder.js';
import type { WebrtcWorker } from '../../src/protocols/webrtc/worker.js';
import {
  clusterOffsets,
  decodeVideo,
  probeVideo,
  topLevelBoxes,
  videoContext,
  videoFormat,
  type ProbedVideo,
} from '../helpers/recording-video.js';
import { postJson, startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], keyframe_interval_ms: 1000 }
`;

/** Rejection message of a promise that must reject. */
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
}

/**
 * What every recorded file must be, read back with Debian's ffprobe/ffmpeg: the codec, as many
 * frames as written (±1), a duration spanning the capture times, strictly increasing presentation
 * times equal to the capture times in the pixel codes (relative to the first frame), frames in
 * order, starting on a keyframe.
 */
async function expectRecorded(
  path: string,
  stats: RecordingStats,
  codec: 'h264' | 'vp8',
): Promise<ProbedVideo> {
  const probed = await probeVideo(path);
  expect(probed.codec).to.equal(codec);
  expect(probed).to.include({ width: 320, height: 240 });
  expect(stats.framesWritten).to.be.greaterThan(10);
  expect(probed.frames).to.be.within(stats.framesWritten - 1, stats.framesWritten + 1);
  expect(probed.keyframes[0], 'the first frame is a keyframe').to.equal(true);
  for (let i = 1; i < probed.pts.length; i++) {
    expect(probed.pts[i], `pts of packet ${i}`).to.be.greaterThan(probed.pts[i - 1]);
  }
  const spanS = Number(stats.lastTimestamp! - stats.firstTimestamp!) / 1e9;
  expect(probed.duration).to.be.within(spanS, spanS + 0.25);
  expect((await stat(path)).size).to.equal(stats.bytesWritten);

  const { codes, errors } = await decodeVideo(path, probed.width, probed.height);
  expect(errors, 'ffmpeg decodes the file without complaint').to.equal('');
  expect(codes.length).to.equal(probed.frames);
  expect(
    codes.every((c) => c !== null),
    'every frame has a readable pixel code',
  ).to.equal(true);
  const first = codes[0]!;
  expect(first.timestampMs).to.equal(Number(stats.firstTimestamp! / 1_000_000n));
  for (let i = 0; i < codes.length; i++) {
    if (i > 0) expect(codes[i]!.frameNumber).to.be.greaterThan(codes[i - 1]!.frameNumber);
    // Capture time (ms, floored in the code) minus the first one is the presentation time.
    const captureS = (codes[i]!.timestampMs - first.timestampMs) / 1000;
    expect(probed.pts[i] - probed.pts[0], `frame ${i}`).to.be.closeTo(captureS, 0.0021);
  }
  return probed;
}

async function expectMissing(path: string): Promise<void> {
  const err = await stat(path).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  );
  expect(err?.code, `${path} does not exist`).to.equal('ENOENT');
}

describe('mp4 and webm recording of the WebRTC stream', function () {
  this.timeout(60_000);
  let server: LiveViewServer;
  let dir: string;
  const recordings: RecordingSink[] = [];
  const viewers: TestViewer[] = [];

  const worker = () => server.controller.findStream('Camera', 'webrtc') as WebrtcWorker | undefined;
  const record = async (format: 'mp4' | 'webm', name: string, params = {}) => {
    const path = join(dir, name);
    const sink = await videoFormat(server, format).start(videoContext(path, params));
    recordings.push(sink);
    return { path, sink };
  };
  const connectViewer = async (codecs: ('VP8' | 'H264')[]) => {
    const v = new TestViewer({ codecs });
    viewers.push(v);
    const { status, json } = await postJson(`${server.url}/liveview/webrtc_offer`, {
      detectorName: 'Camera',
      sdp: await v.offer(),
      type: 'offer',
    });
    expect(status, String(json.message)).to.equal(200);
    await v.accept(json.sdp as string);
    await waitFor(() => v.frames.length >= 5, 10_000);
    return v;
  };

  before(async () => {
    server = await startTestServer(YAML);
    dir = await mkdtemp(join(tmpdir(), 'liveview-recording-video-'));
  });
  afterEach(async () => {
    await Promise.all(recordings.splice(0).map((r) => r.stop()));
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    await postJson(`${server.url}/liveview/stopLiveView`, { detectorName: 'Camera' });
    await postJson(`${server.url}/liveview/detectors/Camera/parameters`, {
      fps: 30,
      width: 320,
      height: 240,
    });
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the webrtc protocol offers mp4 (video/mp4) and webm (video/webm)', () => {
    const mp4 = videoFormat(server, 'mp4');
    const webm = videoFormat(server, 'webm');
    expect(mp4).to.include({ extension: '.mp4', mimeType: 'video/mp4', directory: false });
    expect(webm).to.include({ extension: '.webm', mimeType: 'video/webm', directory: false });
  });

  it('mp4: H.264 in fragments, capture times as presentation times, variable frame rate kept', async () => {
    const { path, sink } = await record('mp4', 'vfr.mp4');
    await waitFor(() => sink.stats.framesWritten >= 45, 10_000);
    // The camera slows down mid-recording: the file must show it, not a made-up constant rate.
    await postJson(`${server.url}/liveview/detectors/Camera/parameters`, { fps: 10 });
    const at = sink.stats.framesWritten;
    await waitFor(() => sink.stats.framesWritten >= at + 20, 10_000);
    await sink.stop();
    await sink.ended;
    const probed = await expectRecorded(path, sink.stats, 'h264');
    const intervals = probed.pts.slice(1).map((t, i) => t - probed.pts[i]);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    expect(median(intervals.slice(5, 35))).to.be.closeTo(1 / 30, 0.008);
    expect(median(intervals.slice(-15))).to.be.closeTo(1 / 10, 0.01);
    // A fragment per keyframe (every second here): a crash loses at most the last one.
    const file = await readFile(path);
    expect(topLevelBoxes(file, 'moov')).to.have.length(1);
    expect(topLevelBoxes(file, 'moof').length).to.be.at.least(
      probed.keyframes.filter(Boolean).length,
    );
  });

  it('webm: VP8 with a cluster starting at every keyframe', async () => {
    const { path, sink } = await record('webm', 'plain.webm');
    await waitFor(() => sink.stats.framesWritten >= 75, 10_000);
    await sink.stop();
    await sink.ended;
    const probed = await expectRecorded(path, sink.stats, 'vp8');
    const clusters = clusterOffsets(await readFile(path));
    const keyframeAt = probed.positions.filter((_, i) => probed.keyframes[i]);
    expect(clusters.length).to.be.at.least(2);
    // Each cluster's first block is a keyframe: its packet follows the cluster's header closely.
    for (const c of clusters) {
      expect(
        keyframeAt.some((p) => p > c && p - c < 32),
        `cluster at ${c} starts on a keyframe`,
      ).to.equal(true);
    }
  });

  it('mp4 beside an H.264 viewer uses the one encoder the viewer already has', async () => {
    const before = liveEncoders;
    const v = await connectViewer(['H264']);
    expect(liveEncoders - before).to.equal(1);
    const { path, sink } = await record('mp4', 'shared.mp4');
    await waitFor(() => sink.stats.framesWritten >= 30, 10_000);
    expect(worker()?.encoderCount).to.equal(1);
    expect(liveEncoders - before, 'encoders while recording beside a viewer').to.equal(1);
    const status = server.controller.getActiveStreams().find((s) => s.protocol === 'webrtc')!;
    expect(status.clients.map((c) => c.remote)).to.include('recording (mp4)');
    await sink.stop();
    await sink.ended;
    await expectRecorded(path, sink.stats, 'h264');
    // The viewer keeps its stream and its encoder; it leaves, and the encoder with it.
    const n = v.frames.length;
    await waitFor(() => v.frames.length > n + 10, 5000);
    expect(liveEncoders - before).to.equal(1);
    await v.close();
    await waitFor(() => liveEncoders === before, 10_000);
  });

  it('webm beside an H.264 viewer adds a VP8 encoder and stops it when done', async () => {
    const before = liveEncoders;
    await connectViewer(['H264']);
    const { sink } = await record('webm', 'second-codec.webm');
    await waitFor(() => sink.stats.framesWritten >= 10, 10_000);
    expect(worker()?.encoderCount).to.equal(2);
    await sink.stop();
    expect(worker()?.encoderCount).to.equal(1);
    expect(liveEncoders - before).to.equal(1);
  });

  it('a recording alone starts the stream on demand, and the stream stops after it', async () => {
    expect(worker()).to.equal(undefined);
    const { sink } = await record('mp4', 'alone.mp4');
    await waitFor(() => sink.stats.framesWritten >= 10, 10_000);
    expect(worker()?.running).to.equal(true);
    await sink.stop();
    await sink.ended;
    await waitFor(() => worker() === undefined, 10_000);
  });

  it('the stream stopping under a recording ends it with a clear message; the file plays', async () => {
    const { path, sink } = await record('webm', 'cut.webm');
    await waitFor(() => sink.stats.framesWritten >= 20, 10_000);
    await postJson(`${server.url}/liveview/stopLiveView`, {
      detectorName: 'Camera',
      protocol: 'webrtc',
    });
    const message = await rejection(sink.ended);
    expect(message).to.match(/webrtc stream of detector 'Camera' ended the webm recording/);
    await expectRecorded(path, sink.stats, 'vp8');
  });

  it('a new picture size ends the recording with a message; the file keeps the old size', async () => {
    const { path, sink } = await record('mp4', 'resized.mp4');
    await waitFor(() => sink.stats.framesWritten >= 20, 10_000);
    const { status } = await postJson(`${server.url}/liveview/detectors/Camera/parameters`, {
      width: 160,
      height: 120,
    });
    expect(status).to.equal(200);
    const message = await rejection(sink.ended);
    expect(message).to.match(
      /^mp4 recording failed: the stream's picture size changed from 320x240 to 160x120/,
    );
    await expectRecorded(path, sink.stats, 'h264');
  });

  it('bad params are refused with a message naming the key', async () => {
    const format = videoFormat(server, 'mp4');
    const unknown = await rejection(format.start(videoContext(join(dir, 'x.mp4'), { fps: 5 })));
    expect(unknown).to.equal('params.fps: unknown key (known keys: bitrate)');
    const bad = await rejection(format.start(videoContext(join(dir, 'x.mp4'), { bitrate: 5 })));
    expect(bad).to.match(/^params\.bitrate: must be an integer between 50000 and 100000000/);
    const detector = await rejection(
      format.start(videoContext(join(dir, 'x.mp4'), {}, 'NoSuchCamera')),
    );
    expect(detector).to.match(/NoSuchCamera/);
    expect(worker()).to.equal(undefined);
    await expectMissing(join(dir, 'x.mp4'));
  });

  it('a path that cannot be written, or exists, fails the start', async () => {
    const format = videoFormat(server, 'webm');
    const missingDir = await rejection(
      format.start(videoContext(join(dir, 'no-such-dir', 'a.webm'))),
    );
    expect(missingDir).to.match(/^cannot create the webm file: ENOENT/);
    await writeFile(join(dir, 'taken.webm'), 'not mine');
    const taken = await rejection(format.start(videoContext(join(dir, 'taken.webm'))));
    expect(taken).to.match(/^cannot create the webm file: EEXIST/);
    expect(await readFile(join(dir, 'taken.webm'), 'utf8')).to.equal('not mine');
    expect(worker()).to.equal(undefined);
  });

  it('stopped before its first keyframe: nothing was recorded, and no file is left', async () => {
    const path = join(dir, 'empty.mp4');
    const sink = await videoFormat(server, 'mp4').start(videoContext(path));
    await sink.stop();
    expect(await rejection(sink.ended)).to.match(/^nothing was recorded: no keyframe came/);
    expect(sink.stats).to.include({ framesWritten: 0, bytesWritten: 0 });
    await expectMissing(path);
  });

  it('bitrate: the shared encoder stays at or above it while a weak viewer asks for less', async () => {
    const weak = await connectViewer(['H264']);
    await weak.sendRemb(500_000);
    // 85 % of the viewer's estimate, while nothing else asks.
    await waitFor(() => worker()?.targetBitrate('H264') === 425_000, 5000);
    const { sink } = await record('mp4', 'bitrate.mp4', { bitrate: 2_000_000 });
    await waitFor(() => worker()?.targetBitrate('H264') === 2_000_000, 5000);
    await sink.stop();
    await waitFor(() => worker()?.targetBitrate('H264') === 425_000, 5000);
  });
});
