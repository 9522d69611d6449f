import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { getJson, startTestServer, waitFor } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const TWO_CAMERAS_YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 20 }
  Second:
    type: mock
    options: { width: 320, height: 240, fps: 20 }
`;

/** What the page publishes for tests as `window.liveview`. */
interface PageState {
  lastFrame: { frameNumber: number; timestampMs: number; latencyMs: number } | null;
}

interface StreamInfo {
  detectorName: string;
  protocol: string;
  state: string;
  clientCount: number;
}

function lastFrame(page: Page): Promise<PageState['lastFrame']> {
  return page.evaluate(
    () => (window as unknown as { liveview?: PageState }).liveview?.lastFrame ?? null,
  );
}

describe('web page (e2e, headless Chromium)', function () {
  this.timeout(30000);

  let browser: Browser;
  let context: BrowserContext | undefined;
  let server: LiveViewServer | undefined;
  let page: Page;
  let pageErrors: string[];

  async function cameraStreams(): Promise<StreamInfo[]> {
    const { json } = await getJson(`${server!.url}/liveview/getActiveStreams`);
    return (json.streams as StreamInfo[]).filter(
      (s) => s.detectorName === 'Camera' && s.protocol === 'mjpeg',
    );
  }

  /** Opens the page and waits until it has listed the detectors. */
  async function openPage(): Promise<void> {
    await page.goto(`${server!.url}/`);
    await page.waitForFunction(
      () => document.querySelectorAll('#detector-select option').length > 0,
    );
  }

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    server = await startTestServer(TWO_CAMERAS_YAML);
    context = await browser.newContext();
    page = await context.newPage();
    // Well below the suite timeout, so a missing element fails with Playwright's own message.
    page.setDefaultTimeout(8000);
    pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
    await server?.stop();
    server = undefined;
  });

  it('lists the detectors and shows a parameter form, without starting a stream', async () => {
    await openPage();

    expect(await page.title()).to.equal('liveview');
    const options = await page.$$eval('#detector-select option', (els) =>
      els.map((e) => (e as HTMLOptionElement).value),
    );
    expect(options).to.deep.equal(['Camera', 'Second']);
    expect(await page.inputValue('#detector-select')).to.equal('Camera');

    for (const name of ['exposure_ms', 'gain']) {
      const input = page.locator(`#parameters input[name="${name}"]`);
      expect(await input.count(), name).to.equal(1);
      expect(await input.getAttribute('type'), name).to.equal('number');
      expect(await input.getAttribute('min'), name).to.match(/^[\d.]+$/);
      expect(await input.getAttribute('max'), name).to.match(/^[\d.]+$/);
    }
    const { json } = await getJson(`${server!.url}/liveview/detectors`);
    const camera = (json.detectors as { name: string; parameters: Record<string, unknown> }[]).find(
      (d) => d.name === 'Camera',
    );
    expect(await page.inputValue('#parameters input[name="gain"]')).to.equal(
      String(camera!.parameters.gain),
    );

    expect(await page.getAttribute('#video', 'src')).to.equal(null);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'stopped');
    expect(await cameraStreams()).to.deep.equal([]);
    expect(await page.isVisible('#error')).to.equal(false);
    expect(pageErrors).to.deep.equal([]);
  });

  it('starts the MJPEG stream, decodes frame numbers and latency, and stops it', async () => {
    await openPage();
    await page.click('#start');

    await page.waitForFunction(
      () => (document.querySelector('#video') as HTMLImageElement).naturalWidth > 0,
    );
    expect(await page.$eval('#video', (img) => (img as HTMLImageElement).naturalWidth)).to.equal(
      320,
    );

    await page.waitForFunction(
      () => (window as unknown as { liveview?: PageState }).liveview?.lastFrame != null,
    );
    const first = (await lastFrame(page))!;
    await page.waitForTimeout(1500);
    const second = await lastFrame(page);
    expect(second, 'pixel code still decoded after 1.5 s').to.not.equal(null);
    expect(second!.frameNumber).to.be.greaterThan(first.frameNumber);
    expect(second!.latencyMs).to.be.a('number');
    expect(second!.latencyMs).to.be.at.least(0);
    expect(second!.latencyMs).to.be.below(2000);
    expect(await page.textContent('#frame-info')).to.equal(
      `frame ${second!.frameNumber} · latency ${second!.latencyMs} ms`,
    );

    const streams = await cameraStreams();
    expect(streams).to.have.length(1);
    expect(streams[0].state).to.equal('running');
    expect(streams[0].clientCount).to.be.at.least(1);
    await page.waitForFunction(() =>
      /^running · \d+ clients? · [\d.]+ fps · \d+ dropped$/.test(
        document.querySelector('#status')?.textContent ?? '',
      ),
    );

    await page.click('#stop');
    await waitFor(async () => (await cameraStreams()).length === 0, 5000);
    expect(await page.getAttribute('#video', 'src')).to.equal(null);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'stopped');
    expect(await page.isVisible('#error')).to.equal(false);
    expect(pageErrors).to.deep.equal([]);
  });

  it("shows the server's message when a parameter is out of range, and keeps serving", async () => {
    await openPage();
    const before = await page.inputValue('#parameters input[name="gain"]');

    await page.fill('#parameters input[name="gain"]', '1000');
    await page.click('#parameters button[type="submit"]');

    await page.waitForFunction(() =>
      (document.querySelector('#error')?.textContent ?? '').includes('gain'),
    );
    expect(await page.isVisible('#error')).to.equal(true);
    const { status } = await getJson(`${server!.url}/health`);
    expect(status).to.equal(200);
    const { json } = await getJson(`${server!.url}/liveview/detectors`);
    const camera = (json.detectors as { name: string; parameters: Record<string, unknown> }[]).find(
      (d) => d.name === 'Camera',
    );
    expect(String(camera!.parameters.gain)).to.equal(before);
    expect(pageErrors).to.deep.equal([]);
  });

  it('applies a valid parameter change to the selected detector', async () => {
    await openPage();
    await page.selectOption('#detector-select', 'Second');
    await page.fill('#parameters input[name="gain"]', '2.5');
    await page.click('#parameters button[type="submit"]');

    const gainOf = async (name: string): Promise<unknown> => {
      const { json } = await getJson(`${server!.url}/liveview/detectors`);
      const detectors = json.detectors as { name: string; parameters: Record<string, unknown> }[];
      return detectors.find((d) => d.name === name)!.parameters.gain;
    };
    await waitFor(async () => (await gainOf('Second')) === 2.5, 5000);
    expect(await gainOf('Camera')).to.not.equal(2.5);
    expect(await page.isVisible('#error')).to.equal(false);
    expect(pageErrors).to.deep.equal([]);
  });
});
