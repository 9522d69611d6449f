import { measureInGlassPage } from './glass-page.js';
import type { ChildServer } from './harness.js';

/** Where the page takes the video from. */
export type RelayPath =
  { kind: 'whep' } | { kind: 'janus'; janusUrl: string; mountpointId: number };

/** What the page measured. */
export interface GlassResult {
  /** `Date.now()` − capture time of each presented frame in the window, ms. */
  latencies: number[];
  /** Frames presented per second in the window. */
  fps: number;
  /** Server CPU over the window, % of one core. */
  cpu: number;
}

interface PageArgs {
  liveview: string;
  path: RelayPath;
  warmupMs: number;
  samples: number;
  maxMs: number;
}

/**
 * Runs in the page: gets the video by WHEP from liveview, or by `watch` from a Janus Streaming
 * mountpoint over the plain Janus HTTP API, then reads each presented frame's pixel code
 * (`requestVideoFrameCallback`) after `warmupMs` until `samples` latencies.
 */
async function measureInPage(a: PageArgs): Promise<Omit<GlassResult, 'cpu'>> {
  // The page loads the harness server's copy of the module; only its type comes from here.
  type Decoder = typeof import('../src/core/pixel-code.js');
  const mark = (window as unknown as { benchMark: (p: string) => Promise<void> }).benchMark;
  const { decodePixelCode, pixelCodeHeight } = (await import(
    `${location.origin}/pixel-code.js` as string
  )) as Decoder;
  const pc = new RTCPeerConnection({ iceServers: [] });
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  pc.addEventListener('track', (e) => {
    if ('jitterBufferTarget' in e.receiver)
      (e.receiver as { jitterBufferTarget: number }).jitterBufferTarget = 0;
    video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
  });
  const gathered = () =>
    new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      else
        pc.addEventListener(
          'icegatheringstatechange',
          () => pc.iceGatheringState === 'complete' && resolve(),
        );
    });
  let cleanup: () => Promise<void>;
  if (a.path.kind === 'whep') {
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered();
    const res = await fetch(`${a.liveview}/liveview/whep/Camera`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription!.sdp,
    });
    if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${await res.text()}`);
    const session = new URL(res.headers.get('Location')!, a.liveview).href;
    cleanup = async () => void (await fetch(session, { method: 'DELETE' }).catch(() => undefined));
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  } else {
    const { janusUrl, mountpointId } = a.path;
    const post = async (path: string, body: Record<string, unknown>) =>
      (await (
        await fetch(`${janusUrl}${path}`, {
          method: 'POST',
          body: JSON.stringify({ ...body, transaction: String(Math.random()) }),
        })
      ).json()) as { data?: { id: number } };
    const session = (await post('', { janus: 'create' })).data!.id;
    const handle = (
      await post(`/${session}`, {
        janus: 'attach',
        plugin: 'janus.plugin.streaming',
      })
    ).data!.id;
    await post(`/${session}/${handle}`, {
      janus: 'message',
      body: { request: 'watch', id: mountpointId },
    });
    let offer: RTCSessionDescriptionInit | undefined;
    while (!offer) {
      const events = (await (
        await fetch(`${janusUrl}/${session}?maxev=5&rid=${Date.now()}`)
      ).json()) as { jsep?: RTCSessionDescriptionInit } | { jsep?: RTCSessionDescriptionInit }[];
      offer = (Array.isArray(events) ? events : [events]).find((e) => e.jsep)?.jsep;
    }
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered();
    await post(`/${session}/${handle}`, {
      janus: 'message',
      body: { request: 'start' },
      jsep: { type: 'answer', sdp: pc.localDescription!.sdp },
    });
    cleanup = async () => void (await post(`/${session}`, { janus: 'destroy' }).catch(() => ({})));
  }

  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const latencies: number[] = [];
  const deadline = performance.now() + a.maxMs;
  let firstAt = NaN;
  let startAt = NaN;
  let presented0 = 0;
  try {
    return await new Promise((resolve, reject) => {
      const watchdog = setInterval(() => {
        if (performance.now() > deadline + 5000) {
          clearInterval(watchdog);
          reject(new Error(`no video frame within ${a.maxMs} ms (ICE ${pc.iceConnectionState})`));
        }
      }, 500);
      const onFrame = (now: number, meta: VideoFrameCallbackMetadata): void => {
        const width = video.videoWidth;
        const h = pixelCodeHeight(width);
        if (canvas.width !== width || canvas.height !== h) {
          canvas.width = width;
          canvas.height = h;
        }
        ctx.drawImage(video, 0, 0, width, h, 0, 0, width, h);
        const code = decodePixelCode(ctx.getImageData(0, 0, width, h).data, width, h, 4);
        if (Number.isNaN(firstAt)) firstAt = now;
        const next = async (): Promise<boolean> => {
          if (Number.isNaN(startAt)) {
            if (now - firstAt < a.warmupMs) return false;
            startAt = now;
            presented0 = meta.presentedFrames;
            await mark('start');
          }
          if (code) latencies.push(Date.now() - code.timestampMs);
          return latencies.length >= a.samples || now > deadline;
        };
        void next().then((done) => {
          if (!done) {
            video.requestVideoFrameCallback(onFrame);
            return;
          }
          clearInterval(watchdog);
          void mark('end').then(() =>
            resolve({
              latencies,
              fps: (meta.presentedFrames - presented0) / ((now - startAt) / 1000),
            }),
          );
        }, reject);
      };
      video.requestVideoFrameCallback(onFrame);
    });
  } finally {
    pc.close();
    video.remove();
    await cleanup();
  }
}

/**
 * One glass-to-glass measurement in headless Chromium, as bench/glass-to-glass.ts takes it
 * (`Date.now()` − capture time of each presented frame): liveview runs from `yaml` in a child
 * process; `path` says where the page takes the video from.
 */
export function measureGlass(
  yaml: string,
  path: RelayPath,
  samples: number,
  warmupMs: number,
  ready?: (server: ChildServer) => Promise<void>,
): Promise<GlassResult> {
  return measureInGlassPage(
    yaml,
    { title: `relay glass-to-glass ${path.kind}`, samples, warmupMs, ready },
    (page, server, maxMs) =>
      page.evaluate(measureInPage, { liveview: server.url, path, warmupMs, samples, maxMs }),
  );
}
