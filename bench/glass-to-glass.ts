import { measureInGlassPage } from './glass-page.js';
import { envNumber, loadLine, percentile, reason, streamStatus, WEBRTC_CODEC } from './harness.js';
import { fmt, median, printTable } from './stats.js';

/** MJPEG's throttle_ms in the glass bench: `BENCH_MJPEG_THROTTLE_MS` (default 0, the camera's rate; 50 is the protocol's default). */
const MJPEG_THROTTLE_MS = envNumber('BENCH_MJPEG_THROTTLE_MS', 0);

/** How the browser gets the picture. */
type Path = 'whep' | 'offer' | 'mjpeg';

const PATHS: { path: Path; label: string }[] = [
  { path: 'whep', label: `WebRTC ${WEBRTC_CODEC}, WHEP (as web/views/webrtc.js)` },
  { path: 'offer', label: `WebRTC ${WEBRTC_CODEC}, seed webrtc_offer (as webrtc_stream.html)` },
  { path: 'mjpeg', label: `MJPEG, <img> drawn at 100 Hz, throttle_ms ${MJPEG_THROTTLE_MS}` },
];

/** The camera of the measurement; MJPEG unthrottled unless asked, so that it runs at the camera's rate. */
const CAMERA = `detectors:
  Camera:
    type: mock
    options: { width: 1280, height: 720, fps: 30, pattern: noise }
protocols:
  webrtc: { codec: ${WEBRTC_CODEC}, ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
  mjpeg: { throttle_ms: ${MJPEG_THROTTLE_MS} }
`;

/** What the page measured in one run. */
interface PageResult {
  /** `Date.now()` − capture time of each frame seen in the window, ms. */
  latencies: number[];
  /** Frames presented (WebRTC: rVFC presentedFrames; MJPEG: new frame numbers) per second in the window. */
  fps: number;
  /** Frame numbers missing between the first and the last seen in the window, % of that span. */
  lostPercent: number;
  /** Frames whose pixel code did not decode. */
  undecoded: number;
  /** False when the time limit ended the window before enough samples. */
  complete: boolean;
}

/** One run's figures. */
interface RunResult extends PageResult {
  /** Server CPU over the page's window, % of one core. */
  cpu: number;
  /** The server's own p50 of capture → handed to the client (getActiveStreams `latencyMs.total`), ms. */
  serverP50: number;
  /** The server's p50 per stage at the window's end, for the notes. */
  stages: string;
}

interface PageArgs {
  url: string;
  path: Path;
  warmupMs: number;
  samples: number;
  maxMs: number;
}

/**
 * Runs in the page: connects (WHEP, seed offer or MJPEG), reads every presented frame's pixel
 * code into a canvas, discards `warmupMs` after the first frame, then collects `samples`
 * latencies (`Date.now()` − capture time). Calls `benchMark('start'|'end')` around the window.
 */
async function measureInPage(a: PageArgs): Promise<PageResult> {
  // The page loads the harness server's copy of the module; only its type comes from here.
  type Decoder = typeof import('../src/core/pixel-code.js');
  const mark = (window as unknown as { benchMark: (p: string) => Promise<void> }).benchMark;
  const { decodePixelCode, pixelCodeHeight } = (await import(
    `${location.origin}/pixel-code.js` as string
  )) as Decoder;
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const read = (source: CanvasImageSource, width: number) => {
    const h = pixelCodeHeight(width);
    if (canvas.width !== width || canvas.height !== h) {
      canvas.width = width;
      canvas.height = h;
    }
    ctx.drawImage(source, 0, 0, width, h, 0, 0, width, h);
    return decodePixelCode(ctx.getImageData(0, 0, width, h).data, width, h, 4);
  };

  const latencies: number[] = [];
  const seen = new Set<number>();
  let undecoded = 0;
  let firstFrameAt = NaN;
  let windowStart = NaN;
  let started = false;
  const deadline = performance.now() + a.maxMs;
  // Called for each picture shown; returns true when the window is over.
  const onPicture = async (
    code: { frameNumber: number; timestampMs: number } | null,
    now: number,
  ): Promise<boolean> => {
    if (Number.isNaN(firstFrameAt)) firstFrameAt = now;
    if (!started) {
      if (now - firstFrameAt < a.warmupMs) return false;
      started = true;
      windowStart = now;
      await mark('start');
    }
    if (code) {
      latencies.push(Date.now() - code.timestampMs);
      seen.add(code.frameNumber);
    } else undecoded++;
    return latencies.length >= a.samples || now > deadline;
  };
  const summary = (presented: number, end: number): PageResult => {
    const numbers = [...seen];
    const span = numbers.length ? Math.max(...numbers) - Math.min(...numbers) + 1 : 0;
    return {
      latencies,
      fps: presented / ((end - windowStart) / 1000),
      lostPercent: span ? ((span - numbers.length) / span) * 100 : NaN,
      undecoded,
      complete: latencies.length >= a.samples,
    };
  };

  if (a.path === 'mjpeg') {
    const img = new Image();
    img.crossOrigin = 'anonymous';
    img.src = `${a.url}/liveview/mjpeg?detectorName=Camera`;
    document.body.append(img);
    let last = -1;
    let presented = 0;
    try {
      return await new Promise<PageResult>((resolve, reject) => {
        let busy = false;
        const timer = setInterval(() => {
          if (busy) return;
          const now = performance.now();
          if (now > deadline + 5000) {
            clearInterval(timer);
            reject(new Error(`no MJPEG picture within ${a.maxMs} ms`));
            return;
          }
          // A multipart <img> is never `complete`; its size shows that a part was decoded.
          if (img.naturalWidth === 0) return;
          let code;
          try {
            code = read(img, img.naturalWidth);
          } catch (err) {
            clearInterval(timer);
            reject(err);
            return;
          }
          if (!code) {
            if (started) undecoded++;
            return;
          }
          // One sample per new frame, at the first time it is seen.
          if (code.frameNumber === last) return;
          last = code.frameNumber;
          if (started) presented++;
          busy = true;
          void onPicture(code, now).then((done) => {
            busy = false;
            if (!done) return;
            clearInterval(timer);
            void mark('end').then(() => resolve(summary(presented, now)));
          }, reject);
        }, 10);
      });
    } finally {
      img.src = '';
      img.remove();
    }
  }

  const pc = new RTCPeerConnection({ iceServers: [] });
  let session: string | null = null;
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  try {
    pc.addTransceiver('video', { direction: 'recvonly' });
    // The app's WHEP view opens the metadata channel and asks for no jitter buffer; the seed page does neither.
    if (a.path === 'whep') pc.createDataChannel('metadata');
    pc.addEventListener('track', (e) => {
      if (a.path === 'whep' && 'jitterBufferTarget' in e.receiver)
        (e.receiver as { jitterBufferTarget: number }).jitterBufferTarget = 0;
      video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      else
        pc.addEventListener(
          'icegatheringstatechange',
          () => pc.iceGatheringState === 'complete' && resolve(),
        );
    });
    let answer: string;
    if (a.path === 'whep') {
      const res = await fetch(`${a.url}/liveview/whep/Camera`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
      if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${await res.text()}`);
      const location = res.headers.get('Location');
      session = location ? new URL(location, a.url).href : null;
      answer = await res.text();
    } else {
      const res = await fetch(`${a.url}/liveview/webrtc_offer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          detectorName: 'Camera',
          sdp: pc.localDescription!.sdp,
          type: 'offer',
        }),
      });
      const body = (await res.json()) as { sdp?: string; message?: string };
      if (!body.sdp) throw new Error(`webrtc_offer answered ${res.status}: ${body.message}`);
      answer = body.sdp;
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    return await new Promise<PageResult>((resolve, reject) => {
      let presented0 = 0;
      const watchdog = setInterval(() => {
        if (performance.now() > deadline + 5000) {
          clearInterval(watchdog);
          reject(new Error(`no video frame within ${a.maxMs} ms (ICE ${pc.iceConnectionState})`));
        }
      }, 500);
      const onFrame = (now: number, meta: VideoFrameCallbackMetadata): void => {
        let code;
        try {
          code = read(video, video.videoWidth);
        } catch (err) {
          clearInterval(watchdog);
          reject(err);
          return;
        }
        const wasStarted = started;
        void onPicture(code, now).then((done) => {
          if (!wasStarted && started) presented0 = meta.presentedFrames;
          if (!done) {
            video.requestVideoFrameCallback(onFrame);
            return;
          }
          clearInterval(watchdog);
          void mark('end').then(() => resolve(summary(meta.presentedFrames - presented0, now)));
        }, reject);
      };
      video.requestVideoFrameCallback(onFrame);
    });
  } finally {
    pc.close();
    video.srcObject = null;
    video.remove();
    if (session) await fetch(session, { method: 'DELETE' }).catch(() => undefined);
  }
}

/** One measurement of one path: its own server (child process), browser and page. */
async function measure(path: Path, samples: number, warmupMs: number): Promise<RunResult> {
  let stages: Record<string, { p50: number }> = {};
  const result = await measureInGlassPage(
    CAMERA,
    {
      title: `glass-to-glass ${path}`,
      samples,
      warmupMs,
      atEnd: async (server) => {
        const protocol = path === 'mjpeg' ? 'mjpeg' : 'webrtc';
        stages = (await streamStatus(server.url, protocol))?.latencyMs ?? {};
      },
    },
    (page, server, maxMs) =>
      page.evaluate(measureInPage, { url: server.url, path, warmupMs, samples, maxMs }),
  );
  const stageLine = Object.entries(stages)
    .map(([stage, p]) => `${stage} ${fmt(p.p50)}`)
    .join(', ');
  return { ...result, serverP50: stages.total?.p50 ?? NaN, stages: stageLine };
}

/**
 * Glass-to-glass latency as a user sees it: headless Chromium reads each presented frame
 * (`requestVideoFrameCallback`, or an MJPEG `<img>` drawn at 100 Hz) into a canvas, decodes the
 * pixel code and takes `Date.now()` − capture time; medians of `runs` runs, server CPU from /proc.
 */
export async function benchGlassToGlass(runs: number): Promise<void> {
  const samples = envNumber('BENCH_SAMPLES', 300);
  const warmupMs = envNumber('BENCH_WARMUP_MS', 2000);
  const before = loadLine('at start');
  const rows: string[][] = [];
  const notes: string[] = [];
  const only = process.env.BENCH_GLASS_PATHS?.split(',');
  for (const { path, label } of PATHS.filter((p) => !only || only.includes(p.path))) {
    const results: RunResult[] = [];
    for (let r = 0; r < runs; r++) {
      try {
        const result = await measure(path, samples, warmupMs);
        if (!result.complete)
          notes.push(`${path} run ${r + 1}: only ${result.latencies.length} samples in time`);
        if (result.undecoded > 0)
          notes.push(`${path} run ${r + 1}: ${result.undecoded} frames without a readable code`);
        results.push(result);
        notes.push(`${path} run ${r + 1}, server p50 ms per stage: ${result.stages}`);
      } catch (err) {
        notes.push(`${path} run ${r + 1} failed: ${reason(err)}`);
      }
    }
    const m = (f: (x: RunResult) => number): number => median(results.map(f));
    rows.push([
      label,
      `${results.length}/${runs}`,
      String(results.reduce((n, x) => n + x.latencies.length, 0)),
      fmt(m((x) => percentile(x.latencies, 50))),
      fmt(m((x) => percentile(x.latencies, 95))),
      fmt(m((x) => percentile(x.latencies, 99))),
      fmt(m((x) => x.serverP50)),
      fmt(m((x) => x.fps)),
      fmt(m((x) => x.lostPercent)),
      fmt(m((x) => x.cpu)),
    ]);
  }
  printTable(
    `Glass-to-glass in headless Chromium: mock 1280x720 uint16 at 30 fps, pattern noise, loopback; ` +
      `Date.now() − capture time per presented frame, ${samples} samples after ${warmupMs / 1000} s warm-up; median of ${runs} runs`,
    [
      'path',
      'runs ok',
      'samples',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'server p50 ms',
      'presented fps',
      'lost frames %',
      'server CPU % of a core',
    ],
    rows,
  );
  console.log(
    `\n${before}; ${loadLine('at end')} (${(await import('node:os')).cpus().length} cores)`,
  );
  for (const n of notes) console.log(`- ${n}`);
}
