import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { launchChromium } from '../helpers/browser.js';
import { decodeVideo, probeVideo, videoContext, videoFormat } from '../helpers/recording-video.js';
import { startTestServer, waitFor } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  webrtc: { keyframe_interval_ms: 1000 }
`;

const PIXEL_CODE_JS = fileURLToPath(new URL('../../src/core/pixel-code.js', import.meta.url));

/**
 * A loopback HTTP server for the page, the pixel-code module and the recorded files (one origin,
 * so a video frame drawn into a canvas can be read back), with byte ranges as players ask.
 */
function fileServer(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    if (name === '') {
      res.setHeader('Content-Type', 'text/html');
      res.end('<!doctype html><title>recording</title><body></body>');
      return;
    }
    const path = name === 'pixel-code.js' ? PIXEL_CODE_JS : join(dir, basename(name));
    const type = name.endsWith('.js')
      ? 'text/javascript'
      : name.endsWith('.mp4')
        ? 'video/mp4'
        : 'video/webm';
    stat(path).then(
      ({ size }) => {
        res.setHeader('Content-Type', type);
        res.setHeader('Accept-Ranges', 'bytes');
        const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
        let start = 0;
        let end = size - 1;
        if (range) {
          start = Number(range[1]);
          end = range[2] ? Math.min(Number(range[2]), end) : end;
          res.statusCode = 206;
          res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
        }
        res.setHeader('Content-Length', end - start + 1);
        createReadStream(path, { start, end }).pipe(res);
      },
      () => {
        res.statusCode = 404;
        res.end();
      },
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** What the page saw of a file: frames played, and the pixel codes at the times it was sought to. */
interface Played {
  error: string | null;
  framesPlayed: number;
  playedCodes: (number | null)[];
  soughtCodes: (number | null)[];
}

/** Plays `src` in a `<video>`, reads the pixel code of frames as they are shown, then seeks to `times`. */
function playInPage(page: Page, src: string, times: number[]): Promise<Played> {
  return page.evaluate(
    async ({ src, times }) => {
      const { decodePixelCode } = (await import('/pixel-code.js' as string)) as {
        decodePixelCode: (
          d: Uint8ClampedArray,
          w: number,
          h: number,
          c: number,
        ) => { frameNumber: number } | null;
      };
      const video = document.createElement('video');
      video.muted = true;
      video.src = src;
      document.body.appendChild(video);
      await new Promise<void>((resolve, reject) => {
        video.onloadeddata = () => resolve();
        video.onerror = () => reject(new Error(video.error?.message ?? 'video error'));
      });
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const code = () => {
        ctx.drawImage(video, 0, 0);
        const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
        return decodePixelCode(image.data, canvas.width, canvas.height, 4)?.frameNumber ?? null;
      };
      const playedCodes: (number | null)[] = [];
      const onFrame = () => {
        playedCodes.push(code());
        if (!video.ended) video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
      await video.play();
      await new Promise<void>((resolve) => {
        video.onended = () => resolve();
        setTimeout(resolve, 3000);
      });
      video.pause();
      const soughtCodes: (number | null)[] = [];
      for (const t of times) {
        // The sought frame is presented around `seeked`: wait for both (the frame at most 1 s).
        const presented = new Promise<void>((resolve) => {
          video.requestVideoFrameCallback(() => resolve());
          setTimeout(resolve, 1000);
        });
        const seeked = new Promise<void>((resolve) => (video.onseeked = () => resolve()));
        video.currentTime = t;
        await Promise.all([seeked, presented]);
        soughtCodes.push(code());
      }
      return {
        error: video.error?.message ?? null,
        framesPlayed: video.getVideoPlaybackQuality().totalVideoFrames,
        playedCodes,
        soughtCodes,
      };
    },
    { src, times },
  );
}

describe('mp4 and webm recordings play in Chromium (e2e)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: LiveViewServer;
  let files: Server;
  let dir: string;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveview-recording-e2e-'));
    server = await startTestServer(YAML);
    files = await fileServer(dir);
    browser = await launchChromium();
    page = await browser.newPage();
    pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${(files.address() as AddressInfo).port}/`);
  });
  after(async () => {
    await browser?.close();
    files?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const format of ['mp4', 'webm'] as const) {
    it(`${format}: <video> plays it, and a decoded frame's pixel code is the recorded frame's`, async () => {
      const path = join(dir, `played.${format}`);
      const sink = await videoFormat(server, format).start(videoContext(path));
      await waitFor(() => sink.stats.framesWritten >= 60, 10_000);
      await sink.stop();
      await sink.ended;
      const probed = await probeVideo(path);
      const recorded = (await decodeVideo(path, probed.width, probed.height)).codes.map(
        (c) => c!.frameNumber,
      );
      // Halfway between two frames' presentation times: the earlier one is on screen.
      const picks = [3, Math.floor(recorded.length / 2), recorded.length - 3];
      const times = picks.map((i) => (probed.pts[i] + probed.pts[i + 1]) / 2 - probed.pts[0]);
      const played = await playInPage(page, basename(path), times);

      expect(played.error).to.equal(null);
      expect(played.framesPlayed).to.be.greaterThan(20);
      const readable = played.playedCodes.filter((c): c is number => c !== null);
      expect(readable.length).to.be.greaterThan(20);
      expect(
        readable.every((n) => recorded.includes(n)),
        'every frame shown is a recorded frame',
      ).to.equal(true);
      expect(played.soughtCodes).to.deep.equal(picks.map((i) => recorded[i]));
      expect(pageErrors).to.deep.equal([]);
    });
  }
});
