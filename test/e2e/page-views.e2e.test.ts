import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { Scene } from '../../src/plugins/mock/index.js';
import { launchChromium } from '../helpers/browser.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 20, dtype: uint16, bit_depth: 12, pattern: gradient, noise: 0 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`;

/** The camera's pixels: a time-independent gradient (only the pixel-code rows at the top differ). */
const EXPECTED = new Scene({
  width: 320,
  height: 240,
  channels: 1,
  dtype: 'uint16',
  bitDepth: 12,
  pattern: 'gradient',
  seed: 1,
}).render(0, { exposureMs: 10, gain: 1, noisePercent: 0 });
const PROBES: [number, number][] = [
  [10, 100],
  [300, 200],
  [160, 239],
  [0, 60],
];

interface BinaryState {
  frames: number;
  lastFrame: {
    frameNumber: number;
    width: number;
    height: number;
    bitDepth: number;
    dtype: string;
    compression: string;
  } | null;
}

describe('page views: binary and WebRTC (e2e, headless Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let context: BrowserContext;
  let server: LiveViewServer;
  let page: Page;
  let pageErrors: string[];

  const binaryState = () =>
    page.evaluate(
      () =>
        (window as unknown as { liveview: { binary: BinaryState } }).liveview.binary.lastFrame && {
          frames: (window as unknown as { liveview: { binary: BinaryState } }).liveview.binary
            .frames,
          lastFrame: (window as unknown as { liveview: { binary: BinaryState } }).liveview.binary
            .lastFrame,
        },
    );
  const valueAt = (x: number, y: number) =>
    page.evaluate(
      ([px, py]) =>
        (
          window as unknown as {
            liveview: { binary: { valueAt: (x: number, y: number) => number } };
          }
        ).liveview.binary.valueAt(px, py),
      [x, y],
    );
  const streams = async () =>
    (await getJson(`${server.url}/liveview/getActiveStreams`)).json.streams as {
      protocol: string;
      clientCount: number;
      framesSent: number;
    }[];
  const startWith = async (protocol: string) => {
    await page.goto(server.url);
    await page.selectOption('#protocol-select', protocol);
    await page.click('#start');
  };

  before(async () => {
    browser = await launchChromium();
  });
  beforeEach(async () => {
    server = await startTestServer(YAML);
    context = await browser.newContext();
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  });
  afterEach(async () => {
    await context?.close();
    await server?.stop();
    expect(pageErrors).to.deep.equal([]);
  });
  after(async () => {
    await browser?.close();
  });

  for (const compression of ['lz4', 'zstd', 'none']) {
    it(`binary (${compression}): 16-bit frames arrive, are acknowledged, and the values are bit-exact`, async () => {
      await postJson(`${server.url}/liveview/setStreamParams`, {
        protocol: 'binary',
        params: { compression },
      });
      await startWith('binary');
      await waitFor(async () => ((await binaryState())?.frames ?? 0) >= 3, 10_000);
      const first = (await binaryState())!;
      expect(first.lastFrame).to.include({
        width: 320,
        height: 240,
        bitDepth: 12,
        dtype: 'uint16',
        compression,
      });
      for (const [x, y] of PROBES)
        expect(await valueAt(x, y), `pixel ${x},${y}`).to.equal(EXPECTED[y * 320 + x]);
      // With 3 credits and no acknowledgements the stream would stop at 3 frames.
      await waitFor(async () => ((await binaryState())?.frames ?? 0) >= first.frames + 10, 10_000);
      const later = (await binaryState())!;
      expect(later.lastFrame!.frameNumber).to.be.greaterThan(first.lastFrame!.frameNumber);
      const binary = (await streams()).find((s) => s.protocol === 'binary');
      expect(binary?.clientCount).to.equal(1);
      expect(await page.isVisible('#binary-canvas')).to.equal(true);
      expect(await page.isVisible('#video')).to.equal(false);
    });
  }

  it('binary: hovering the canvas shows the raw value under the cursor; Stop closes the socket', async () => {
    await startWith('binary');
    await waitFor(async () => ((await binaryState())?.frames ?? 0) >= 2, 10_000);
    const box = (await page.locator('#binary-canvas').boundingBox())!;
    const [x, y] = [300, 200];
    await page.mouse.move(
      box.x + ((x + 0.5) / 320) * box.width,
      box.y + ((y + 0.5) / 240) * box.height,
    );
    await page.waitForFunction(() => document.getElementById('pixel-value')!.textContent !== '');
    expect(await page.textContent('#pixel-value')).to.equal(`${x}, ${y}: ${EXPECTED[y * 320 + x]}`);
    expect(await page.textContent('#window-max-value')).to.equal('4095');
    await page.click('#stop');
    await waitFor(async () => !(await streams()).some((s) => s.protocol === 'binary'), 5000);
  });

  it('WebRTC: plays, shows getStats figures and the latency from the pixel code', async () => {
    await startWith('webrtc');
    await page.waitForFunction(
      () =>
        ((window as unknown as { liveview: { webrtc: { framesDecoded: number } } }).liveview.webrtc
          .framesDecoded ?? 0) > 20,
      undefined,
      { timeout: 20_000 },
    );
    await page.waitForFunction(() =>
      /fps · \d+ kbit\/s · decode [\d.]+ ms · round trip/.test(
        document.getElementById('webrtc-stats')!.textContent ?? '',
      ),
    );
    await page.waitForFunction(() =>
      /frame \d+ · latency \d+ ms/.test(document.getElementById('frame-info')!.textContent ?? ''),
    );
    const frame = await page.evaluate(
      () =>
        (window as unknown as { liveview: { lastFrame: { latencyMs: number } } }).liveview
          .lastFrame,
    );
    expect(frame.latencyMs).to.be.within(0, 1000);
    expect(await page.isVisible('#webrtc-video')).to.equal(true);
    await page.click('#stop');
    await waitFor(async () => !(await streams()).some((s) => s.protocol === 'webrtc'), 5000);
  });
});
