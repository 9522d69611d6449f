import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 640, height: 360, fps: 30 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`;

describe("ImSwitch's webrtc_offer in headless Chromium (e2e)", function () {
  this.timeout(60_000);
  let browser: Browser;
  let context: BrowserContext;
  let server: LiveViewServer;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    browser = await launchChromium();
    server = await startTestServer(YAML);
    context = await browser.newContext();
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  after(async () => {
    await context?.close();
    await server?.stop();
    await browser?.close();
  });

  it("plays what ImSwitch's web app posts ({sdp, sdp_type, detectorName, params}); frame numbers grow", async () => {
    await page.goto(`${server.url}/webrtc_stream.html`);
    // What ImSwitch's WebRTCViewer does: a recvonly video transceiver, the offer after ICE
    // gathering (500 ms at most on a local connection), its body, the answer as the remote side.
    const result = await page.evaluate(async (apiBase) => {
      const pc = new RTCPeerConnection({ iceServers: [] });
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
      document.body.append(video);
      pc.addEventListener('track', (e) => {
        video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
      });
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        const timer = setTimeout(resolve, 500);
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState !== 'complete') return;
          clearTimeout(timer);
          resolve();
        });
      });
      const response = await fetch(`${apiBase}/LiveViewController/webrtc_offer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          sdp: pc.localDescription!.sdp,
          sdp_type: pc.localDescription!.type,
          detectorName: 'Camera',
          params: { throttle_ms: 33, subsampling_factor: 1, max_width: 1280 },
        }),
      });
      const answer = (await response.json()) as { status: string; sdp: string; type: RTCSdpType };
      if (answer.status === 'error') throw new Error(JSON.stringify(answer));
      await pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
      (window as unknown as { imswitchVideo: HTMLVideoElement }).imswitchVideo = video;
      return { status: response.status, answerStatus: answer.status, type: answer.type };
    }, `${server.url}/imswitch/api`);
    expect(result).to.deep.equal({ status: 200, answerStatus: 'success', type: 'answer' });

    await page.waitForFunction(
      () => {
        const v = (window as unknown as { imswitchVideo: HTMLVideoElement }).imswitchVideo;
        return v.readyState >= 2 && v.videoWidth > 0;
      },
      undefined,
      { timeout: 20_000 },
    );
    // Read frames back from the <video> through a canvas, as a viewer sees them.
    const seen = await page.evaluate(async () => {
      const { decodePixelCode } = (await import('/lib/pixel-code.js' as string)) as {
        decodePixelCode: (
          d: Uint8ClampedArray,
          w: number,
          h: number,
          c: number,
        ) => { frameNumber: number } | null;
      };
      const video = (window as unknown as { imswitchVideo: HTMLVideoElement }).imswitchVideo;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const numbers: number[] = [];
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ctx.drawImage(video, 0, 0);
        const code = decodePixelCode(
          ctx.getImageData(0, 0, canvas.width, canvas.height).data,
          canvas.width,
          canvas.height,
          4,
        );
        if (code) numbers.push(code.frameNumber);
      }
      return { numbers, width: canvas.width, height: canvas.height };
    });
    expect([seen.width, seen.height]).to.deep.equal([640, 360]);
    expect(seen.numbers.length, 'frames with a readable code').to.be.greaterThan(7);
    expect(seen.numbers[seen.numbers.length - 1]).to.be.greaterThan(seen.numbers[0]);
    expect(pageErrors).to.deep.equal([]);
  });
});
