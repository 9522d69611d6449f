import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/server.js';

/** A slow camera: two frames a second, so that waiting for the next frame shows as half a second. */
const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 640, height: 480, fps: 2 }
protocols:
  mjpeg: { throttle_ms: 0 }
`;

/** An `<img>` of the stream polled every 10 ms: `Date.now()` − capture time of each new frame shown. */
function latenciesInImg(page: Page, query: string, frames: number): Promise<number[]> {
  return page.evaluate(
    async ({ query, frames }) => {
      // The page loads the server's copy of the module; only its type comes from here.
      const { decodePixelCode } = (await import(
        '/lib/pixel-code.js' as string
      )) as typeof import('../../src/core/pixel-code.js');
      const img = new Image();
      img.src = `/liveview/mjpeg?detectorName=Camera${query}`;
      document.body.append(img);
      const canvas = document.createElement('canvas');
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const out: number[] = [];
      let last = -1;
      const deadline = performance.now() + 15_000;
      try {
        while (out.length < frames && performance.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
          if (img.naturalWidth === 0) continue;
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          ctx.drawImage(img, 0, 0);
          const code = decodePixelCode(
            ctx.getImageData(0, 0, canvas.width, canvas.height).data,
            canvas.width,
            canvas.height,
            4,
          );
          if (!code || code.frameNumber === last) continue;
          // The first picture may be a frame the stream had before the page connected.
          if (last >= 0) out.push(Date.now() - code.timestampMs);
          last = code.frameNumber;
        }
      } finally {
        img.src = '';
        img.remove();
      }
      return out;
    },
    { query, frames },
  );
}

describe('MJPEG in a browser <img> (e2e, Chromium)', function () {
  this.timeout(60_000);
  let server: LiveViewServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    server = await startTestServer(YAML);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server.url}/api.html`);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows each frame when it arrives, not when the next one does (framing ahead, the default for <img>)', async () => {
    const shown = await latenciesInImg(page, '', 3);
    expect(shown, 'new frames shown').to.have.length(3);
    // A frame comes every 500 ms: a picture held until the next part would be ≥ 500 ms old.
    for (const ms of shown) expect(ms, `latencies ${shown.join(', ')} ms`).to.be.below(250);
  });

  it('with per-part headers (framing=headers) Chromium holds each frame until the next part starts', async () => {
    // The cause the default framing removes, shown on the same camera: the check above can fail.
    const shown = await latenciesInImg(page, '&framing=headers', 2);
    expect(shown, 'new frames shown').to.have.length(2);
    for (const ms of shown) expect(ms, `latencies ${shown.join(', ')} ms`).to.be.at.least(400);
  });
});
