import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer, waitFor } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 640, height: 360, fps: 30 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`;

/**
 * The design note's browser snippet, wrapped to take the server URL and hand `pc` back. One line
 * is added: as printed, the snippet creates its offer with no transceiver, i.e. with no media
 * section at all, so no server can answer it with video (and ICE gathering never completes).
 */
const NOTE_SNIPPET = `async (serverUrl) => {
// Create peer connection
const pc = new RTCPeerConnection({
    iceServers: [{urls: ['stun:stun.l.google.com:19302']}]
});

pc.addTransceiver('video', {direction: 'recvonly'}); // the one added line

// Handle incoming video track
pc.addEventListener('track', (evt) => {
    if (evt.track.kind === 'video') {
        document.getElementById('video').srcObject = evt.streams[0];
    }
});

// Create and send offer
const offer = await pc.createOffer();
await pc.setLocalDescription(offer);

// Wait for ICE gathering
await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    else pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve();
    });
});

// Send to server
const response = await fetch(serverUrl + '/liveview/webrtc_offer', {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({
        detectorName: "Camera",
        sdp: pc.localDescription.sdp,
        type: pc.localDescription.type
    })
});

const answer = await response.json();

// Set remote description
await pc.setRemoteDescription(new RTCSessionDescription({
    sdp: answer.sdp,
    type: answer.type
}));
window.pc = pc;
}`;

describe('WebRTC in headless Chromium (e2e)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let context: BrowserContext;
  let server: LiveViewServer;
  let page: Page;
  let pageErrors: string[];

  const framesDecoded = (p: Page) =>
    p.evaluate(async () => {
      const pc = (window as unknown as { pc?: RTCPeerConnection }).pc;
      if (!pc) return 0;
      let n = 0;
      (await pc.getStats()).forEach(
        (s: { type: string; kind?: string; framesDecoded?: number }) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesDecoded ?? 0;
        },
      );
      return n;
    });

  before(async () => {
    browser = await launchChromium();
  });
  beforeEach(async () => {
    server = await startTestServer(YAML);
    context = await browser.newContext();
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterEach(async () => {
    await context?.close();
    await server?.stop();
    expect(pageErrors).to.deep.equal([]);
  });
  after(async () => {
    await browser?.close();
  });

  it("the design note's snippet connects and framesDecoded grows", async () => {
    await page.goto(`${server.url}/webrtc_stream.html`);
    await page.evaluate(`(${NOTE_SNIPPET})(${JSON.stringify(server.url)})`);
    await waitFor(async () => (await framesDecoded(page)) > 30, 20_000);
  });

  it('webrtc_stream.html starts a stream whose video pixels carry the mock frame code', async () => {
    await page.goto(`${server.url}/webrtc_stream.html?detector=Camera`);
    await page.click('#start');
    await page.waitForFunction(() => {
      const v = document.getElementById('video') as HTMLVideoElement;
      return v.readyState >= 2 && v.videoWidth > 0;
    });
    // Read a few frames back from the <video> through a canvas, as a viewer would see them.
    const codes = await page.evaluate(async () => {
      const { decodePixelCode } = (await import('/lib/pixel-code.js' as string)) as {
        decodePixelCode: (
          d: Uint8ClampedArray,
          w: number,
          h: number,
          c: number,
        ) => { frameNumber: number; timestampMs: number } | null;
      };
      const video = document.getElementById('video') as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const out: { frameNumber: number; latencyMs: number }[] = [];
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ctx.drawImage(video, 0, 0);
        const code = decodePixelCode(
          ctx.getImageData(0, 0, canvas.width, canvas.height).data,
          canvas.width,
          canvas.height,
          4,
        );
        if (code)
          out.push({ frameNumber: code.frameNumber, latencyMs: Date.now() - code.timestampMs });
      }
      return { codes: out, width: canvas.width, height: canvas.height };
    });
    expect(codes.width).to.equal(640);
    expect(codes.height).to.equal(360);
    expect(codes.codes.length, 'frames with a readable code').to.be.greaterThan(7);
    const numbers = codes.codes.map((c) => c.frameNumber);
    expect(numbers[numbers.length - 1]).to.be.greaterThan(numbers[0]);
    for (const c of codes.codes) expect(c.latencyMs).to.be.within(0, 1000);
    expect(await page.textContent('#status')).to.equal('connected');
  });

  it('a WHEP client in the page plays, and DELETE ends the session', async () => {
    await page.goto(`${server.url}/webrtc_stream.html`);
    const location = await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      (window as unknown as { pc: RTCPeerConnection }).pc = pc;
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        else
          pc.addEventListener('icegatheringstatechange', () => {
            if (pc.iceGatheringState === 'complete') resolve();
          });
      });
      const res = await fetch('/liveview/whep/Camera', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
      if (res.status !== 201) throw new Error(`WHEP POST answered ${res.status}`);
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      return res.headers.get('Location');
    });
    expect(location).to.match(/^\/liveview\/whep\/Camera\/[0-9a-f-]{36}$/);
    await waitFor(async () => (await framesDecoded(page)) > 30, 20_000);
    const status = await page.evaluate(
      async (url) => (await fetch(url, { method: 'DELETE' })).status,
      location!,
    );
    expect(status).to.equal(200);
    await waitFor(async () => {
      const worker = server.controller.findStream('Camera', 'webrtc');
      return !worker || worker.sessions.size === 0;
    }, 5000);
  });
});
