import { RTCPeerConnection, useVP8, useNACK, usePLI, useREMB } from 'werift';
import { normalize, DEFAULT_NORMALIZE_OPTIONS } from '../src/core/normalize.js';
import { toI420 } from '../src/protocols/webrtc/i420.js';
import { onlyCandidatesOn } from '../src/protocols/webrtc/peer.js';
import { VideoEncoder } from '../src/protocols/webrtc/video-encoder.js';
import { launchChromium } from '../test/helpers/browser.js';
import { mockFrames } from './pipeline.js';
import { startBenchServer } from './server.js';
import { cpuSeconds, fmt, median, printTable } from './stats.js';

const WIDTH = 1280;
const HEIGHT = 720;
const CAMERA = `detectors:
  Camera:
    type: mock
    options: { width: ${WIDTH}, height: ${HEIGHT}, dtype: uint16, bit_depth: 12, fps: 30 }
protocols:
  webrtc: { throttle_ms: 0, ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`;

/** Frames per second one encoder reaches, one frame at a time (FFmpeg with one thread). */
async function encoderFps(codec: 'VP8' | 'H264', seconds: number): Promise<number> {
  const frames = await mockFrames({ width: WIDTH, height: HEIGHT, fps: 100 }, 8);
  const pictures = frames.map((f) => toI420(normalize(f, DEFAULT_NORMALIZE_OPTIONS)));
  const encoder = new VideoEncoder(codec);
  try {
    let n = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    while (performance.now() < end) {
      const p = pictures[n % pictures.length];
      await encoder.encode({ ...p, data: p.data }, n * 3000, n === 0, 2_000_000);
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await encoder.close();
  }
}

/** A werift viewer that only counts frames (marker bits): cheap enough for 20 in one process. */
async function countingViewer(
  url: string,
): Promise<{ frames: () => number; close: () => Promise<void> }> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceUseIpv6: false,
    iceUseTcp: false,
    bundlePolicy: 'max-bundle',
    codecs: { video: [useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })] },
  });
  let frames = 0;
  const t = pc.addTransceiver('video', { direction: 'recvonly' });
  t.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) => {
      if (rtp.header.marker) frames++;
    }),
  );
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve());
  });
  const res = await fetch(`${url}/liveview/webrtc_offer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      detectorName: 'Camera',
      sdp: onlyCandidatesOn(pc.localDescription!.sdp, ['127.0.0.1']),
      type: 'offer',
    }),
  });
  const answer = (await res.json()) as { sdp: string };
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  return { frames: () => frames, close: () => pc.close() };
}

/** Server CPU and delivered fps with N viewers of one 1280x720 stream. */
async function viewersCost(
  viewers: number,
  seconds: number,
): Promise<{ cpu: number; fps: number }> {
  const server = await startBenchServer(CAMERA);
  try {
    const peers = await Promise.all(
      Array.from({ length: viewers }, () => countingViewer(server.url)),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const start = peers.map((p) => p.frames());
    const cpu0 = await cpuSeconds(server.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = ((await cpuSeconds(server.pid)) - cpu0) / elapsed;
    const fps = median(peers.map((p, i) => (p.frames() - start[i]) / elapsed));
    await Promise.all(peers.map((p) => p.close()));
    return { cpu: cpu * 100, fps };
  } finally {
    await server.stop();
  }
}

/** Capture-to-paint latency in Chromium: the pixel code's capture time against the paint time. */
async function glassToGlass(seconds: number): Promise<number[]> {
  const server = await startBenchServer(CAMERA);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/webrtc_stream.html?detector=Camera`);
    await page.click('#start');
    await page.waitForFunction(
      () => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0,
    );
    return await page.evaluate(async (ms) => {
      const { decodePixelCode } = (await import('/lib/pixel-code.js' as string)) as {
        decodePixelCode: (
          d: Uint8ClampedArray,
          w: number,
          h: number,
          c: number,
        ) => { timestampMs: number } | null;
      };
      const video = document.getElementById('video') as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      // Only the top rows hold the code.
      canvas.height = Math.ceil((3 * video.videoWidth) / 40) + 2;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const samples: number[] = [];
      const end = performance.now() + ms;
      await new Promise<void>((resolve) => {
        const onFrame = (_now: number, meta: { expectedDisplayTime: number }) => {
          ctx.drawImage(
            video,
            0,
            0,
            video.videoWidth,
            canvas.height,
            0,
            0,
            canvas.width,
            canvas.height,
          );
          const code = decodePixelCode(
            ctx.getImageData(0, 0, canvas.width, canvas.height).data,
            canvas.width,
            canvas.height,
            4,
          );
          // Same clock as the server's capture time: both are the machine's wall clock.
          if (code)
            samples.push(performance.timeOrigin + meta.expectedDisplayTime - code.timestampMs);
          if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
          else resolve();
        };
        video.requestVideoFrameCallback(onFrame);
      });
      return samples;
    }, seconds * 1000);
  } finally {
    await browser.close();
    await server.stop();
  }
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Benchmarks WebRTC at 1280x720 30 fps: encoder fps, latency in Chromium, CPU per viewer count. */
export async function benchWebrtc(runs: number, seconds: number): Promise<void> {
  const encoderRows: string[][] = [];
  for (const codec of ['VP8', 'H264'] as const) {
    const fps: number[] = [];
    for (let r = 0; r < runs; r++) fps.push(await encoderFps(codec, seconds));
    encoderRows.push([
      codec,
      fmt(median(fps)),
      `${fmt(Math.min(...fps))}–${fmt(Math.max(...fps))}`,
    ]);
  }
  printTable(
    `WebRTC encoder, ${WIDTH}x${HEIGHT} mock frames, one thread, median of ${runs} runs of ${seconds} s`,
    ['codec', 'fps', 'range'],
    encoderRows,
  );

  const latencies: number[] = [];
  for (let r = 0; r < runs; r++) latencies.push(...(await glassToGlass(seconds)));
  printTable(
    `WebRTC glass-to-glass latency in headless Chromium (VP8, ${WIDTH}x${HEIGHT} at 30 fps, loopback), ${latencies.length} frames`,
    ['p50 ms', 'p95 ms', 'min ms', 'max ms'],
    [
      [
        fmt(percentile(latencies, 50)),
        fmt(percentile(latencies, 95)),
        fmt(Math.min(...latencies)),
        fmt(Math.max(...latencies)),
      ],
    ],
  );

  const rows: string[][] = [];
  let one = NaN;
  for (const viewers of [1, 5, 20]) {
    const results = [];
    for (let r = 0; r < runs; r++) results.push(await viewersCost(viewers, seconds));
    const cpu = median(results.map((x) => x.cpu));
    if (viewers === 1) one = cpu;
    rows.push([
      String(viewers),
      fmt(median(results.map((x) => x.fps))),
      fmt(cpu),
      fmt(cpu / one, 2),
    ]);
  }
  printTable(
    `WebRTC server CPU, one ${WIDTH}x${HEIGHT} 30 fps VP8 stream, werift viewers on loopback, median of ${runs} runs of ${seconds} s`,
    ['viewers', 'fps per viewer', 'server CPU % of one core', 'CPU vs 1 viewer'],
    rows,
  );
}
