import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import type { RecordingSink } from '../../src/core/recording.js';
import type { WebrtcWorker } from '../../src/protocols/webrtc/worker.js';
import { decodeVideo, probeVideo, videoContext, videoFormat } from '../helpers/recording-video.js';
import { postJson, startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('../helpers/recording-video-child.js', import.meta.url));

/**
 * What a file holds that ffprobe and ffmpeg read: frames in order, all decodable; `clean`: and
 * no complaint at all (a killed process may leave part of a fragment, which readers skip).
 */
async function expectPlayable(
  path: string,
  codec: 'h264' | 'vp8',
  atMost: number,
  clean: boolean,
): Promise<void> {
  const probed = await probeVideo(path);
  expect(probed.codec).to.equal(codec);
  expect(probed.frames).to.be.greaterThan(0);
  expect(probed.frames).to.be.at.most(atMost);
  expect(probed.keyframes[0]).to.equal(true);
  for (let i = 1; i < probed.pts.length; i++)
    expect(probed.pts[i]).to.be.greaterThan(probed.pts[i - 1]);
  const { codes, errors } = await decodeVideo(path, probed.width, probed.height);
  if (clean) expect(errors, 'ffmpeg decodes the file without complaint').to.equal('');
  expect(codes.length).to.equal(probed.frames);
  expect(codes.every((c) => c !== null)).to.equal(true);
  for (let i = 1; i < codes.length; i++) {
    expect(codes[i]!.frameNumber).to.be.greaterThan(codes[i - 1]!.frameNumber);
  }
}

describe('mp4 and webm recording: crashes and faults', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveview-recording-faults-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [format, codec] of [
    ['mp4', 'h264'],
    ['webm', 'vp8'],
  ] as const) {
    it(`${format}: a process killed mid-recording leaves a file that plays up to its last fragment`, async () => {
      const path = join(dir, `crash.${format}`);
      const child = spawn(process.execPath, [CHILD, format, path], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let written = 0;
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            for (const m of d.toString().matchAll(/written (\d+)/g)) written = Number(m[1]);
            // Keyframes every 500 ms: several fragments are complete by now, one is in progress.
            if (written >= 70) resolve();
          });
          child.on('exit', (code) =>
            reject(new Error(`the recording process exited with ${code}`)),
          );
        });
      } finally {
        child.kill('SIGKILL');
      }
      await new Promise((r) => child.once('close', r));
      await expectPlayable(path, codec, written + 3, false);
      const probed = await probeVideo(path);
      // At most the fragment in progress (500 ms) and the frames written since the last report are lost.
      expect(probed.frames).to.be.at.least(written - 30);
    });
  }

  describe('disk full', () => {
    let server: LiveViewServer;
    let mountPoint: string;
    const recordings: RecordingSink[] = [];
    let viewer: TestViewer | undefined;
    const worker = () =>
      server.controller.findStream('Camera', 'webrtc') as WebrtcWorker | undefined;

    before(async () => {
      mountPoint = join(dir, 'tiny');
      await mkdir(mountPoint);
      // A 1 MB file system that fills within seconds (the tests run as root).
      await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
      // Noise is the worst case for a codec: the files grow fast.
      server = await startTestServer(`
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30, pattern: noise, noise: 20 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], keyframe_interval_ms: 500 }
`);
    });
    afterEach(async () => {
      await Promise.all(recordings.splice(0).map((r) => r.stop()));
      await viewer?.close();
      viewer = undefined;
      await postJson(`${server.url}/liveview/stopLiveView`, { detectorName: 'Camera' });
      await run('sh', ['-c', `rm -f '${mountPoint}'/*`]);
    });
    after(async () => {
      await server?.stop();
      await run('umount', [mountPoint]).catch(() => undefined);
    });

    for (const [format, codec, viewerCodec] of [
      ['mp4', 'h264', 'H264'],
      ['webm', 'vp8', 'VP8'],
    ] as const) {
      it(`${format}: ends with a clear message, leaves a playable file and disturbs no viewer`, async () => {
        viewer = new TestViewer({ codecs: [viewerCodec] });
        const { status, json } = await postJson(`${server.url}/liveview/webrtc_offer`, {
          detectorName: 'Camera',
          sdp: await viewer.offer(),
          type: 'offer',
        });
        expect(status, String(json.message)).to.equal(200);
        await viewer.accept(json.sdp as string);
        const v = viewer;
        await waitFor(() => v.frames.length >= 5, 10_000);

        const path = join(mountPoint, `full.${format}`);
        const sink = await videoFormat(server, format).start(
          videoContext(path, { bitrate: 4_000_000 }),
        );
        recordings.push(sink);
        let message = '';
        await sink.ended.catch((err: Error) => (message = err.message));
        expect(message).to.match(
          new RegExp(`^${format} recording failed: .*No space left on device`),
        );

        // The viewer's stream goes on with its encoder; the recording's sink is gone.
        const n = v.frames.length;
        await waitFor(() => v.frames.length >= n + 15, 5000);
        expect(worker()?.running).to.equal(true);
        expect(worker()?.sinks).to.have.length(0);
        expect(worker()?.encoderCount).to.equal(1);
        // Cut back to its last complete fragment or cluster: nothing half-written at its end.
        await expectPlayable(path, codec, sink.stats.framesWritten, true);
      });
    }
  });
});
